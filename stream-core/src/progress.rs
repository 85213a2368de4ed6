//! Progress records, status and listeners, with Spark's field names and JSON shape.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::state::StateOperatorMetrics;

/// What happened in one micro-batch: Spark's `StreamingQueryProgress`.
///
/// Serialises to the same JSON shape as Spark (camelCase names, `eventTime` left out
/// when empty, `startOffset` as the source's own offset JSON).
///
/// ```
/// # use stream_core::StreamingQueryProgress;
/// let p = StreamingQueryProgress::default();
/// let json = p.json();
/// assert!(json.contains("\"batchId\":0"));
/// assert!(json.contains("\"numInputRows\":0"));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StreamingQueryProgress {
    /// The query's id, stable across restarts.
    pub id: String,
    /// This run's id, new at every start.
    pub run_id: String,
    /// The query's name.
    pub name: Option<String>,
    /// When the trigger started, `yyyy-MM-ddTHH:mm:ss.SSSZ`.
    pub timestamp: String,
    /// The micro-batch id.
    pub batch_id: u64,
    /// Milliseconds the batch took.
    pub batch_duration: i64,
    /// Rows read from all sources.
    pub num_input_rows: u64,
    /// Rows read per second since the previous trigger started.
    pub input_rows_per_second: f64,
    /// Rows processed per second of this trigger.
    pub processed_rows_per_second: f64,
    /// Milliseconds per phase: `latestOffset`, `walCommit`, `getBatch`, `queryPlanning`,
    /// `addBatch`, `commitOffsets`, `triggerExecution`.
    pub duration_ms: BTreeMap<String, i64>,
    /// Event-time statistics (`watermark`, `min`, `max`, `avg`); empty without a watermark.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub event_time: BTreeMap<String, String>,
    /// One entry per stateful operator; always present, empty for a stateless query (Spark
    /// prints `"stateOperators" : [ ]` then).
    pub state_operators: Vec<StateOperatorProgress>,
    /// One entry per source.
    pub sources: Vec<SourceProgress>,
    /// The sink.
    pub sink: SinkProgress,
    /// The late-rows sink of a query that has one (no Spark field: left out of the JSON
    /// otherwise): its description and the rows the stateful operators dropped as late
    /// in this batch, which it was handed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub late_rows_sink: Option<SinkProgress>,
}

impl StreamingQueryProgress {
    /// Compact JSON, as Spark's `json`.
    pub fn json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Indented JSON, as Spark's `prettyJson`.
    pub fn pretty_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

/// Progress of one stateful operator in a batch: Spark's `StateOperatorProgress`.
///
/// The operator's name, then its [`StateOperatorMetrics`] (summed over its partitions)
/// under Spark's JSON names and in Spark's order.
///
/// ```
/// # use stream_core::StateOperatorProgress;
/// let s = StateOperatorProgress { operator_name: "stateStoreSave".into(), ..Default::default() };
/// let json = serde_json::to_string(&s).unwrap();
/// assert!(json.starts_with(r#"{"operatorName":"stateStoreSave","numRowsTotal":0,"#));
/// assert!(json.contains("\"numRowsDroppedByWatermark\":0"));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StateOperatorProgress {
    /// The operator (`stateStoreSave`, `dedupe`, ...).
    pub operator_name: String,
    /// Its numbers: rows in the state, updated and removed, memory, commit time, rows
    /// dropped as late, shuffle partitions and state store instances.
    #[serde(flatten)]
    pub metrics: StateOperatorMetrics,
}

/// Progress of one source in a batch: Spark's `SourceProgress`.
///
/// ```
/// # use stream_core::SourceProgress;
/// let s = SourceProgress { description: "MemoryStream[n]".into(), ..Default::default() };
/// assert!(serde_json::to_string(&s).unwrap().contains("\"startOffset\":null"));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SourceProgress {
    /// The source's description.
    pub description: String,
    /// Where the batch started reading (the end of the previous batch).
    pub start_offset: Option<serde_json::Value>,
    /// Where the batch stopped reading.
    pub end_offset: Option<serde_json::Value>,
    /// The newest offset the source reported.
    pub latest_offset: Option<serde_json::Value>,
    /// Rows read from this source.
    pub num_input_rows: u64,
    /// Rows per second since the previous trigger started.
    pub input_rows_per_second: f64,
    /// Rows per second of processing.
    pub processed_rows_per_second: f64,
    /// Source-specific metrics.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metrics: BTreeMap<String, String>,
}

/// Progress of the sink in a batch: Spark's `SinkProgress`.
///
/// ```
/// # use stream_core::SinkProgress;
/// let s = SinkProgress { description: "MemorySink".into(), num_output_rows: 3, ..Default::default() };
/// assert_eq!(serde_json::to_string(&s).unwrap(), r#"{"description":"MemorySink","numOutputRows":3}"#);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SinkProgress {
    /// The sink's description.
    pub description: String,
    /// Rows handed to the sink.
    pub num_output_rows: i64,
    /// Sink-specific metrics.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metrics: BTreeMap<String, String>,
}

/// What a query is doing now: Spark's `StreamingQueryStatus`.
///
/// ```
/// # use stream_core::StreamingQueryStatus;
/// let s = StreamingQueryStatus::default();
/// assert_eq!(s.message, "Initializing sources");
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StreamingQueryStatus {
    /// A human-readable description.
    pub message: String,
    /// Whether the last trigger found new data.
    pub is_data_available: bool,
    /// Whether a trigger is running.
    pub is_trigger_active: bool,
}

impl Default for StreamingQueryStatus {
    fn default() -> Self {
        StreamingQueryStatus {
            message: "Initializing sources".into(),
            is_data_available: false,
            is_trigger_active: false,
        }
    }
}

/// A query started.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryStartedEvent {
    /// The query's id.
    pub id: String,
    /// This run's id.
    pub run_id: String,
    /// The query's name.
    pub name: Option<String>,
    /// When it started.
    pub timestamp: String,
}

/// A query finished a batch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QueryProgressEvent {
    /// The batch's progress.
    pub progress: StreamingQueryProgress,
}

/// A query stopped, with the error that stopped it if any.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryTerminatedEvent {
    /// The query's id.
    pub id: String,
    /// This run's id.
    pub run_id: String,
    /// The error message, if the query failed.
    pub exception: Option<String>,
}

/// Receives the life events of the queries of a [`crate::StreamingQueryManager`].
///
/// Called on the query's own thread: keep the work short.
///
/// ```
/// use std::sync::atomic::{AtomicU64, Ordering};
/// use stream_core::{QueryProgressEvent, StreamingQueryListener};
///
/// #[derive(Default)]
/// struct RowCounter(AtomicU64);
/// impl StreamingQueryListener for RowCounter {
///     fn on_query_progress(&self, event: &QueryProgressEvent) {
///         self.0.fetch_add(event.progress.num_input_rows, Ordering::Relaxed);
///     }
/// }
/// ```
pub trait StreamingQueryListener: Send + Sync {
    /// The query started (called before its first batch).
    fn on_query_started(&self, event: &QueryStartedEvent) {
        let _ = event;
    }
    /// The query finished a batch.
    fn on_query_progress(&self, event: &QueryProgressEvent) {
        let _ = event;
    }
    /// The query stopped.
    fn on_query_terminated(&self, event: &QueryTerminatedEvent) {
        let _ = event;
    }
}

/// Formats epoch milliseconds as Spark does in progress records.
pub(crate) fn format_timestamp(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
        .unwrap_or_else(|| ms.to_string())
}
