//! The Delta sink end to end: the golden events written to a Delta table (created from
//! the stream's schema, partitioned by country), read back by the `deltalake` Python
//! package; crashes at every fault point leave every input row exactly once and one
//! commit per batch; complete mode replaces the table per batch.

use std::path::Path;

use delta_tests::kill_loop::log_checkpoints;
use stream_core::{
    DeltaSink, FaultPoint, JsonFileSource, ManualClock, MapPipeline, OutputMode, QueryBuilder,
    StreamError, StreamingQuery, StreamingQueryManager, Trigger,
};
use tests::{event_schema, golden_rows, land_golden, python_read, python_readers, runtime};

const FAILING_BATCH: u64 = 2;
const T0: i64 = 1_700_000_000_000;

fn query(landing: &Path, checkpoint: &Path, table: &Path, mode: OutputMode) -> QueryBuilder {
    query_into(
        landing,
        checkpoint,
        DeltaSink::new(table).partition_by(["country"]),
        mode,
    )
}

fn query_into(
    landing: &Path,
    checkpoint: &Path,
    sink: DeltaSink,
    mode: OutputMode,
) -> QueryBuilder {
    StreamingQuery::builder()
        .manager(&StreamingQueryManager::new())
        .source(JsonFileSource::new(landing, event_schema()).max_files_per_trigger(1))
        .pipeline(MapPipeline::identity(event_schema()))
        .sink(sink)
        .output_mode(mode)
        .trigger(Trigger::AvailableNow)
        .clock(ManualClock::new(T0))
        .checkpoint_location(checkpoint)
}

/// The number of commits in the table's log (`_delta_log/<version>.json`).
fn commits(table: &Path) -> usize {
    std::fs::read_dir(table.join("_delta_log"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .ends_with(".json")
        })
        .count()
}

/// The table holds `expected` rows for the independent reader, and its `txn` version
/// for the query is `last_batch`.
fn assert_table(table: &Path, query_id: &str, expected: Vec<String>, last_batch: u64, test: &str) {
    assert_eq!(
        DeltaSink::committed_batch(table, query_id).unwrap(),
        Some(last_batch)
    );
    if let Some(python) = python_readers(test) {
        let read = python_read(&python, "delta", table, Some(query_id));
        assert_eq!(read.rows, expected, "rows as deltalake (Python) reads them");
        assert_eq!(read.txn_version, Some(last_batch as i64));
    }
}

