//! Conformance with Apache Spark: the pipelines of `../shared/spark-golden/` and
//! `../shared/spark-golden-late/` (Spark 4.3's own outputs for 240 events in 6 files,
//! one file per batch; the second with groups of several late events) give the same
//! rows in the same batches, with the same watermark (none when the query has none),
//! newest event time, source offsets, state size and late-row counts per batch.

use std::collections::BTreeMap;
use std::path::Path;

use stream_core::{OutputRow, QueryBuilder, StreamingQueryProgress, stream};
use tests::{GoldenSet, emitted};

type Facts = BTreeMap<&'static str, String>;

/// Per batch, what the golden progress file records, from our progress records. The
/// late rows are summed over the stateful operators, as the golden files sum Spark's.
fn progress_facts(progress: &[StreamingQueryProgress]) -> Vec<Facts> {
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
                    p.event_time
                        .get("watermark")
                        .cloned()
                        .unwrap_or_else(|| "null".into()),
                ),
                (
                    "stateRowsTotal",
                    state.map_or(0, |s| s.metrics.num_rows_total).to_string(),
                ),
                (
                    "stateRowsDroppedByWatermark",
                    p.state_operators
                        .iter()
                        .map(|s| s.metrics.num_rows_dropped_by_watermark)
                        .sum::<u64>()
                        .to_string(),
                ),
                (
                    "maxEventTime",
                    p.event_time
                        .get("max")
                        .cloned()
                        .unwrap_or_else(|| "null".into()),
                ),
                (
                    "sourceStartOffset",
                    offset_text(p.sources.first().and_then(|s| s.start_offset.clone())),
                ),
                (
                    "sourceEndOffset",
                    offset_text(p.sources.first().and_then(|s| s.end_offset.clone())),
                ),
            ])
        })
        .collect()
}

/// An offset as canonical JSON text (`null` for none).
fn offset_text(offset: Option<serde_json::Value>) -> String {
    offset.unwrap_or(serde_json::Value::Null).to_string()
}

fn expected_progress(set: GoldenSet, name: &str) -> Vec<Facts> {
    set.lines(name)
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
                ("maxEventTime", text("maxEventTime")),
                // Spark writes a source's offsets as JSON text (`{"logOffset": 0}`)
                (
                    "sourceStartOffset",
                    offset_text(serde_json::from_str(&text("sourceStartOffset")).ok()),
                ),
                (
                    "sourceEndOffset",
                    offset_text(serde_json::from_str(&text("sourceEndOffset")).ok()),
                ),
            ])
        })
        .collect()
}

