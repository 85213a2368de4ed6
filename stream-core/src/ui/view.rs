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
    pub(crate) totals: TotalsView,
    /// Each source's backlog after the latest batch, where the source tells it.
    pub(crate) backlog: Vec<Backlog>,
    /// Oldest first.
    pub(crate) progress: Vec<StreamingQueryProgress>,
}

/// [`QueryTotals`] under the page's names.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TotalsView {
    pub(crate) batches: u64,
    pub(crate) input_rows: u64,
    pub(crate) output_rows: u64,
    pub(crate) late_rows_dropped: u64,
}

impl From<QueryTotals> for TotalsView {
    fn from(t: QueryTotals) -> Self {
        TotalsView {
            batches: t.batches,
            input_rows: t.input_rows,
            output_rows: t.output_rows,
            late_rows_dropped: t.late_rows_dropped,
        }
    }
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

/// The file source's count of files listed and not read yet (Spark's name).
const FILES_OUTSTANDING: &str = "numFilesOutstanding";

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
            totals: q.totals.into(),
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
            totals: totals.into(),
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

/// A file source's outstanding files; else, for offsets that are numbers (memory and
/// rate sources) or maps of them (Kafka's topic → partition → offset), the newest
/// offset the source reported minus where the batch stopped, summed.
pub(crate) fn source_backlog(s: &SourceProgress) -> Option<Backlog> {
    let found = |unit, value| Backlog {
        source: s.description.clone(),
        unit,
        value,
    };
    if let Some(files) = s.metrics.get(FILES_OUTSTANDING) {
        return files.parse().ok().map(|n| found("files", n));
    }
    let behind = offsets_behind(s.latest_offset.as_ref()?, s.end_offset.as_ref()?)?;
    Some(found("offsets", behind))
}

fn offsets_behind(latest: &Value, end: &Value) -> Option<u64> {
    match (latest, end) {
        (Value::Number(l), Value::Number(e)) => {
            Some(l.as_i64()?.saturating_sub(e.as_i64()?).max(0) as u64)
        }
        (Value::Object(l), Value::Object(e)) => {
            let mut sum = 0u64;
            for (key, latest) in l {
                // a partition the batch has not read yet is behind from its start
                let end = e.get(key).cloned().unwrap_or(Value::from(0));
                sum += offsets_behind(latest, &end)?;
            }
            Some(sum)
        }
        _ => None,
    }
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
    fn backlog_of_numeric_and_kafka_offsets_and_file_counts() {
        let b = source_backlog(&source(Value::from(10), Value::from(4))).unwrap();
        assert_eq!((b.unit, b.value), ("offsets", 6));
        let kafka = source_backlog(&source(
            serde_json::json!({"t": {"0": 10, "1": 7, "2": 3}}),
            serde_json::json!({"t": {"0": 8, "1": 7}}),
        ))
        .unwrap();
        assert_eq!(kafka.value, 2 + 3);
        let mut file = source(
            serde_json::json!({"logOffset": 3}),
            serde_json::json!({"logOffset": 1}),
        );
        file.metrics.insert(FILES_OUTSTANDING.into(), "17".into());
        let f = source_backlog(&file).unwrap();
        assert_eq!((f.unit, f.value), ("files", 17));
        assert_eq!(
            source_backlog(&source(Value::from("x"), Value::from(1))),
            None
        );
    }
}