#[test]
fn append_creates_a_partitioned_table_that_deltalake_reads() {
    let landing = tempfile::tempdir().unwrap();
    let checkpoint = tempfile::tempdir().unwrap();
    let table = tempfile::tempdir().unwrap();
    land_golden(landing.path(), 0..6);
    let rt = runtime();
    let query = query(
        landing.path(),
        checkpoint.path(),
        table.path(),
        OutputMode::Append,
    )
    .start()
    .unwrap();
    rt.block_on(query.await_termination()).unwrap();
    assert_eq!(
        commits(table.path()),
        7,
        "the create, then one commit per batch"
    );
    assert!(table.path().join("country=DE").is_dir());
    let log =
        std::fs::read_to_string(table.path().join("_delta_log/00000000000000000003.json")).unwrap();
    assert!(
        log.contains(&format!(r#""txn":{{"appId":"{}","version":2"#, query.id())),
        "batch 2's commit carries its txn: {log}"
    );
    assert!(log.contains("STREAMING UPDATE"), "{log}");
    assert_table(
        table.path(),
        query.id(),
        golden_rows(0..6),
        5,
        "delta_sink::append_creates_a_partitioned_table",
    );
}

#[test]
fn complete_mode_replaces_the_table_each_batch() {
    let landing = tempfile::tempdir().unwrap();
    let checkpoint = tempfile::tempdir().unwrap();
    let table = tempfile::tempdir().unwrap();
    land_golden(landing.path(), 0..3);
    let rt = runtime();
    // an identity pipeline in complete mode: each batch's result table is its own rows
    let query = query(
        landing.path(),
        checkpoint.path(),
        table.path(),
        OutputMode::Complete,
    )
    .start()
    .unwrap();
    rt.block_on(query.await_termination()).unwrap();
    assert_eq!(commits(table.path()), 4);
    assert_table(
        table.path(),
        query.id(),
        golden_rows(2..3),
        2,
        "delta_sink::complete_mode_replaces_the_table",
    );
}

#[test]
fn update_mode_is_refused_when_the_query_starts() {
    let table = tempfile::tempdir().unwrap();
    let error = StreamingQuery::builder()
        .manager(&StreamingQueryManager::new())
        .source(stream_core::MemoryStream::new(event_schema()))
        .pipeline(MapPipeline::identity(event_schema()))
        .sink(DeltaSink::new(table.path()))
        .output_mode(OutputMode::Update)
        .start()
        .unwrap_err();
    assert!(
        matches!(&error, StreamError::UnsupportedOutputMode { supported, .. } if supported == "append, complete"),
        "{error}"
    );
}

#[test]
fn a_table_with_other_columns_is_refused_with_its_path() {
    let landing = tempfile::tempdir().unwrap();
    let table = tempfile::tempdir().unwrap();
    land_golden(landing.path(), 0..1);
    let rt = runtime();
    let checkpoint = tempfile::tempdir().unwrap();
    let first = query(
        landing.path(),
        checkpoint.path(),
        table.path(),
        OutputMode::Append,
    )
    .start()
    .unwrap();
    rt.block_on(first.await_termination()).unwrap();
    let other_schema =
        std::sync::Arc::new(arrow_schema::Schema::new(vec![arrow_schema::Field::new(
            "n",
            arrow_schema::DataType::Int64,
            false,
        )]));
    let error = StreamingQuery::builder()
        .manager(&StreamingQueryManager::new())
        .source(stream_core::MemoryStream::new(other_schema.clone()))
        .pipeline(MapPipeline::identity(other_schema))
        .sink(DeltaSink::new(table.path()))
        .start()
        .unwrap_err()
        .to_string();
    assert!(error.contains(&*table.path().to_string_lossy()), "{error}");
    assert!(error.contains("the Delta table has columns"), "{error}");
}

fn crash_and_restart(point: FaultPoint, mode: OutputMode, test: &str) {
    let landing = tempfile::tempdir().unwrap();
    let checkpoint = tempfile::tempdir().unwrap();
    let table = tempfile::tempdir().unwrap();
    land_golden(landing.path(), 0..6);
    let rt = runtime();
    let crashed = query(landing.path(), checkpoint.path(), table.path(), mode)
        .inject_fault(point, FAILING_BATCH)
        .start()
        .unwrap();
    let error = rt.block_on(crashed.await_termination()).unwrap_err();
    assert!(
        matches!(*error, StreamError::InjectedFault { point: p, batch_id } if p == point && batch_id == FAILING_BATCH),
        "{error}"
    );
    let committed = match point {
        FaultPoint::BeforeCommit => FAILING_BATCH,
        _ => FAILING_BATCH - 1,
    };
    assert_eq!(
        DeltaSink::committed_batch(table.path(), crashed.id()).unwrap(),
        Some(committed)
    );

    let resumed = query(landing.path(), checkpoint.path(), table.path(), mode)
        .start()
        .unwrap();
    assert_eq!(
        resumed.id(),
        crashed.id(),
        "the query id, and so the txn app id, stays"
    );
    rt.block_on(resumed.await_termination()).unwrap();
    let after: Vec<u64> = resumed
        .recent_progress()
        .iter()
        .map(|p| p.batch_id)
        .collect();
    assert_eq!(
        after,
        vec![2, 3, 4, 5],
        "batch 2 re-runs, ids stay contiguous"
    );
    assert_eq!(
        commits(table.path()),
        7,
        "one commit per batch, the replay added none"
    );
    let expected = match mode {
        OutputMode::Complete => golden_rows(5..6),
        _ => golden_rows(0..6),
    };
    assert_table(table.path(), resumed.id(), expected, 5, test);
}

#[test]
fn fault_after_offsets_write_delta_sink() {
    crash_and_restart(
        FaultPoint::AfterOffsetsWrite,
        OutputMode::Append,
        "delta_sink::fault_after_offsets_write",
    );
}

#[test]
fn fault_during_sink_write_delta_sink() {
    crash_and_restart(
        FaultPoint::DuringSinkWrite,
        OutputMode::Append,
        "delta_sink::fault_during_sink_write",
    );
}

#[test]
fn fault_before_commit_delta_sink() {
    crash_and_restart(
        FaultPoint::BeforeCommit,
        OutputMode::Append,
        "delta_sink::fault_before_commit",
    );
}

#[test]
fn fault_during_sink_write_delta_sink_complete_mode() {
    crash_and_restart(
        FaultPoint::DuringSinkWrite,
        OutputMode::Complete,
        "delta_sink::fault_during_sink_write_complete",
    );
}

/// A query that fails after the commit at which a log checkpoint is due and before the
/// checkpoint leaves the table without it; the restarted query writes it, and the
/// table goes on with every row once.
#[test]
fn a_log_checkpoint_missed_by_a_crash_is_written_at_the_restart() {
    let landing = tempfile::tempdir().unwrap();
    let checkpoint = tempfile::tempdir().unwrap();
    let table = tempfile::tempdir().unwrap();
    land_golden(landing.path(), 0..6);
    let rt = runtime();
    // the create is version 0 and batch n version n + 1: with an interval of 3, batch 2's
    // commit is version 3, where a checkpoint is due
    let sink = || {
        DeltaSink::new(table.path())
            .partition_by(["country"])
            .checkpoint_interval(3)
    };
    let due_batch = 2;
    let crashed = query_into(
        landing.path(),
        checkpoint.path(),
        sink(),
        OutputMode::Append,
    )
    .inject_fault(FaultPoint::AfterDeltaCommit, due_batch)
    .start()
    .unwrap();
    let error = rt.block_on(crashed.await_termination()).unwrap_err();
    assert!(
        matches!(*error, StreamError::InjectedFault { point: FaultPoint::AfterDeltaCommit, batch_id } if batch_id == due_batch),
        "{error}"
    );
    assert_eq!(
        DeltaSink::committed_batch(table.path(), crashed.id()).unwrap(),
        Some(due_batch),
        "the batch is committed"
    );
    assert_eq!(
        log_checkpoints(table.path()),
        Vec::<u64>::new(),
        "its checkpoint is not written"
    );

    let resumed = query_into(
        landing.path(),
        checkpoint.path(),
        sink(),
        OutputMode::Append,
    )
    .start()
    .unwrap();
    rt.block_on(resumed.await_termination()).unwrap();
    let after: Vec<u64> = resumed
        .recent_progress()
        .iter()
        .map(|p| p.batch_id)
        .collect();
    assert_eq!(after, vec![2, 3, 4, 5], "batch 2 re-runs (and is skipped)");
    assert_eq!(commits(table.path()), 7, "the replay added no commit");
    assert_eq!(
        log_checkpoints(table.path()),
        vec![3, 6],
        "the missed checkpoint at 3, then the one due at 6"
    );
    assert_table(
        table.path(),
        resumed.id(),
        golden_rows(0..6),
        5,
        "delta_sink::a_log_checkpoint_missed_by_a_crash",
    );
}

/// A damaged last entry of the table's log is refused when the query starts, naming the
/// file and its line, and neither the checkpoint nor the table is written to.
#[test]
fn a_damaged_log_entry_is_found_when_the_query_starts() {
    let landing = tempfile::tempdir().unwrap();
    let checkpoint = tempfile::tempdir().unwrap();
    let table = tempfile::tempdir().unwrap();
    land_golden(landing.path(), 0..2);
    let rt = runtime();
    let q = query(
        landing.path(),
        checkpoint.path(),
        table.path(),
        OutputMode::Append,
    )
    .start()
    .unwrap();
    rt.block_on(q.await_termination()).unwrap();
    land_golden(landing.path(), 2..3);
    let last = table
        .path()
        .join(format!("_delta_log/{:020}.json", commits(table.path()) - 1));
    std::fs::write(&last, "{\"add\": not json\n").unwrap();
    let before = (
        tests::files_under(checkpoint.path()),
        tests::files_under(table.path()),
    );
    let error = query(
        landing.path(),
        checkpoint.path(),
        table.path(),
        OutputMode::Append,
    )
    .start()
    .expect_err("a query started on a damaged Delta log")
    .to_string();
    assert_eq!(
        error,
        format!(
            "sink file `{}`: line 1 of the Delta table's log is not JSON (expected ident at line 1 column 10); the table cannot be read",
            last.display()
        )
    );
    let after = (
        tests::files_under(checkpoint.path()),
        tests::files_under(table.path()),
    );
    assert!(
        before == after,
        "the checkpoint or the table was written to"
    );
}
