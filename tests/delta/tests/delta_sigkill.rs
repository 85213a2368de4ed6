//! A query writing a Delta table is killed with SIGKILL in the middle of its run, then
//! restarted on the same checkpoint: the table holds every input row exactly once and
//! its `txn` version is the last batch.

use std::path::Path;

use stream_core::DeltaSink;
use tests::sigkill::{FILES, kill_and_restart, query_id};
use tests::{python_read, python_readers};

#[test]
fn sigkill_mid_run_then_restart_delta_sink() {
    let checkpoint = tempfile::tempdir().unwrap();
    let table = tempfile::tempdir().unwrap();
    let expected = kill_and_restart(
        Path::new(env!("CARGO_BIN_EXE_delta_child")),
        "delta",
        table.path(),
        checkpoint.path(),
        &|| {
            let id = query_id(checkpoint.path())?;
            DeltaSink::committed_batch(table.path(), &id).ok().flatten()
        },
    );
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
