//! `Trigger::ProcessingTime` on the manual clock: batches start on interval boundaries,
//! an overrunning batch is followed at once by the next, no batch runs without new data.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use arrow_array::{Int64Array, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use stream_core::{
    ManualClock, MapPipeline, MemorySink, MemoryStream, StreamingQuery, StreamingQueryManager,
    Trigger,
};

const SAFETY: Duration = Duration::from_secs(30);

fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, false)]))
}

fn numbers(values: &[i64]) -> RecordBatch {
    RecordBatch::try_new(schema(), vec![Arc::new(Int64Array::from(values.to_vec()))]).unwrap()
}

fn trigger_times(query: &StreamingQuery) -> Vec<(u64, String)> {
    query
        .recent_progress()
        .into_iter()
        .map(|p| (p.batch_id, p.timestamp))
        .collect()
}

#[test]
fn batches_follow_the_interval_overruns_catch_up_and_idle_triggers_run_nothing() {
    let clock = ManualClock::new(10_000);
    let input = MemoryStream::new(schema());
    input.add_batch(numbers(&[1, 2])).unwrap();

    // When set, the next batch takes that long on the manual clock and, while it runs,
    // more data arrives.
    let overrun = Arc::new(AtomicI64::new(0));
    let pipeline = {
        let (clock, input, overrun) = (clock.clone(), input.clone(), overrun.clone());
        MapPipeline::new("overrunning", schema(), schema(), move |batch| {
            let took = overrun.swap(0, Ordering::SeqCst);
            if took > 0 {
                input.add_batch(numbers(&[99]))?;
                clock.advance(took);
            }
            Ok(batch.clone())
        })
    };
    let checkpoint = tempfile::tempdir().unwrap();
    let query = StreamingQuery::builder()
        .manager(&StreamingQueryManager::new())
        .source(input.clone())
        .pipeline(pipeline)
        .sink(MemorySink::new("processing_time_rows"))
        .trigger(Trigger::ProcessingTime(Duration::from_secs(1)))
        .clock(clock.clone())
        .checkpoint_location(checkpoint.path())
        .start()
        .unwrap();

    // The first trigger runs at once, then the engine sleeps until the next boundary.
    assert!(clock.wait_for_sleeper(SAFETY));
    assert_eq!(clock.sleeping_until(), Some(11_000));
    assert_eq!(
        trigger_times(&query),
        vec![(0, "1970-01-01T00:00:10.000Z".to_string())]
    );

    // A trigger with no new data runs no batch.
    clock.advance(1_000);
    assert!(clock.wait_for_sleeper(SAFETY));
    assert_eq!(clock.sleeping_until(), Some(12_000));
    assert_eq!(query.recent_progress().len(), 1);
    assert_eq!(query.status().message, "Waiting for data to arrive");

    // Data, and a batch that takes 2.5 intervals: the next trigger starts at once when it
    // ends (at 14.5 s, off the grid), and after that the grid resumes (15 s).
    input.add_batch(numbers(&[3])).unwrap();
    overrun.store(2_500, Ordering::SeqCst);
    clock.advance(1_000);
    assert!(clock.wait_for_sleeper(SAFETY));
    assert_eq!(
        trigger_times(&query),
        vec![
            (0, "1970-01-01T00:00:10.000Z".to_string()),
            (1, "1970-01-01T00:00:12.000Z".to_string()),
            (2, "1970-01-01T00:00:14.500Z".to_string()),
        ]
    );
    assert_eq!(clock.sleeping_until(), Some(15_000));

    // Data that arrives between triggers waits for the boundary.
    input.add_batch(numbers(&[4])).unwrap();
    assert_eq!(query.recent_progress().len(), 3);
    clock.advance(500);
    assert!(clock.wait_for_sleeper(SAFETY));
    assert_eq!(
        query.last_progress().unwrap().timestamp,
        "1970-01-01T00:00:15.000Z"
    );
    assert_eq!(query.last_progress().unwrap().num_input_rows, 1);
    assert_eq!(clock.sleeping_until(), Some(16_000));

    let rows: usize = MemorySink::new("processing_time_rows").table().num_rows();
    assert_eq!(rows, 5);
    tests::runtime().block_on(query.stop());
    assert!(!query.is_active());
    assert!(query.exception().is_none());
}

#[test]
fn processing_time_input_rate_uses_time_between_triggers() {
    let clock = ManualClock::new(0);
    let input = MemoryStream::new(schema());
    input.add_batch(numbers(&[1, 2, 3, 4])).unwrap();
    let checkpoint = tempfile::tempdir().unwrap();
    let query = StreamingQuery::builder()
        .manager(&StreamingQueryManager::new())
        .source(input.clone())
        .pipeline(MapPipeline::identity(schema()))
        .sink(MemorySink::new("processing_time_rate"))
        .trigger(Trigger::ProcessingTime(Duration::from_secs(2)))
        .clock(clock.clone())
        .checkpoint_location(checkpoint.path())
        .start()
        .unwrap();
    assert!(clock.wait_for_sleeper(SAFETY));
    input.add_batch(numbers(&[5, 6, 7, 8, 9, 10])).unwrap();
    clock.advance(2_000);
    assert!(clock.wait_for_sleeper(SAFETY));
    let p = query.last_progress().unwrap();
    assert_eq!(p.batch_id, 1);
    assert_eq!(p.num_input_rows, 6);
    assert_eq!(
        p.input_rows_per_second, 3.0,
        "6 rows over the 2 s since the previous trigger"
    );
    tests::runtime().block_on(query.stop());
}
