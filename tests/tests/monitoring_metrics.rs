//! `/metrics`: the numbers of a running query in the Prometheus (OpenMetrics) text
//! format, read by the Prometheus project's own Python parser (`prometheus_client`) and
//! checked against the progress records of the same batches; and `/api/queries`, the
//! page's JSON, against the same records.

use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Stdio};

use stream_core::types::TimestampMs;
use stream_core::{MemoryStream, Schema, StreamingQueryManager, StreamingQueryProgress, stream};
use tests::{http, python_readers, runtime, watermark_seconds};

#[derive(Schema, Clone, Debug, PartialEq)]
struct Click {
    ts: TimestampMs,
    page: String,
}

fn click(second: i64, page: &str) -> Click {
    Click {
        ts: TimestampMs(second * 1_000),
        page: page.into(),
    }
}

/// A windowed count with a watermark, on its own manager with a page on a free port,
/// fed four steps (the last with a row behind the watermark); stopped or not.
fn run(
    name: &'static str,
    stop: bool,
) -> (
    StreamingQueryManager,
    Vec<StreamingQueryProgress>,
    tempfile::TempDir,
) {
    let clicks = MemoryStream::of::<Click>();
    let checkpoint = tempfile::tempdir().unwrap();
    let manager = StreamingQueryManager::new();
    let query = stream! {
        schema Click = Click;
        read(memory, stream = {clicks.clone()}, schema = Click)
            .with_watermark(ts, "10 seconds")
            .group_by(window(ts, "10 seconds"), page)
            .agg(count() as views)
            .write(memory, name = {name})
            .output_mode(update)
    }
    .query_name(name)
    .manager(&manager)
    .ui("127.0.0.1:0")
    .checkpoint_location(checkpoint.path())
    .start()
    .unwrap();
    let rt = runtime();
    for step in [
        vec![click(1, "/a"), click(2, "/b"), click(3, "/a")],
        vec![click(25, "/a")],
        vec![click(41, "/c"), click(42, "/c")],
        vec![click(5, "/a"), click(50, "/b")],
    ] {
        clicks.add_rows(&step).unwrap();
        rt.block_on(query.process_all_available()).unwrap();
    }
    if stop {
        rt.block_on(query.stop());
    }
    let progress = query.recent_progress();
    assert!(progress.len() >= 4, "{} batches", progress.len());
    (manager, progress, checkpoint)
}

/// `(sample name, labels without query/query_id) -> value` of one query, parsed by
/// `prometheus_client`.
fn parse(python: &std::path::Path, text: &str, query: &str) -> BTreeMap<(String, String), f64> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/python/parse_metrics.py");
    let mut child = Command::new(python)
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run the parser");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "prometheus_client refused the text: {}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut samples = BTreeMap::new();
    for line in String::from_utf8(out.stdout).unwrap().lines() {
        let s: serde_json::Value = serde_json::from_str(line).unwrap();
        let mut labels = s["labels"].as_object().unwrap().clone();
        if labels
            .remove("query")
            .and_then(|q| q.as_str().map(String::from))
            .as_deref()
            != Some(query)
        {
            continue;
        }
        labels.remove("query_id");
        let labels = serde_json::Value::Object(labels).to_string();
        samples.insert(
            (s["name"].as_str().unwrap().to_string(), labels),
            s["value"].as_f64().unwrap(),
        );
    }
    samples
}

#[test]
fn metrics_parsed_by_prometheus_client_match_the_progress_records() {
    let Some(python) = python_readers("monitoring_metrics") else {
        return;
    };
    let (manager, progress, _checkpoint) = run("monitoring_metrics_q", false);
    let (status, text) = http::get(manager.ui_address().unwrap(), "/metrics");
    assert_eq!(status, 200);
    let samples = parse(&python, &text, "monitoring_metrics_q");
    let get = |name: &str| {
        *samples
            .get(&(name.to_string(), "{}".to_string()))
            .unwrap_or_else(|| panic!("no sample `{name}` in\n{text}"))
    };
    let last = progress.last().unwrap();
    let sum =
        |f: &dyn Fn(&StreamingQueryProgress) -> u64| progress.iter().map(f).sum::<u64>() as f64;
    assert_eq!(get("stream_batches_total"), progress.len() as f64);
    assert_eq!(get("stream_input_rows_total"), sum(&|p| p.num_input_rows));
    assert_eq!(get("stream_input_rows_total"), 8.0);
    assert_eq!(
        get("stream_output_rows_total"),
        sum(&|p| p.sink.num_output_rows as u64)
    );
    let late = sum(&|p| p.state_operators[0].metrics.num_rows_dropped_by_watermark);
    assert!(late >= 1.0, "the row at 00:05 is behind the watermark");
    assert_eq!(get("stream_late_rows_dropped_total"), late);
    assert_eq!(get("stream_query_active"), 1.0);
    assert_eq!(
        get("stream_batch_duration_seconds"),
        last.batch_duration as f64 / 1000.0
    );
    assert_eq!(
        get("stream_processed_rows_per_second"),
        last.processed_rows_per_second
    );
    assert_eq!(
        get("stream_watermark_seconds"),
        watermark_seconds(&last.event_time["watermark"]) as f64
    );
    assert_eq!(
        get("stream_state_rows"),
        last.state_operators[0].metrics.num_rows_total as f64
    );
    assert_eq!(
        get("stream_state_memory_bytes"),
        last.state_operators[0].metrics.memory_used_bytes as f64
    );
    // a memory source tells no backlog (only file and Kafka sources do)
    assert!(
        !samples
            .keys()
            .any(|(name, _)| name == "stream_source_backlog"),
        "{text}"
    );
}

