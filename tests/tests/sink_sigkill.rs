//! A query writing a file sink is killed with SIGKILL in the middle of its run, then
//! restarted on the same checkpoint: the output holds every input row exactly once (the
//! Delta sink's twin is in `tests/delta`).

use std::path::Path;

use stream_core::{FileSink, read_file_sink};
use tests::sigkill::{FILES, kill_and_restart};
use tests::{python_read, python_readers, rows_of};

#[test]
fn sigkill_mid_run_then_restart_file_sink() {
    let checkpoint = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let expected = kill_and_restart(
        Path::new(env!("CARGO_BIN_EXE_sink_child")),
        "file",
        out.path(),
        checkpoint.path(),
        &|| FileSink::latest_batch_id(out.path()).ok().flatten(),
    );
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
