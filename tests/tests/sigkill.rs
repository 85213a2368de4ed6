//! A query process killed with SIGKILL in the middle of its run, then restarted on the
//! same checkpoint: the output holds every input row exactly once, in contiguous batches.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tests::{canonical_json, land_file};

const FILES: usize = 24;
const EVENTS_PER_FILE: usize = 25;

fn event(file: usize, i: usize) -> String {
    format!(
        r#"{{"ts":"2024-01-01T00:{:02}:{:02}.000Z","user":"user_{file:02}_{i:02}","page":"/p","amount":{}.25,"country":"DE"}}"#,
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

fn batch_files(out: &Path) -> Vec<u64> {
    let mut ids: Vec<u64> = std::fs::read_dir(out)
        .unwrap()
        .filter_map(|e| {
            let name = e.ok()?.file_name().to_string_lossy().into_owned();
            name.strip_prefix("batch-")?
                .strip_suffix(".jsonl")?
                .parse()
                .ok()
        })
        .collect();
    ids.sort_unstable();
    ids
}

fn child(landing: &Path, checkpoint: &Path, out: &Path, mode: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_crash_child"));
    cmd.args([
        landing.as_os_str(),
        checkpoint.as_os_str(),
        out.as_os_str(),
        mode.as_ref(),
    ])
    .stdout(Stdio::null())
    .stderr(Stdio::piped());
    cmd
}

#[test]
fn sigkill_mid_run_then_restart_loses_and_duplicates_nothing() {
    let landing = tempfile::tempdir().unwrap();
    let checkpoint = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let expected = land_events(landing.path());

    let mut running = child(landing.path(), checkpoint.path(), out.path(), "continuous")
        .spawn()
        .unwrap();
    // Wait (bounded) until a few batches are out, then kill it without warning.
    let deadline = Instant::now() + Duration::from_secs(60);
    while batch_files(out.path()).len() < 4 {
        assert!(Instant::now() < deadline, "the child produced no batches");
        assert!(
            running.try_wait().unwrap().is_none(),
            "the child exited early"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    running.kill().unwrap(); // SIGKILL on Unix
    running.wait().unwrap();
    let before = batch_files(out.path()).len();
    assert!(
        before < FILES,
        "killed mid-run, not after the end ({before} batches)"
    );

    let finished = child(
        landing.path(),
        checkpoint.path(),
        out.path(),
        "available_now",
    )
    .output()
    .unwrap();
    assert!(
        finished.status.success(),
        "restart failed: {}",
        String::from_utf8_lossy(&finished.stderr)
    );

    let ids = batch_files(out.path());
    assert_eq!(
        ids,
        (0..FILES as u64).collect::<Vec<_>>(),
        "one batch per file, ids contiguous"
    );
    let mut rows: Vec<String> = ids
        .iter()
        .flat_map(|id| {
            std::fs::read_to_string(out.path().join(format!("batch-{id}.jsonl")))
                .unwrap()
                .lines()
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect();
    rows.sort();
    assert_eq!(rows, expected, "every input row exactly once");
}
