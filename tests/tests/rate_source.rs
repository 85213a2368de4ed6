//! The rate source end to end on the manual clock: `rows_per_second` rows per second,
//! values contiguous, timestamps spaced evenly, and a restart continues where the
//! checkpoint left off.

use std::time::Duration;

use arrow_array::cast::AsArray;
use arrow_array::types::{Int64Type, TimestampMicrosecondType};
use stream_core::{
    ManualClock, MapPipeline, MemorySink, QueryBuilder, RateSource, Source, StreamingQuery,
    StreamingQueryManager, Trigger,
};

const SAFETY: Duration = Duration::from_secs(30);
const START_MS: i64 = 1_704_067_200_000;

fn query(clock: &ManualClock, checkpoint: &std::path::Path) -> QueryBuilder {
    let source = RateSource::new(10).num_partitions(3);
    let schema = source.schema();
    StreamingQuery::builder()
        .manager(&StreamingQueryManager::new())
        .source(source)
        .pipeline(MapPipeline::identity(schema))
        .sink(MemorySink::new("rate_source_rows"))
        .trigger(Trigger::ProcessingTime(Duration::from_secs(1)))
        .clock(clock.clone())
        .checkpoint_location(checkpoint)
}

/// (value, timestamp ms) of every row in the table, in order.
fn rows() -> Vec<(i64, i64)> {
    MemorySink::new("rate_source_rows")
        .table()
        .batches()
        .iter()
        .flat_map(|b| {
            let ts = b.column(0).as_primitive::<TimestampMicrosecondType>();
            let v = b.column(1).as_primitive::<Int64Type>();
            v.values()
                .iter()
                .zip(ts.values().iter())
                .map(|(v, t)| (*v, t / 1000))
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn rate_source_emits_evenly_spaced_rows_and_resumes_after_restart() {
    let rt = tests::runtime();
    let clock = ManualClock::new(START_MS);
    let checkpoint = tempfile::tempdir().unwrap();
    let first = query(&clock, checkpoint.path()).start().unwrap();
    for _ in 0..3 {
        assert!(clock.wait_for_sleeper(SAFETY));
        clock.advance(1_000);
    }
    assert!(clock.wait_for_sleeper(SAFETY));
    rt.block_on(first.stop());
    let expected: Vec<(i64, i64)> = (0..30).map(|v| (v, START_MS + v * 100)).collect();
    assert_eq!(rows(), expected);

    // Two seconds pass while the query is down; the restart picks them up, no gap, no repeat.
    clock.advance(2_000);
    let second = query(&clock, checkpoint.path()).start().unwrap();
    assert!(clock.wait_for_sleeper(SAFETY));
    rt.block_on(second.stop());
    let expected: Vec<(i64, i64)> = (0..50).map(|v| (v, START_MS + v * 100)).collect();
    assert_eq!(rows(), expected);
}
