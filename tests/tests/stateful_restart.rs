//! Restarts of stateful queries: a query that dies at any point of any batch (after the
//! offsets write, in the middle of the sink write, before the commit) and is started
//! again on its checkpoint emits exactly the rows of one uninterrupted run, in the same
//! batches: the re-run batch reloads the state of the batch before it, so no row is
//! counted twice and none is lost. The uninterrupted run is Spark's (the golden files).

use std::path::Path;

use stream_core::{
    FaultPoint, QueryBuilder, StreamError, StreamingQueryManager, TypedQuery, stream,
};
use tests::{emitted, expected_rows, land_golden, runtime};

const POINTS: [FaultPoint; 3] = [
    FaultPoint::AfterOffsetsWrite,
    FaultPoint::DuringSinkWrite,
    FaultPoint::BeforeCommit,
];

/// Runs `make()` to a fault at `point` of batch `batch`, then again to the end.
fn crash_and_resume<R: stream_core::types::TypedRow>(
    make: impl Fn() -> QueryBuilder<R>,
    point: FaultPoint,
    batch: u64,
    checkpoint: &Path,
) {
    let rt = runtime();
    let start = |b: QueryBuilder<R>| -> TypedQuery<R> {
        b.manager(&StreamingQueryManager::new())
            .checkpoint_location(checkpoint)
            .start()
            .expect("query starts")
    };
    let crashed = start(make().inject_fault(point, batch));
    let error = rt.block_on(crashed.await_termination()).unwrap_err();
    assert!(
        matches!(*error, StreamError::InjectedFault { batch_id, .. } if batch_id == batch),
        "{error}"
    );
    let resumed = start(make());
    rt.block_on(resumed.await_termination())
        .expect("the restarted query ends");
}

fn every_crash_gives_spark_rows<R: stream_core::types::TypedRow>(
    make: impl Fn(&Path, &str) -> QueryBuilder<R>,
    golden: &str,
    name: &str,
) {
    let landing = tempfile::tempdir().unwrap();
    land_golden(landing.path(), 0..6);
    // batch 6 is the trailing batch without input
    for batch in 0..=6 {
        for point in POINTS {
            let checkpoint = tempfile::tempdir().unwrap();
            let table = format!("{name}_{batch}_{point:?}");
            crash_and_resume(
                || make(landing.path(), &table),
                point,
                batch,
                checkpoint.path(),
            );
            assert_eq!(
                emitted(&table),
                expected_rows(golden),
                "a crash at {point:?} of batch {batch}"
            );
        }
    }
}

#[test]
fn a_crashed_tumbling_count_in_append_mode_resumes_without_loss_or_double_counting() {
    every_crash_gives_spark_rows(
        |landing, table| {
            stream! {
                schema Event { ts: Option<timestamp_ms>, user: Option<string>, page: Option<string>, amount: Option<f64>, country: Option<string> }
                read(json, path = {landing}, schema = Event, max_files_per_trigger = 1)
                    .with_watermark(ts, "2 minutes")
                    .group_by(window(ts, "1 minute"), country)
                    .agg(count() as count, sum(amount) as sum_amount)
                    .write(memory, name = {table})
                    .trigger(available_now)
            }
        },
        "tumbling_count.append.mft1.batches.jsonl",
        "restart_append",
    );
}

#[test]
fn a_crashed_tumbling_count_in_update_mode_resumes_without_loss_or_double_counting() {
    every_crash_gives_spark_rows(
        |landing, table| {
            stream! {
                schema Event { ts: Option<timestamp_ms>, user: Option<string>, page: Option<string>, amount: Option<f64>, country: Option<string> }
                read(json, path = {landing}, schema = Event, max_files_per_trigger = 1)
                    .with_watermark(ts, "2 minutes")
                    .group_by(window(ts, "1 minute"), country)
                    .agg(count() as count, sum(amount) as sum_amount)
                    .write(memory, name = {table})
                    .output_mode(update)
                    .trigger(available_now)
            }
        },
        "tumbling_count.update.mft1.batches.jsonl",
        "restart_update",
    );
}

#[test]
fn a_crashed_dedup_resumes_without_loss_or_duplicates() {
    every_crash_gives_spark_rows(
        |landing, table| {
            stream! {
                schema Event { ts: Option<timestamp_ms>, user: Option<string>, page: Option<string>, amount: Option<f64>, country: Option<string> }
                read(json, path = {landing}, schema = Event, max_files_per_trigger = 1)
                    .with_watermark(ts, "2 minutes")
                    .drop_duplicates(user, ts)
                    .write(memory, name = {table})
                    .trigger(available_now)
            }
        },
        "dedup.append.mft1.batches.jsonl",
        "restart_dedup",
    );
}

/// A sliding-window average (10-minute windows every 5 minutes): a crash anywhere and a
/// restart give the rows of one uninterrupted run of the same query.
#[test]
fn a_crashed_sliding_window_average_resumes_as_if_never_stopped() {
    let landing = tempfile::tempdir().unwrap();
    land_golden(landing.path(), 0..6);
    let make = |landing: &Path, table: &str| {
        stream! {
            schema Event { ts: Option<timestamp_ms>, user: Option<string>, page: Option<string>, amount: Option<f64>, country: Option<string> }
            read(json, path = {landing}, schema = Event, max_files_per_trigger = 1)
                .with_watermark(ts, "5 minutes")
                .group_by(window(ts, "10 minutes", "5 minutes"), page)
                .agg(avg(amount) as mean, count() as n)
                .write(memory, name = {table})
                .output_mode(append)
                .trigger(available_now)
        }
    };
    let rt = runtime();
    let checkpoint = tempfile::tempdir().unwrap();
    let whole = make(landing.path(), "restart_sliding_whole")
        .manager(&StreamingQueryManager::new())
        .checkpoint_location(checkpoint.path())
        .start()
        .unwrap();
    rt.block_on(whole.await_termination()).unwrap();
    let expected = emitted("restart_sliding_whole");
    assert!(!expected.is_empty());
    for batch in [1, 3, 5] {
        for point in POINTS {
            let checkpoint = tempfile::tempdir().unwrap();
            let table = format!("restart_sliding_{batch}_{point:?}");
            crash_and_resume(
                || make(landing.path(), &table),
                point,
                batch,
                checkpoint.path(),
            );
            assert_eq!(
                emitted(&table),
                expected,
                "a crash at {point:?} of batch {batch}"
            );
        }
    }
}
