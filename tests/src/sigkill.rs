//! Killing a query process with SIGKILL mid-run and restarting it: the machinery of the
//! sinks' SIGKILL tests (the child binaries are `sink_child` here and `delta_child` in
//! the Delta tests).

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::{canonical_json, land_file};

/// Landing files of a SIGKILL run (one per batch).
pub const FILES: usize = 16;
/// Events in each landing file.
pub const EVENTS_PER_FILE: usize = 20;

fn event(file: usize, i: usize) -> String {
    let country = ["DE", "US", "JP"][(file + i) % 3];
    format!(
        r#"{{"ts":"2024-01-01T00:{:02}:{:02}.000Z","user":"user_{file:02}_{i:02}","page":"/p","amount":{}.5,"country":"{country}"}}"#,
        file % 60,
        i % 60,
        file * 100 + i
    )
}

/// Lands [`FILES`] event files in `dir`; returns their rows as canonical JSON, sorted.
pub fn land_events(dir: &Path) -> Vec<String> {
    let mut all = Vec::new();
    for file in 0..FILES {
        let lines: Vec<String> = (0..EVENTS_PER_FILE).map(|i| event(file, i)).collect();
        land_file(
            dir,
            &format!("events-{file:03}.json"),
            &(lines.join("\n") + "\n"),
            file as u64,
        );
        all.extend(lines.iter().map(|l| canonical_json(l)));
    }
    all.sort();
    all
}

fn child(
    exe: &Path,
    landing: &Path,
    checkpoint: &Path,
    out: &Path,
    mode: &str,
    sink: &str,
) -> Command {
    let mut cmd = Command::new(exe);
    cmd.args([
        landing.as_os_str(),
        checkpoint.as_os_str(),
        out.as_os_str(),
        mode.as_ref(),
        sink.as_ref(),
    ])
    .stdout(Stdio::null())
    .stderr(Stdio::piped());
    cmd
}

/// The query id, from the checkpoint's `metadata` file (`v1` + `{"id": ...}`), once the
/// child has written it.
pub fn query_id(checkpoint: &Path) -> Option<String> {
    let text = std::fs::read_to_string(checkpoint.join("metadata")).ok()?;
    let value: serde_json::Value = serde_json::from_str(text.lines().nth(1)?).ok()?;
    Some(value["id"].as_str()?.to_string())
}

/// Starts the child process `exe` (`<exe> <landing> <checkpoint> <out>
/// <continuous|available_now> <sink>`), kills it with SIGKILL once `committed()` reports
/// at least 3 batches, restarts it to the end; returns the expected rows.
pub fn kill_and_restart(
    exe: &Path,
    sink: &str,
    out: &Path,
    checkpoint: &Path,
    committed: &dyn Fn() -> Option<u64>,
) -> Vec<String> {
    let landing = tempfile::tempdir().unwrap();
    let expected = land_events(landing.path());
    let mut running = child(exe, landing.path(), checkpoint, out, "continuous", sink)
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while committed().is_none_or(|b| b < 2) {
        assert!(Instant::now() < deadline, "the child committed no batches");
        if let Some(status) = running.try_wait().unwrap() {
            let mut stderr = String::new();
            std::io::Read::read_to_string(running.stderr.as_mut().unwrap(), &mut stderr).unwrap();
            panic!("the child exited early ({status}): {stderr}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    running.kill().unwrap(); // SIGKILL on Unix
    running.wait().unwrap();
    let before = committed().unwrap();
    assert!(
        before < FILES as u64 - 1,
        "killed mid-run, not after the end (batch {before})"
    );
    let finished = child(exe, landing.path(), checkpoint, out, "available_now", sink)
        .output()
        .unwrap();
    assert!(
        finished.status.success(),
        "restart failed: {}",
        String::from_utf8_lossy(&finished.stderr)
    );
    expected
}

/// The `main` of a SIGKILL child binary (`<name> <landing> <checkpoint> <out>
/// <continuous|available_now> <sink>`): streams the landing folder's event files, one per
/// batch with a little work in each (so that the parent's kill lands inside a batch),
/// into the sink `make_sink(out)` builds; `sink` must be `sink_kind`. Exits 2 on bad
/// arguments and 1 when the query fails.
pub fn child_main<S: stream_core::Sink + 'static>(
    name: &str,
    sink_kind: &str,
    make_sink: impl FnOnce(std::path::PathBuf) -> S,
) {
    use stream_core::{JsonFileSource, MapPipeline, QueryBuilder, StreamingQuery, Trigger};

    let args: Vec<String> = std::env::args().collect();
    if args.len() != 6 || args[5] != sink_kind {
        eprintln!(
            "usage: {name} <landing> <checkpoint> <out> <continuous|available_now> {sink_kind}"
        );
        std::process::exit(2);
    }
    let trigger = if args[4] == "available_now" {
        Trigger::AvailableNow
    } else {
        Trigger::Default
    };
    let schema = crate::event_schema();
    let pipeline = MapPipeline::new("slow_identity", schema.clone(), schema.clone(), |batch| {
        std::thread::sleep(Duration::from_millis(10));
        Ok(batch.clone())
    });
    let builder: QueryBuilder = StreamingQuery::builder()
        .source(JsonFileSource::new(&args[1], schema).max_files_per_trigger(1))
        .pipeline(pipeline)
        .trigger(trigger)
        .checkpoint_location(&args[2])
        .sink(make_sink(std::path::PathBuf::from(&args[3])));
    let query = builder.start().unwrap_or_else(|e| {
        eprintln!("{name}: {e}");
        std::process::exit(1)
    });
    if let Err(e) = crate::runtime().block_on(query.await_termination()) {
        eprintln!("{name}: {e}");
        std::process::exit(1);
    }
}