#[test]
fn the_page_json_has_every_batch_and_keeps_a_stopped_query() {
    let (manager, progress, _checkpoint) = run("monitoring_json_q", true);
    let addr = manager.ui_address().unwrap();
    let (status, body) = http::get(addr, "/api/queries");
    assert_eq!(status, 200);
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["served"], "live");
    let view = &json["queries"][0];
    assert_eq!(view["name"], "monitoring_json_q");
    assert_eq!(view["active"], false, "the stopped query is still shown");
    assert_eq!(view["status"]["message"], "Stopped");
    assert_eq!(view["totals"]["batches"], progress.len() as u64);
    let records: Vec<StreamingQueryProgress> =
        serde_json::from_value(view["progress"].clone()).unwrap();
    assert_eq!(records, progress);
    let id = view["id"].as_str().unwrap();
    let (status, one) = http::get(addr, &format!("/api/queries/{id}"));
    assert_eq!(status, 200);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&one).unwrap()["id"],
        id
    );
    let (status, missing) = http::get(addr, "/api/queries/nope");
    assert_eq!(
        (status, missing.contains("no query with id `nope`")),
        (404, true)
    );
    let (status, page) = http::get(addr, "/");
    assert_eq!(status, 200);
    assert!(page.contains("<html") || page.contains("<!doctype") || page.contains("<!DOCTYPE"));
}

#[test]
fn a_checkpoint_keeps_what_the_page_shows_after_the_query_stopped() {
    let (_manager, progress, checkpoint) = run("monitoring_checkpoint_q", true);
    let server =
        stream_core::ui::UiServer::checkpoints(vec![checkpoint.path().into()], "127.0.0.1:0")
            .unwrap();
    let (status, body) = http::get(server.address(), "/api/queries");
    assert_eq!(status, 200);
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["served"], "checkpoint");
    let view = &json["queries"][0];
    assert_eq!(view["name"], "monitoring_checkpoint_q");
    assert_eq!(view["active"], false);
    let records: Vec<StreamingQueryProgress> =
        serde_json::from_value(view["progress"].clone()).unwrap();
    assert_eq!(records, progress);
    server.stop();
}

#[test]
fn a_second_address_for_the_same_manager_is_refused() {
    let manager = StreamingQueryManager::new();
    let first = manager.serve_ui("127.0.0.1:0").unwrap();
    assert_eq!(manager.serve_ui(&first.to_string()).unwrap(), first);
    // a port that is taken by someone else than this manager
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let other = taken.local_addr().unwrap();
    let error = manager
        .serve_ui(&other.to_string())
        .unwrap_err()
        .to_string();
    assert!(error.contains(&first.to_string()), "{error}");
    let fresh = StreamingQueryManager::new();
    let error = fresh.serve_ui(&other.to_string()).unwrap_err().to_string();
    assert!(error.contains("cannot listen on"), "{error}");
}

#[derive(Schema, Clone, Debug, PartialEq)]
struct Reading {
    n: i64,
}

#[test]
fn a_file_source_backlog_is_the_files_it_has_not_read() {
    let landing = tempfile::tempdir().unwrap();
    for i in 0..3 {
        tests::land_file(
            landing.path(),
            &format!("r{i}.json"),
            &format!("{{\"n\":{i}}}\n"),
            i,
        );
    }
    let checkpoint = tempfile::tempdir().unwrap();
    let clock = stream_core::ManualClock::new(1_704_067_200_000);
    let manager = StreamingQueryManager::new();
    let dir = landing.path().to_path_buf();
    let query = stream! {
        schema Reading = Reading;
        read(json, path = {&dir}, schema = Reading, max_files_per_trigger = 1)
            .write(memory, name = "monitoring_backlog")
            .trigger(processing_time("10 seconds"))
    }
    .query_name("monitoring_backlog")
    .manager(&manager)
    .clock(clock.clone())
    .ui("127.0.0.1:0")
    .checkpoint_location(checkpoint.path())
    .start()
    .unwrap();
    let addr = manager.ui_address().unwrap();
    let backlog = |text: &str| {
        text.lines()
            .find(|l| l.starts_with("stream_source_backlog{") && l.contains(r#"unit="files""#))
            .and_then(|l| l.rsplit(' ').next())
            .map(String::from)
    };
    let safety = std::time::Duration::from_secs(30);
    let mut seen = Vec::new();
    for _ in 0..3 {
        assert!(clock.wait_for_sleeper(safety));
        seen.push(backlog(&http::get(addr, "/metrics").1));
        clock.advance(10_000);
    }
    runtime().block_on(query.stop());
    let expected: Vec<Option<String>> = ["2.0", "1.0", "0.0"]
        .iter()
        .map(|s| Some(s.to_string()))
        .collect();
    assert_eq!(seen, expected);
}