/// Lands the input of `set` (one file per batch), runs the query `make` builds over it
/// into a memory table, and asserts that its rows and progress are Spark's
/// `{pipeline}.batches.jsonl` and `{pipeline}.progress.jsonl`.
fn matches_spark<R: OutputRow>(
    set: GoldenSet,
    pipeline: &str,
    make: fn(&Path, &str) -> stream_core::QueryBuilder<R>,
) {
    let landing = tempfile::tempdir().unwrap();
    set.land(landing.path(), 0..6);
    let checkpoint = tempfile::tempdir().unwrap();
    let table = format!("{}_{pipeline}", set.name());
    let progress = run(make(landing.path(), &table), checkpoint.path());
    assert_rows_match(set, pipeline, emitted(&table));
    assert_progress_matches(set, pipeline, &progress);
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

/// Asserts that `rows` (canonical, with `_batch`, sorted) are Spark's; on a difference
/// it names the rows only one side has.
fn assert_rows_match(set: GoldenSet, pipeline: &str, rows: Vec<String>) {
    let spark = set.rows(&format!("{pipeline}.batches.jsonl"));
    if rows != spark {
        let ours_only: Vec<&String> = rows.iter().filter(|r| !spark.contains(r)).collect();
        let spark_only: Vec<&String> = spark.iter().filter(|r| !rows.contains(r)).collect();
        panic!(
            "{pipeline}: {} rows, Spark {}\nonly ours: {ours_only:#?}\nonly Spark's: {spark_only:#?}",
            rows.len(),
            spark.len()
        );
    }
}

fn assert_progress_matches(set: GoldenSet, pipeline: &str, progress: &[StreamingQueryProgress]) {
    let ours = progress_facts(progress);
    let spark = expected_progress(set, &format!("{pipeline}.progress.jsonl"));
    assert_eq!(ours.len(), spark.len(), "{pipeline}: number of batches");
    for (ours, spark) in ours.iter().zip(&spark) {
        assert_eq!(
            ours, spark,
            "{pipeline}: progress of batch {}",
            spark["batch"]
        );
    }
}

// The golden README's pipelines, over the landing folder `landing`, written to the
// memory table `table`.

fn tumbling_append(landing: &Path, table: &str) -> QueryBuilder<impl OutputRow + use<>> {
    stream! {
        schema Event { ts: Option<timestamp_ms>, user: Option<string>, page: Option<string>, amount: Option<f64>, country: Option<string> }
        read(json, path = {landing.to_path_buf()}, schema = Event, max_files_per_trigger = 1)
            .with_watermark(ts, "2 minutes")
            .group_by(window(ts, "1 minute"), country)
            .agg(count() as count, sum(amount) as sum_amount)
            .write(memory, name = {table})
            .output_mode(append)
            .trigger(available_now)
    }
}

fn tumbling_update(landing: &Path, table: &str) -> QueryBuilder<impl OutputRow + use<>> {
    stream! {
        schema Event { ts: Option<timestamp_ms>, user: Option<string>, page: Option<string>, amount: Option<f64>, country: Option<string> }
        read(json, path = {landing.to_path_buf()}, schema = Event, max_files_per_trigger = 1)
            .with_watermark(ts, "2 minutes")
            .group_by(window(ts, "1 minute"), country)
            .agg(count() as count, sum(amount) as sum_amount)
            .write(memory, name = {table})
            .output_mode(update)
            .trigger(available_now)
    }
}

fn sliding_average(landing: &Path, table: &str) -> QueryBuilder<impl OutputRow + use<>> {
    stream! {
        schema Event { ts: Option<timestamp_ms>, user: Option<string>, page: Option<string>, amount: Option<f64>, country: Option<string> }
        read(json, path = {landing.to_path_buf()}, schema = Event, max_files_per_trigger = 1)
            .with_watermark(ts, "5 minutes")
            .group_by(window(ts, "10 minutes", "5 minutes"), page)
            .agg(avg(amount) as avg_amount, count() as count)
            .write(memory, name = {table})
            .output_mode(append)
            .trigger(available_now)
    }
}

fn session_windows(landing: &Path, table: &str) -> QueryBuilder<impl OutputRow + use<>> {
    stream! {
        schema Event { ts: Option<timestamp_ms>, user: Option<string>, page: Option<string>, amount: Option<f64>, country: Option<string> }
        read(json, path = {landing.to_path_buf()}, schema = Event, max_files_per_trigger = 1)
            .with_watermark(ts, "2 minutes")
            .group_by(session_window(ts, "5 minutes"), user)
            .agg(count() as count)
            .write(memory, name = {table})
            .output_mode(append)
            .trigger(available_now)
    }
}

fn dedup(landing: &Path, table: &str) -> QueryBuilder<impl OutputRow + use<>> {
    stream! {
        schema Event { ts: Option<timestamp_ms>, user: Option<string>, page: Option<string>, amount: Option<f64>, country: Option<string> }
        read(json, path = {landing.to_path_buf()}, schema = Event, max_files_per_trigger = 1)
            .with_watermark(ts, "2 minutes")
            .drop_duplicates(user, ts)
            .write(memory, name = {table})
            .trigger(available_now)
    }
}

#[test]
fn tumbling_count_in_append_mode_matches_spark() {
    matches_spark(
        GoldenSet::FIRST,
        "tumbling_count.append.mft1",
        tumbling_append,
    );
}

#[test]
fn tumbling_count_in_update_mode_matches_spark() {
    matches_spark(
        GoldenSet::FIRST,
        "tumbling_count.update.mft1",
        tumbling_update,
    );
}

#[test]
fn dedup_in_append_mode_matches_spark() {
    matches_spark(GoldenSet::FIRST, "dedup.append.mft1", dedup);
}

#[test]
fn late_tumbling_count_in_append_mode_matches_spark() {
    matches_spark(
        GoldenSet::LATE,
        "tumbling_count.append.mft1",
        tumbling_append,
    );
}

#[test]
fn late_tumbling_count_in_update_mode_matches_spark() {
    matches_spark(
        GoldenSet::LATE,
        "tumbling_count.update.mft1",
        tumbling_update,
    );
}

/// Sliding windows: a late event falls into two windows, and several late events of
/// one group count once, as Spark counts the groups it drops.
#[test]
fn late_sliding_average_in_append_mode_matches_spark() {
    matches_spark(GoldenSet::LATE, "sliding_avg.append.mft1", sliding_average);
}

#[test]
fn late_session_window_in_append_mode_matches_spark() {
    matches_spark(
        GoldenSet::LATE,
        "session_window.append.mft1",
        session_windows,
    );
}

#[test]
fn late_dedup_in_append_mode_matches_spark() {
    matches_spark(GoldenSet::LATE, "dedup.append.mft1", dedup);
}

/// Without a watermark: every group is kept and written each batch, and the progress
/// has no watermark at all. The memory sink keeps only the last batch in complete mode,
/// so the batches are collected by a `foreach_batch` sink.
#[test]
fn late_tumbling_count_in_complete_mode_matches_spark() {
    let landing = tempfile::tempdir().unwrap();
    GoldenSet::LATE.land(landing.path(), 0..6);
    let checkpoint = tempfile::tempdir().unwrap();
    let written = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = written.clone();
    let collect = move |batch_id: u64, batches: &[arrow_array::RecordBatch]| {
        let mut rows = sink.lock().unwrap();
        for row in batches.iter().flat_map(tests::batch_rows) {
            let mut v: serde_json::Value = serde_json::from_str(&row).unwrap();
            v["_batch"] = serde_json::json!(batch_id);
            rows.push(v.to_string());
        }
        Ok::<(), std::convert::Infallible>(())
    };
    let progress = run(
        stream! {
            schema Event { ts: Option<timestamp_ms>, user: Option<string>, page: Option<string>, amount: Option<f64>, country: Option<string> }
            read(json, path = {landing.path()}, schema = Event, max_files_per_trigger = 1)
                .group_by(window(ts, "1 minute"), country)
                .agg(count() as count, sum(amount) as sum_amount)
                .write(foreach_batch, f = {collect})
                .output_mode(complete)
                .trigger(available_now)
        },
        checkpoint.path(),
    );
    let mut rows = written.lock().unwrap().clone();
    rows.sort();
    assert_rows_match(GoldenSet::LATE, "tumbling_count.complete.mft1", rows);
    assert_progress_matches(GoldenSet::LATE, "tumbling_count.complete.mft1", &progress);
}
