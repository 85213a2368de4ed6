//! The benchmark command on a small dataset: every part runs, and with `--check` every
//! engine run that reads all events as one batch produced the same rows as the
//! hand-written baseline (so the figures compare the same work). No time is asserted.

use std::process::Command;

#[test]
fn every_part_runs_and_the_engine_matches_the_baseline() {
    let data = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_stream-bench"))
        .arg("--data")
        .arg(data.path())
        .args(["--files", "3", "--events-per-file", "20000", "--runs", "1"])
        .args(["--nexmark-events", "20000", "--check"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    for workload in [
        "filter_project",
        "tumbling_count",
        "sliding_avg",
        "dedup",
        "stream_static_join",
    ] {
        // two inputs x two max_files settings, and one in-memory comparison
        let lines: Vec<&str> = stdout.lines().filter(|l| l.starts_with(workload)).collect();
        assert_eq!(lines.len(), 5, "{workload}:\n{stdout}");
        let memory = lines[4];
        assert!(!memory.contains("DIFFERENT"), "{memory}");
    }
    // 60,000 events in each file run (workload, input, max_files, events, ..)
    let file_runs = stdout
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .filter(|f| f.len() > 3 && matches!(f[1], "json" | "parquet") && f[3] == "60000")
        .count();
    assert_eq!(file_runs, 20, "{stdout}");
    assert!(
        stdout.contains("start-up: first batch committed"),
        "{stdout}"
    );
    for q in ["q0", "q1", "q2", "q5", "q7", "q8"] {
        assert!(stdout.lines().any(|l| l.starts_with(q)), "{q}:\n{stdout}");
    }
    // the dataset stays for the next run, and is not generated twice
    let again = Command::new(env!("CARGO_BIN_EXE_stream-bench"))
        .arg("--data")
        .arg(data.path())
        .args(["--files", "3", "--events-per-file", "20000", "--runs", "1"])
        .args([
            "--nexmark-events",
            "0",
            "--skip-files",
            "--workloads",
            "dedup",
        ])
        .output()
        .unwrap();
    let again_out = String::from_utf8_lossy(&again.stdout);
    assert!(again.status.success(), "{again_out}");
    assert!(!again_out.contains("generated"), "{again_out}");
    assert_eq!(data.path().join("json").read_dir().unwrap().count(), 3);
    assert_eq!(data.path().join("parquet").read_dir().unwrap().count(), 3);
}

#[test]
fn a_bad_argument_is_an_error_with_the_usage() {
    let output = Command::new(env!("CARGO_BIN_EXE_stream-bench"))
        .args(["--workloads", "joins"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("unknown `joins`"), "{stderr}");
    assert!(stderr.contains("usage: stream-bench"), "{stderr}");
}
