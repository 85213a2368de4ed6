//! Crash recovery at each point of the micro-batch protocol: a query made to fail there
//! (through the test-only fault-injection hook) and restarted on the same checkpoint
//! leaves every input row in the sink exactly once.

use std::sync::{Arc, Mutex};

use arrow_array::RecordBatch;
use stream_core::{
    FaultPoint, ForeachBatchSink, JsonFileSource, MapPipeline, MemorySink, QueryBuilder,
    StreamError, StreamingQuery, StreamingQueryManager, Trigger,
};
use tests::{batch_rows, event_schema, golden_rows, land_golden, rows_of, runtime};

const FAILING_BATCH: u64 = 2;

fn query(landing: &std::path::Path, checkpoint: &std::path::Path) -> QueryBuilder {
    StreamingQuery::builder()
        .manager(&StreamingQueryManager::new())
        .source(JsonFileSource::new(landing, event_schema()).max_files_per_trigger(1))
        .pipeline(MapPipeline::identity(event_schema()))
        .trigger(Trigger::AvailableNow)
        .checkpoint_location(checkpoint)
}

/// Runs to the fault, checks the query died of it, restarts and runs to the end.
fn crash_and_restart(
    point: FaultPoint,
    first: QueryBuilder,
    second: QueryBuilder,
) -> (StreamingQuery, StreamingQuery) {
    let rt = runtime();
    let crashed = first.inject_fault(point, FAILING_BATCH).start().unwrap();
    let error = rt.block_on(crashed.await_termination()).unwrap_err();
    assert!(
        matches!(*error, StreamError::InjectedFault { point: p, batch_id } if p == point && batch_id == FAILING_BATCH),
        "{error}"
    );
    let resumed = second.start().unwrap();
    rt.block_on(resumed.await_termination()).unwrap();
    (crashed, resumed)
}

fn memory_sink_sees_every_row_once(point: FaultPoint, table: &str) {
    let landing = tempfile::tempdir().unwrap();
    let checkpoint = tempfile::tempdir().unwrap();
    land_golden(landing.path(), 0..6);
    let sink = || MemorySink::new(table);
    let (crashed, resumed) = crash_and_restart(
        point,
        query(landing.path(), checkpoint.path()).sink(sink()),
        query(landing.path(), checkpoint.path()).sink(sink()),
    );
    let committed_before: Vec<u64> = crashed
        .recent_progress()
        .iter()
        .map(|p| p.batch_id)
        .collect();
    assert_eq!(committed_before, vec![0, 1]);
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

    let table = sink().table();
    assert_eq!(table.batch_ids(), vec![0, 1, 2, 3, 4, 5]);
    assert_eq!(
        rows_of(&table.batches()),
        golden_rows(0..6),
        "every input row exactly once"
    );
    assert_eq!(
        rows_of(&table.batch(FAILING_BATCH).unwrap()),
        golden_rows(2..3),
        "batch 2 re-ran its own range"
    );
}

#[test]
fn fault_after_offsets_write_memory_sink() {
    memory_sink_sees_every_row_once(FaultPoint::AfterOffsetsWrite, "crash_after_offsets");
}

#[test]
fn fault_during_sink_write_memory_sink() {
    memory_sink_sees_every_row_once(FaultPoint::DuringSinkWrite, "crash_during_sink");
}

#[test]
fn fault_before_commit_memory_sink() {
    memory_sink_sees_every_row_once(FaultPoint::BeforeCommit, "crash_before_commit");
}

type Calls = Arc<Mutex<Vec<(u64, Vec<String>)>>>;

fn recording_sink(calls: &Calls) -> ForeachBatchSink {
    let calls = calls.clone();
    ForeachBatchSink::new(move |batch_id, batches: &[RecordBatch]| {
        let rows: Vec<String> = batches.iter().flat_map(batch_rows).collect();
        calls.lock().unwrap().push((batch_id, rows));
        Ok::<_, String>(())
    })
}

/// Runs the crash with a `foreach_batch` sink and returns every call it got.
fn foreach_batch_calls(point: FaultPoint) -> Vec<(u64, Vec<String>)> {
    let landing = tempfile::tempdir().unwrap();
    let checkpoint = tempfile::tempdir().unwrap();
    land_golden(landing.path(), 0..6);
    let calls: Calls = Arc::default();
    crash_and_restart(
        point,
        query(landing.path(), checkpoint.path()).sink(recording_sink(&calls)),
        query(landing.path(), checkpoint.path()).sink(recording_sink(&calls)),
    );
    let calls = calls.lock().unwrap().clone();
    // Keyed by batch id, the calls hold every row exactly once.
    let mut by_id = std::collections::BTreeMap::new();
    for (id, rows) in &calls {
        by_id.insert(*id, rows.clone());
    }
    let mut all: Vec<String> = by_id.values().flatten().cloned().collect();
    all.sort();
    assert_eq!(all, golden_rows(0..6));
    calls
}

fn ids(calls: &[(u64, Vec<String>)]) -> Vec<u64> {
    calls.iter().map(|(id, _)| *id).collect()
}

#[test]
fn fault_after_offsets_write_foreach_batch_sees_batch_once() {
    let calls = foreach_batch_calls(FaultPoint::AfterOffsetsWrite);
    assert_eq!(ids(&calls), vec![0, 1, 2, 3, 4, 5]);
}

#[test]
fn fault_during_sink_write_foreach_batch_sees_replay_with_same_id_and_rows() {
    let calls = foreach_batch_calls(FaultPoint::DuringSinkWrite);
    assert_eq!(ids(&calls), vec![0, 1, 2, 2, 3, 4, 5]);
    assert_eq!(
        calls[2].1, calls[3].1,
        "the replayed batch has the same rows in the same order"
    );
}

#[test]
fn fault_before_commit_foreach_batch_sees_replay_with_same_id_and_rows() {
    let calls = foreach_batch_calls(FaultPoint::BeforeCommit);
    assert_eq!(ids(&calls), vec![0, 1, 2, 2, 3, 4, 5]);
    assert_eq!(calls[2].1, calls[3].1);
}

#[test]
fn a_pending_batch_is_replayed_even_when_new_files_arrived() {
    // offsets/2 names file 2 only; file 6 landing before the restart must not widen it.
    let landing = tempfile::tempdir().unwrap();
    let checkpoint = tempfile::tempdir().unwrap();
    land_golden(landing.path(), 0..3);
    let rt = runtime();
    let crashed = query(landing.path(), checkpoint.path())
        .sink(MemorySink::new("pending_replay"))
        .inject_fault(FaultPoint::AfterOffsetsWrite, 2)
        .start()
        .unwrap();
    assert!(rt.block_on(crashed.await_termination()).is_err());
    land_golden(landing.path(), 3..6);
    let resumed = query(landing.path(), checkpoint.path())
        .sink(MemorySink::new("pending_replay"))
        .start()
        .unwrap();
    rt.block_on(resumed.await_termination()).unwrap();
    let table = MemorySink::new("pending_replay").table();
    assert_eq!(rows_of(&table.batch(2).unwrap()), golden_rows(2..3));
    assert_eq!(rows_of(&table.batches()), golden_rows(0..6));
}
