//! `/metrics`: the queries' numbers in the Prometheus text format, encoded by the
//! Prometheus project's own Rust client (`prometheus-client`).
//!
//! Every metric has the labels `query` (its name, else its id) and `query_id`; the
//! backlog also `source` and `unit`. The book's "Monitoring" chapter lists them.

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;

use super::view::QueryView;

type Labels = Vec<(String, String)>;
type Counters = Family<Labels, Counter>;
type Gauges = Family<Labels, Gauge<f64, AtomicU64>>;

/// The metrics of `queries`, as `/metrics` serves them.
pub(crate) fn render(queries: &[QueryView]) -> String {
    // names are given without the `stream_` prefix and the `_total` the encoder adds
    let mut registry = Registry::with_prefix("stream");
    let counter = |registry: &mut Registry, name: &str, help: &str| {
        let family = Counters::default();
        registry.register(name, help, family.clone());
        family
    };
    let gauge = |registry: &mut Registry, name: &str, help: &str| {
        let family = Gauges::default();
        registry.register(name, help, family.clone());
        family
    };
    let batches = counter(&mut registry, "batches", "Micro-batches this run completed");
    let input = counter(
        &mut registry,
        "input_rows",
        "Rows read from all sources by this run",
    );
    let output = counter(
        &mut registry,
        "output_rows",
        "Rows handed to the sink by this run",
    );
    let late = counter(
        &mut registry,
        "late_rows_dropped",
        "Rows the stateful operators dropped behind the watermark in this run",
    );
    let active = gauge(
        &mut registry,
        "query_active",
        "1 while the query runs, 0 once it stopped",
    );
    let duration = gauge(
        &mut registry,
        "batch_duration_seconds",
        "How long the last batch took (triggerExecution)",
    );
    let input_rate = gauge(
        &mut registry,
        "input_rows_per_second",
        "The last batch's rows over the time since the trigger before it started",
    );
    let processed_rate = gauge(
        &mut registry,
        "processed_rows_per_second",
        "The last batch's rows over its own duration",
    );
    let watermark = gauge(
        &mut registry,
        "watermark_seconds",
        "The event-time watermark of the last batch, in seconds since the epoch",
    );
    let state_rows = gauge(
        &mut registry,
        "state_rows",
        "Rows in the state of all stateful operators",
    );
    let state_bytes = gauge(
        &mut registry,
        "state_memory_bytes",
        "Memory the state of all stateful operators uses",
    );
    let backlog = gauge(
        &mut registry,
        "source_backlog",
        "What a source has not read yet after the last batch: files or offsets (label unit)",
    );
    for q in queries {
        let labels: Labels = vec![
            ("query".into(), q.label().to_string()),
            ("query_id".into(), q.id.clone()),
        ];
        batches.get_or_create(&labels).inc_by(q.totals.batches);
        input.get_or_create(&labels).inc_by(q.totals.input_rows);
        output.get_or_create(&labels).inc_by(q.totals.output_rows);
        late.get_or_create(&labels)
            .inc_by(q.totals.late_rows_dropped);
        active
            .get_or_create(&labels)
            .set(if q.active { 1.0 } else { 0.0 });
        let Some(last) = q.progress.last() else {
            continue;
        };
        duration
            .get_or_create(&labels)
            .set(last.batch_duration as f64 / 1000.0);
        input_rate
            .get_or_create(&labels)
            .set(last.input_rows_per_second);
        processed_rate
            .get_or_create(&labels)
            .set(last.processed_rows_per_second);
        if let Some(ms) = last.event_time.get("watermark").and_then(|w| epoch_ms(w)) {
            watermark.get_or_create(&labels).set(ms as f64 / 1000.0);
        }
        if !last.state_operators.is_empty() {
            let (rows, bytes) = last.state_operators.iter().fold((0u64, 0u64), |(r, b), s| {
                (
                    r + s.metrics.num_rows_total,
                    b + s.metrics.memory_used_bytes,
                )
            });
            state_rows.get_or_create(&labels).set(rows as f64);
            state_bytes.get_or_create(&labels).set(bytes as f64);
        }
        for b in &q.backlog {
            let mut labels = labels.clone();
            labels.push(("source".into(), b.source.clone()));
            labels.push(("unit".into(), b.unit.into()));
            backlog.get_or_create(&labels).set(b.value as f64);
        }
    }
    let mut text = String::new();
    // writing into a String cannot fail
    let _ = encode(&mut text, &registry);
    text
}

/// Milliseconds since the epoch of a progress record's `yyyy-MM-ddTHH:mm:ss.SSSZ`.
fn epoch_ms(text: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.timestamp_millis())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::StreamingQueryProgress;
    use crate::query::QueryTotals;
    use crate::ui::view::Backlog;

    #[test]
    fn every_family_is_labelled_by_query_and_counts_the_totals() {
        let mut last = StreamingQueryProgress {
            batch_duration: 250,
            ..Default::default()
        };
        last.event_time
            .insert("watermark".into(), "2024-01-01T00:00:10.000Z".into());
        let view = QueryView {
            id: "id-1".into(),
            run_id: None,
            name: Some("counts".into()),
            active: true,
            status: None,
            exception: None,
            plan: String::new(),
            totals: QueryTotals {
                batches: 3,
                input_rows: 30,
                output_rows: 2,
                late_rows_dropped: 1,
            },
            backlog: vec![Backlog {
                source: "FileSource[in]".into(),
                unit: "files",
                value: 4,
            }],
            progress: vec![last],
        };
        let text = render(&[view]);
        let labels = r#"query="counts",query_id="id-1""#;
        for line in [
            format!("stream_batches_total{{{labels}}} 3"),
            format!("stream_input_rows_total{{{labels}}} 30"),
            format!("stream_late_rows_dropped_total{{{labels}}} 1"),
            format!("stream_batch_duration_seconds{{{labels}}} 0.25"),
            format!("stream_watermark_seconds{{{labels}}} 1704067210.0"),
            format!(
                r#"stream_source_backlog{{{labels},source="FileSource[in]",unit="files"}} 4.0"#
            ),
        ] {
            assert!(text.lines().any(|l| l == line), "no `{line}` in\n{text}");
        }
        assert!(text.ends_with("# EOF\n"), "{text}");
    }
}
