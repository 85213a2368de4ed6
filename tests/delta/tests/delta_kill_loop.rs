//! A short kill loop into Delta ([`delta_tests::kill_loop`]; the `delta_kill_loop`
//! program runs it for longer and prints its figures): a query writing a table with a
//! log checkpoint interval of 4 is killed with SIGKILL at random moments, 24 times,
//! then run to the end of its input. The table has every batch, and every log
//! checkpoint that was due, including the ones a kill left missing.

use std::path::Path;
use std::time::Duration;

use delta_tests::kill_loop::{LoopConfig, event, run};
use tests::{canonical_json, python_read, python_readers};

#[test]
fn a_kill_loop_leaves_every_due_log_checkpoint_and_every_row() {
    let work = tempfile::tempdir().unwrap();
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    let config = LoopConfig {
        cycles: 24,
        files_per_cycle: 2,
        events_per_file: 10,
        checkpoint_interval: 4,
        max_kill_delay: Duration::from_millis(500),
        seed,
    };
    let report = run(
        Path::new(env!("CARGO_BIN_EXE_delta_kill_loop")),
        work.path(),
        &config,
    );
    println!("seed {seed}\n{}", report.figures());
    assert_eq!(report.cycles, 24);
    assert_eq!(
        report.committed_batch,
        Some(report.files as u64 - 1),
        "one batch per file, the last one committed"
    );
    assert_eq!(
        report.table_version, report.files as u64,
        "the create, then one commit per batch"
    );
    assert_eq!(
        report.due,
        (1..=report.files as u64 / 4)
            .map(|k| k * 4)
            .collect::<Vec<_>>()
    );
    let newest = report.newest_due().expect("a checkpoint was due");
    assert!(
        report.present.contains(&newest),
        "the newest due checkpoint is there"
    );
    // an older one could stay missing only if every commit of the next interval were killed
    // between its commit and its checkpoint
    assert_eq!(
        report.present, report.due,
        "every due log checkpoint is there"
    );
    for missed in &report.missed_by_kills {
        assert!(
            report.present.contains(missed),
            "missed at {missed}, never written"
        );
    }
    if let Some(python) = python_readers("delta_kill_loop") {
        let id = tests::sigkill::query_id(&work.path().join("checkpoint")).unwrap();
        let read = python_read(&python, "delta", &work.path().join("table"), Some(&id));
        let mut expected: Vec<String> = (0..report.files)
            .flat_map(|f| (0..config.events_per_file).map(move |i| canonical_json(&event(f, i))))
            .collect();
        expected.sort();
        assert_eq!(read.rows, expected, "every event once");
    }
}
