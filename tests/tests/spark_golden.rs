//! Conformance with Apache Spark: the pipelines of `../shared/spark-golden/` (Spark
//! 4.3's own outputs for 240 events in 6 files, one file per batch) give the same rows in
//! the same batches, with the same watermark, state size and late-row counts per batch.

use std::collections::BTreeMap;
use std::path::Path;

use stream_core::{StreamingQueryProgress, stream};
use tests::{emitted, expected_rows, golden, land_golden};

/// Per batch, what the golden progress file records, from our progress records.
fn progress_facts(progress: &[StreamingQueryProgress]) -> Vec<BTreeMap<&'static str, String>> {
    progress
        .iter()
        .map(|p| {
            let state = p.state_operators.first();
            BTreeMap::from([
                ("batch", p.batch_id.to_string()),
                ("numInputRows", p.num_input_rows.to_string()),
                ("rowsEmitted", p.sink.num_output_rows.to_string()),
                (
                    "watermark",
                    p.event_time.get("watermark").cloned().unwrap_or_default(),
                ),
                (
                    "stateRowsTotal",
                    state.map_or(0, |s| s.metrics.num_rows_total).to_string(),
                ),
                (
                    "stateRowsDroppedByWatermark",
                    state
                        .map_or(0, |s| s.metrics.num_rows_dropped_by_watermark)
                        .to_string(),
                ),
            ])
        })
        .collect()
}

fn expected_progress(name: &str) -> Vec<BTreeMap<&'static str, String>> {
    golden(name)
        .iter()
        .map(|line| {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            let text = |k: &str| match &v[k] {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            BTreeMap::from([
                ("batch", text("batch")),
                ("numInputRows", text("numInputRows")),
                ("rowsEmitted", text("rowsEmitted")),
                ("watermark", text("watermark")),
                ("stateRowsTotal", text("stateRowsTotal")),
                (
                    "stateRowsDroppedByWatermark",
                    text("stateRowsDroppedByWatermark"),
                ),
            ])
        })
        .collect()
}

fn landing() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    land_golden(dir.path(), 0..6);
    dir
}

fn run(
    builder: stream_core::QueryBuilder<impl stream_core::OutputRow>,
    checkpoint: &Path,
) -> Vec<StreamingQueryProgress> {
    let query = builder
        .manager(&stream_core::StreamingQueryManager::new())
        .checkpoint_location(checkpoint)
        .start()
        .expect("query starts");
    tests::runtime()
        .block_on(query.as_ref().await_termination())
        .expect("query succeeds");
    query.as_ref().recent_progress()
}

#[test]
fn tumbling_count_in_append_mode_matches_spark() {
    let landing = landing();
    let checkpoint = tempfile::tempdir().unwrap();
    let progress = run(
        stream! {
            schema Event { ts: Option<timestamp_ms>, user: Option<string>, page: Option<string>, amount: Option<f64>, country: Option<string> }
            read(json, path = {landing.path()}, schema = Event, max_files_per_trigger = 1)
                .with_watermark(ts, "2 minutes")
                .group_by(window(ts, "1 minute"), country)
                .agg(count() as count, sum(amount) as sum_amount)
                .write(memory, name = "golden_tumbling_append")
                .output_mode(append)
                .trigger(available_now)
        },
        checkpoint.path(),
    );
    assert_eq!(
        emitted("golden_tumbling_append"),
        expected_rows("tumbling_count.append.mft1.batches.jsonl")
    );
    assert_eq!(
        progress_facts(&progress),
        expected_progress("tumbling_count.append.mft1.progress.jsonl")
    );
}

#[test]
fn tumbling_count_in_update_mode_matches_spark() {
    let landing = landing();
    let checkpoint = tempfile::tempdir().unwrap();
    let progress = run(
        stream! {
            schema Event { ts: Option<timestamp_ms>, user: Option<string>, page: Option<string>, amount: Option<f64>, country: Option<string> }
            read(json, path = {landing.path()}, schema = Event, max_files_per_trigger = 1)
                .with_watermark(ts, "2 minutes")
                .group_by(window(ts, "1 minute"), country)
                .agg(count() as count, sum(amount) as sum_amount)
                .write(memory, name = "golden_tumbling_update")
                .output_mode(update)
                .trigger(available_now)
        },
        checkpoint.path(),
    );
    assert_eq!(
        emitted("golden_tumbling_update"),
        expected_rows("tumbling_count.update.mft1.batches.jsonl")
    );
    assert_eq!(
        progress_facts(&progress),
        expected_progress("tumbling_count.update.mft1.progress.jsonl")
    );
}

#[test]
fn dedup_in_append_mode_matches_spark() {
    let landing = landing();
    let checkpoint = tempfile::tempdir().unwrap();
    let progress = run(
        stream! {
            schema Event { ts: Option<timestamp_ms>, user: Option<string>, page: Option<string>, amount: Option<f64>, country: Option<string> }
            read(json, path = {landing.path()}, schema = Event, max_files_per_trigger = 1)
                .with_watermark(ts, "2 minutes")
                .drop_duplicates(user, ts)
                .write(memory, name = "golden_dedup_append")
                .trigger(available_now)
        },
        checkpoint.path(),
    );
    assert_eq!(
        emitted("golden_dedup_append"),
        expected_rows("dedup.append.mft1.batches.jsonl")
    );
    assert_eq!(
        progress_facts(&progress),
        expected_progress("dedup.append.mft1.progress.jsonl")
    );
}
