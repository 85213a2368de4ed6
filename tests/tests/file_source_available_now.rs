//! The JSON file source under `available_now`: ceil(files / max_files_per_trigger)
//! batches, then stop; a restart on the same checkpoint reads only files added since.

use stream_core::{
    JsonFileSource, MapPipeline, MemorySink, OutputMode, StreamingQuery, StreamingQueryManager,
    Trigger,
};
use tests::{event_schema, golden_rows, land_golden, rows_of, runtime};

fn run_available_now(
    landing: &std::path::Path,
    checkpoint: &std::path::Path,
    table: &str,
    mft: usize,
) -> StreamingQuery {
    let rt = runtime();
    let query = StreamingQuery::builder()
        .manager(&StreamingQueryManager::new())
        .source(JsonFileSource::new(landing, event_schema()).max_files_per_trigger(mft))
        .pipeline(MapPipeline::identity(event_schema()))
        .sink(MemorySink::new(table))
        .output_mode(OutputMode::Append)
        .trigger(Trigger::AvailableNow)
        .checkpoint_location(checkpoint)
        .start()
        .expect("query starts");
    rt.block_on(query.await_termination())
        .expect("query succeeds");
    query
}

#[test]
fn available_now_runs_ceil_files_over_limit_batches_then_stops() {
    for (mft, expected_batches) in [(1, 5), (2, 3), (5, 1), (10, 1)] {
        let landing = tempfile::tempdir().unwrap();
        let checkpoint = tempfile::tempdir().unwrap();
        land_golden(landing.path(), 0..5);
        let table = format!("available_now_mft_{mft}");
        let query = run_available_now(landing.path(), checkpoint.path(), &table, mft);

        let progress = query.recent_progress();
        assert_eq!(
            progress.len(),
            expected_batches,
            "max_files_per_trigger = {mft}"
        );
        let ids: Vec<u64> = progress.iter().map(|p| p.batch_id).collect();
        assert_eq!(ids, (0..expected_batches as u64).collect::<Vec<_>>());
        let per_batch: Vec<u64> = progress.iter().map(|p| p.num_input_rows).collect();
        let expected_rows: Vec<u64> = (0..5)
            .collect::<Vec<u64>>()
            .chunks(mft)
            .map(|c| c.len() as u64 * 40)
            .collect();
        assert_eq!(per_batch, expected_rows);
        let table = MemorySink::new(&table).table();
        assert_eq!(rows_of(&table.batches()), golden_rows(0..5));
        assert!(!query.is_active());
    }
}

#[test]
fn restart_with_same_checkpoint_reads_only_new_files() {
    let landing = tempfile::tempdir().unwrap();
    let checkpoint = tempfile::tempdir().unwrap();
    land_golden(landing.path(), 0..3);
    let first = run_available_now(landing.path(), checkpoint.path(), "restart_new_files", 2);
    assert_eq!(first.recent_progress().len(), 2);

    land_golden(landing.path(), 3..6);
    let second = run_available_now(landing.path(), checkpoint.path(), "restart_new_files", 2);
    let progress = second.recent_progress();
    assert_eq!(
        progress.iter().map(|p| p.batch_id).collect::<Vec<_>>(),
        vec![2, 3]
    );
    assert_eq!(
        progress.iter().map(|p| p.num_input_rows).sum::<u64>(),
        3 * 40
    );
    assert_eq!(
        second.id(),
        first.id(),
        "the query id is kept in the checkpoint"
    );
    assert_ne!(second.run_id(), first.run_id());

    let table = MemorySink::new("restart_new_files").table();
    assert_eq!(
        rows_of(&table.batches()),
        golden_rows(0..6),
        "every row exactly once"
    );

    // A third start with nothing new runs no batch at all.
    let third = run_available_now(landing.path(), checkpoint.path(), "restart_new_files", 2);
    assert!(third.recent_progress().is_empty());
}

#[test]
fn files_arriving_during_an_available_now_run_wait_for_the_next_run() {
    let landing = tempfile::tempdir().unwrap();
    let checkpoint = tempfile::tempdir().unwrap();
    land_golden(landing.path(), 0..2);
    let rt = runtime();
    let landing_path = landing.path().to_path_buf();
    let sink = stream_core::ForeachBatchSink::new(
        move |batch_id, _batches: &[arrow_array::RecordBatch]| {
            if batch_id == 0 {
                land_golden(&landing_path, 2..4);
            }
            Ok::<_, String>(())
        },
    );
    let query = StreamingQuery::builder()
        .manager(&StreamingQueryManager::new())
        .source(JsonFileSource::new(landing.path(), event_schema()).max_files_per_trigger(1))
        .pipeline(MapPipeline::identity(event_schema()))
        .sink(sink)
        .trigger(Trigger::AvailableNow)
        .checkpoint_location(checkpoint.path())
        .start()
        .unwrap();
    rt.block_on(query.await_termination()).unwrap();
    assert_eq!(
        query.recent_progress().len(),
        2,
        "only the files present at the start"
    );
}
