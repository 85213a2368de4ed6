//! What the page and `/api/queries` show of one query: [`QueryView`].

use serde::Serialize;
use serde_json::Value;

use crate::checkpoint::ProgressHistory;
use crate::progress::{SourceProgress, StreamingQueryProgress, StreamingQueryStatus};
use crate::query::{QuerySnapshot, QueryTotals};

/// One query as the page shows it (the JSON of `/api/queries`).
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct QueryView {
    pub(crate) id: String,
    /// `None` when served from a checkpoint.
    pub(crate) run_id: Option<String>,
    pub(crate) name: Option<String>,
    pub(crate) active: bool,
    pub(crate) status: Option<StreamingQueryStatus>,
    pub(crate) exception: Option<String>,
    pub(crate) plan: String,
    pub(crate) totals: QueryTotals,
    /// Each source's backlog after the latest batch, where the source tells it.
    pub(crate) backlog: Vec<Backlog>,
    /// Oldest first.
    pub(crate) progress: Vec<StreamingQueryProgress>,
}

/// What one source has not read yet.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub(crate) struct Backlog {
    /// The source's description.
    pub(crate) source: String,
    /// `files` or `offsets`.
    pub(crate) unit: &'static str,
    pub(crate) value: u64,
}

/// The file source's count of files listed and not read yet (the name Auto Loader and
/// the Delta source report it under).
const FILES_OUTSTANDING: &str = "numFilesOutstanding";
/// The Kafka source's mean, over its partitions, of the offsets behind the latest.
const AVG_OFFSETS_BEHIND: &str = "avgOffsetsBehindLatest";

impl QueryView {
    /// A query of the live manager.
    pub(crate) fn live(q: QuerySnapshot) -> Self {
        QueryView {
            backlog: backlog(&q.progress),
            id: q.id,
            run_id: Some(q.run_id),
            name: q.name,
            active: q.active,
            status: Some(q.status),
            exception: q.exception,
            plan: q.plan,
            totals: q.totals,
            progress: q.progress,
        }
    }

    /// A stopped query, from what its checkpoint kept: the totals are those of the
    /// kept batches.
    pub(crate) fn from_checkpoint(h: ProgressHistory) -> Self {
        let mut totals = QueryTotals::default();
        for p in &h.progress {
            totals.add(p);
        }
        let name = h.progress.last().and_then(|p| p.name.clone());
        QueryView {
            backlog: backlog(&h.progress),
            id: h.id,
            run_id: None,
            name,
            active: false,
            status: None,
            exception: h
                .failure
                .map(|f| format!("{} (at {})", f.message, f.timestamp)),
            plan: h.plan.unwrap_or_default(),
            totals,
            progress: h.progress,
        }
    }

    /// The query's label in metrics: its name, else its id.
    pub(crate) fn label(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.id)
    }
}

/// Each source's backlog after the last of `progress`.
fn backlog(progress: &[StreamingQueryProgress]) -> Vec<Backlog> {
    let Some(last) = progress.last() else {
        return Vec::new();
    };
    last.sources.iter().filter_map(source_backlog).collect()
}

/// A file source's outstanding files; a Kafka source's offsets behind the latest,
/// summed over the partitions of its `endOffset` (its mean times their number). The
/// other sources tell no backlog: the engine records the offsets it capped a batch at
/// as `latestOffset`, so their `latestOffset − endOffset` is always 0.
pub(crate) fn source_backlog(s: &SourceProgress) -> Option<Backlog> {
    let found = |unit, value| Backlog {
        source: s.description.clone(),
        unit,
        value,
    };
    if let Some(files) = s.metrics.get(FILES_OUTSTANDING) {
        return files.parse().ok().map(|n| found("files", n));
    }
    let mean: f64 = s.metrics.get(AVG_OFFSETS_BEHIND)?.parse().ok()?;
    let partitions: usize = match s.end_offset.as_ref()? {
        Value::Object(topics) => topics
            .values()
            .map(|p| p.as_object().map_or(0, |p| p.len()))
            .sum(),
        _ => return None,
    };
    Some(found("offsets", (mean * partitions as f64).round() as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(latest: Value, end: Value) -> SourceProgress {
        SourceProgress {
            description: "s".into(),
            latest_offset: Some(latest),
            end_offset: Some(end),
            ..Default::default()
        }
    }

    #[test]
    fn backlog_of_kafka_offsets_and_file_counts_and_none_for_the_others() {
        let mut kafka = source(
            serde_json::json!({"t": {"0": 8, "1": 7, "2": 3}}),
            serde_json::json!({"t": {"0": 8, "1": 7, "2": 3}}),
        );
        kafka
            .metrics
            .insert(AVG_OFFSETS_BEHIND.into(), "1.7".into());
        let b = source_backlog(&kafka).unwrap();
        assert_eq!((b.unit, b.value), ("offsets", 5));
        let mut file = source(
            serde_json::json!({"logOffset": 3}),
            serde_json::json!({"logOffset": 3}),
        );
        file.metrics.insert(FILES_OUTSTANDING.into(), "17".into());
        let f = source_backlog(&file).unwrap();
        assert_eq!((f.unit, f.value), ("files", 17));
        assert_eq!(
            source_backlog(&source(Value::from(4), Value::from(4))),
            None
        );
    }
}
