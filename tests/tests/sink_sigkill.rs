//! A query writing a file sink or a Delta table is killed with SIGKILL in the middle of
//! its run, then restarted on the same checkpoint: the output holds every input row
//! exactly once.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use stream_core::{DeltaSink, FileSink, read_file_sink};
use tests::{canonical_json, land_file, python_read, python_readers, rows_of};

const FILES: usize = 16;
const EVENTS_PER_FILE: usize = 20;

fn event(file: usize, i: usize) -> String {
    let country = ["DE", "US", "JP"][(file + i) % 3];
    format!(
        r#"{{"ts":"2024-01-01T00:{:02}:{:02}.000Z","user":"user_{file:02}_{i:02}","page":"/p","amount":{}.5,"country":"{country}"}}"#,
        file % 60,
        i % 60,
        file * 100 + i
    )
}

fn land_events(dir: &Path) -> Vec<String> {
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

fn child(landing: &Path, checkpoint: &Path, out: &Path, mode: &str, sink: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sink_child"));
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
fn query_id(checkpoint: &Path) -> Option<String> {
    let text = std::fs::read_to_string(checkpoint.join("metadata")).ok()?;
    let value: serde_json::Value = serde_json::from_str(text.lines().nth(1)?).ok()?;
    Some(value["id"].as_str()?.to_string())
}

/// Starts the child, kills it once `committed()` reports at least 3 batches, restarts it
/// to the end; returns the expected rows.
fn kill_and_restart(
    sink: &str,
    out: &Path,
    checkpoint: &Path,
    committed: &dyn Fn() -> Option<u64>,
) -> Vec<String> {
    let landing = tempfile::tempdir().unwrap();
    let expected = land_events(landing.path());
    let mut running = child(landing.path(), checkpoint, out, "continuous", sink)
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
    let finished = child(landing.path(), checkpoint, out, "available_now", sink)
        .output()
        .unwrap();
    assert!(
        finished.status.success(),
        "restart failed: {}",
        String::from_utf8_lossy(&finished.stderr)
    );
    expected
}

#[test]
fn sigkill_mid_run_then_restart_file_sink() {
    let checkpoint = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let expected = kill_and_restart("file", out.path(), checkpoint.path(), &|| {
        FileSink::latest_batch_id(out.path()).ok().flatten()
    });
    assert_eq!(
        FileSink::latest_batch_id(out.path()).unwrap(),
        Some(FILES as u64 - 1)
    );
    assert_eq!(
        rows_of(&read_file_sink(out.path()).unwrap()),
        expected,
        "every input row exactly once"
    );
    if let Some(python) = python_readers("sink_sigkill::file_sink") {
        assert_eq!(
            python_read(&python, "files", out.path(), None).rows,
            expected
        );
    }
}

#[test]
fn sigkill_mid_run_then_restart_delta_sink() {
    let checkpoint = tempfile::tempdir().unwrap();
    let table = tempfile::tempdir().unwrap();
    let expected = kill_and_restart("delta", table.path(), checkpoint.path(), &|| {
        let id = query_id(checkpoint.path())?;
        DeltaSink::committed_batch(table.path(), &id).ok().flatten()
    });
    let id = query_id(checkpoint.path()).unwrap();
    assert_eq!(
        DeltaSink::committed_batch(table.path(), &id).unwrap(),
        Some(FILES as u64 - 1)
    );
    if let Some(python) = python_readers("sink_sigkill::delta_sink") {
        let read = python_read(&python, "delta", table.path(), Some(&id));
        assert_eq!(read.rows, expected, "every input row exactly once");
        assert_eq!(read.txn_version, Some(FILES as i64 - 1));
    }
}
