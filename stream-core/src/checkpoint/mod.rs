//! The checkpoint folder: what lets a query resume after a crash.
//!
//! ```text
//! <checkpoint>/metadata      v1 + {"id": query id, "plan": the shape of the query}
//! <checkpoint>/offsets/N     v1 + batch metadata + one offset line per source (write-ahead)
//! <checkpoint>/commits/N     v1 + {"nextBatchWatermarkMs": ..} once the sink has batch N
//! <checkpoint>/sources/<i>/  each source's own log
//! <checkpoint>/progress/     monitoring records: progress per batch, the plan, a failure
//! ```
//!
//! Every file is written atomically and starts with a version line. Nothing is ever
//! overwritten, and a file that cannot be read stops the query with an error naming it:
//! the checkpoint is never reset to zero behind the user's back.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub(crate) mod atomic;
mod log;
mod progress_log;

pub use log::{FORMAT_VERSION, MetadataLog};
pub(crate) use log::{parse_log_file, parse_versioned};
#[cfg(feature = "ui")]
pub(crate) use progress_log::ProgressHistory;
pub(crate) use progress_log::{ProgressLog, RunFailure};

use crate::{Offset, PipelineInfo, Result, StreamError};

/// The shape of a query, recorded in `metadata` and compared on every start.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct PlanRecord {
    pub(crate) pipeline: String,
    pub(crate) fingerprint: String,
    pub(crate) stages: usize,
    pub(crate) inputs: Vec<Vec<FieldRecord>>,
    pub(crate) output: Vec<FieldRecord>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct FieldRecord {
    name: String,
    #[serde(rename = "type")]
    data_type: String,
    nullable: bool,
}

impl FieldRecord {
    fn list(schema: &arrow_schema::Schema) -> Vec<FieldRecord> {
        schema
            .fields()
            .iter()
            .map(|f| FieldRecord {
                name: f.name().clone(),
                data_type: f.data_type().to_string(),
                nullable: f.is_nullable(),
            })
            .collect()
    }

    fn describe(fields: &[FieldRecord]) -> String {
        let cols: Vec<String> = fields
            .iter()
            .map(|f| {
                format!(
                    "{}: {}{}",
                    f.name,
                    f.data_type,
                    if f.nullable { "" } else { " not null" }
                )
            })
            .collect();
        format!("({})", cols.join(", "))
    }
}

/// When `was` and `is` differ only in the session window's columns, which builds before
/// December 2026 named `session_start` and `session_end`: what happened and what to do.
fn session_columns_renamed(was: &[FieldRecord], is: &[FieldRecord]) -> &'static str {
    fn renamed(name: &str) -> &str {
        match name {
            "session_start" => "session_window_start",
            "session_end" => "session_window_end",
            other => other,
        }
    }
    let same_but_renamed = was.len() == is.len()
        && was.iter().any(|f| f.name == "session_start")
        && was.iter().zip(is).all(|(w, i)| {
            renamed(&w.name) == i.name && w.data_type == i.data_type && w.nullable == i.nullable
        });
    if same_but_renamed {
        ": a session window's columns are now named `session_window_start` and \
         `session_window_end`, as Spark names them, and its sink would get rows with other \
         columns in the middle of the stream; run this query on a new checkpoint and a new \
         output location, or finish this checkpoint with the build that wrote it"
    } else {
        ""
    }
}

impl PlanRecord {
    pub(crate) fn of(info: &PipelineInfo) -> Self {
        PlanRecord {
            pipeline: info.name.clone(),
            fingerprint: info.fingerprint.clone(),
            stages: info.stages,
            inputs: info
                .input_schemas
                .iter()
                .map(|s| FieldRecord::list(s))
                .collect(),
            output: FieldRecord::list(&info.output_schema),
        }
    }

    /// The first difference between what the checkpoint holds (`self`) and `now`.
    fn difference(&self, now: &PlanRecord) -> Option<String> {
        if self.inputs.len() != now.inputs.len() {
            return Some(format!(
                "it had {} source(s), this query has {}",
                self.inputs.len(),
                now.inputs.len()
            ));
        }
        for (i, (was, is)) in self.inputs.iter().zip(&now.inputs).enumerate() {
            if was != is {
                return Some(format!(
                    "source {i} had schema {}, this query's is {}",
                    FieldRecord::describe(was),
                    FieldRecord::describe(is)
                ));
            }
        }
        if self.output != now.output {
            return Some(format!(
                "its output schema was {}, this query's is {}{}",
                FieldRecord::describe(&self.output),
                FieldRecord::describe(&now.output),
                session_columns_renamed(&self.output, &now.output)
            ));
        }
        // the name (a `stream!` block's `query_name`) is recorded but may change: it
        // changes no result; the fingerprint covers the plan
        if self.fingerprint != now.fingerprint || self.stages != now.stages {
            return Some(format!(
                "it ran pipeline `{}` (fingerprint `{}`), this query runs `{}` (fingerprint `{}`)",
                self.pipeline, self.fingerprint, now.pipeline, now.fingerprint
            ));
        }
        None
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct MetadataRecord {
    id: String,
    plan: PlanRecord,
}

/// Batch-wide facts written in `offsets/N` beside the offsets (Spark's `OffsetSeqMetadata`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct BatchMetadata {
    pub(crate) batch_watermark_ms: i64,
    pub(crate) batch_timestamp_ms: i64,
    /// The watermark late input is dropped against: the previous batch's (absent in
    /// checkpoints of stateless queries written before it was recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) late_watermark_ms: Option<i64>,
    /// Settings that affect results, fixed for the life of the checkpoint.
    #[serde(default)]
    pub(crate) conf: BTreeMap<String, String>,
}

/// The content of `offsets/N`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct OffsetSeq {
    pub(crate) metadata: BatchMetadata,
    /// One per source; `None` for a source that had no data yet.
    pub(crate) offsets: Vec<Option<Offset>>,
}

/// The content of `commits/N`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CommitRecord {
    pub(crate) next_batch_watermark_ms: i64,
}

/// An open checkpoint folder.
#[derive(Debug)]
pub(crate) struct Checkpoint {
    dir: PathBuf,
    query_id: String,
    offsets: MetadataLog,
    commits: MetadataLog,
    progress: ProgressLog,
}

impl Checkpoint {
    /// Opens the checkpoint in `dir`, creating it for a new query, or checking that the
    /// existing one was written by a query of the same shape. Writes nothing when it
    /// returns an error.
    pub(crate) fn open(dir: &Path, plan: &PlanRecord) -> Result<Self> {
        let meta_path = dir.join("metadata");
        let offsets_dir = dir.join("offsets");
        let commits_dir = dir.join("commits");
        let query_id = match std::fs::read(&meta_path) {
            Ok(bytes) => {
                let record = parse_metadata(&meta_path, &bytes)?;
                if let Some(reason) = record.plan.difference(plan) {
                    return Err(StreamError::CheckpointMismatch {
                        path: dir.to_path_buf(),
                        reason,
                    });
                }
                record.id
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                for d in [&offsets_dir, &commits_dir] {
                    if d.is_dir() && !(MetadataLog { dir: d.clone() }).ids()?.is_empty() {
                        return Err(StreamError::corrupt(
                            &meta_path,
                            format!("is missing while `{}` holds batches", d.display()),
                        ));
                    }
                }
                atomic::create_dir_synced(dir)?;
                let record = MetadataRecord {
                    id: uuid::Uuid::new_v4().to_string(),
                    plan: plan.clone(),
                };
                let json = serde_json::to_string(&record)
                    .map_err(|e| StreamError::InvalidQuery(e.to_string()))?;
                atomic::write_atomic(
                    &meta_path,
                    format!("v{FORMAT_VERSION}\n{json}").as_bytes(),
                    false,
                )?;
                record.id
            }
            Err(e) => return Err(StreamError::io(&meta_path, e)),
        };
        Ok(Checkpoint {
            dir: dir.to_path_buf(),
            query_id,
            offsets: MetadataLog::open(offsets_dir)?,
            commits: MetadataLog::open(commits_dir)?,
            progress: ProgressLog::open(dir)?,
        })
    }

    /// The monitoring records (`progress/`).
    pub(crate) fn progress_log(&self) -> &ProgressLog {
        &self.progress
    }

    /// Removes the temporary files that writes cut short by a crash left in the
    /// checkpoint (only names of ours); how many went. Called once the checkpoint is
    /// validated and the query holds it, so no write of it is in flight.
    pub(crate) fn remove_leftover_temps(&self) -> Result<usize> {
        atomic::remove_leftover_temps(&self.dir)
    }

    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    pub(crate) fn query_id(&self) -> &str {
        &self.query_id
    }

    pub(crate) fn source_dir(&self, index: usize) -> PathBuf {
        self.dir.join("sources").join(index.to_string())
    }

    pub(crate) fn latest_offsets_id(&self) -> Result<Option<u64>> {
        self.offsets.latest_id()
    }

    pub(crate) fn latest_commit_id(&self) -> Result<Option<u64>> {
        self.commits.latest_id()
    }

    pub(crate) fn offsets_path(&self, batch_id: u64) -> PathBuf {
        self.offsets.path(batch_id)
    }

    pub(crate) fn commits_path(&self, batch_id: u64) -> PathBuf {
        self.commits.path(batch_id)
    }

    pub(crate) fn write_offsets(&self, batch_id: u64, seq: &OffsetSeq) -> Result<()> {
        let mut lines = vec![
            serde_json::to_string(&seq.metadata)
                .map_err(|e| StreamError::InvalidQuery(e.to_string()))?,
        ];
        lines.extend(
            seq.offsets
                .iter()
                .map(|o| o.as_ref().map_or_else(|| "-".to_string(), Offset::json)),
        );
        self.offsets.add(batch_id, &lines)
    }

    /// Reads `offsets/N`, checking it has one offset per source.
    pub(crate) fn read_offsets(&self, batch_id: u64, sources: usize) -> Result<OffsetSeq> {
        let path = self.offsets.path(batch_id);
        let lines = self
            .offsets
            .get(batch_id)?
            .ok_or_else(|| StreamError::corrupt(&path, "is missing"))?;
        parse_offsets(&path, &lines, sources)
    }

    pub(crate) fn write_commit(&self, batch_id: u64, record: &CommitRecord) -> Result<()> {
        let json =
            serde_json::to_string(record).map_err(|e| StreamError::InvalidQuery(e.to_string()))?;
        self.commits.add(batch_id, &[json])
    }

    pub(crate) fn read_commit(&self, batch_id: u64) -> Result<CommitRecord> {
        let path = self.commits.path(batch_id);
        let lines = self
            .commits
            .get(batch_id)?
            .ok_or_else(|| StreamError::corrupt(&path, "is missing"))?;
        parse_commit(&path, &lines)
    }

    /// Removes offsets, commits and progress records older than `keep_from`.
    pub(crate) fn purge_before(&self, keep_from: u64) -> Result<()> {
        self.offsets.purge_before(keep_from)?;
        self.commits.purge_before(keep_from)?;
        self.progress.purge_before(keep_from)
    }
}

/// The record of the checkpoint's `metadata` file `path`, whose bytes are `bytes`.
pub(crate) fn parse_metadata(path: &Path, bytes: &[u8]) -> Result<MetadataRecord> {
    let lines = log::parse_log_file(path, bytes)?;
    serde_json::from_str(lines.first().map_or("", |l| l))
        .map_err(|e| StreamError::corrupt(path, format!("cannot be parsed: {e}")))
}

/// The content of `offsets/N` (the file `path`) from its `lines` after the version line,
/// checking it has one offset per source.
pub(crate) fn parse_offsets(path: &Path, lines: &[String], sources: usize) -> Result<OffsetSeq> {
    let (meta, rest) = lines
        .split_first()
        .ok_or_else(|| StreamError::corrupt(path, "has no batch metadata line"))?;
    let metadata: BatchMetadata = serde_json::from_str(meta).map_err(|e| {
        StreamError::corrupt(path, format!("batch metadata line cannot be parsed: {e}"))
    })?;
    if rest.len() != sources {
        return Err(StreamError::corrupt(
            path,
            format!(
                "holds {} source offset(s) but the query has {sources} source(s)",
                rest.len()
            ),
        ));
    }
    let offsets = rest
        .iter()
        .enumerate()
        .map(|(i, line)| match line.as_str() {
            "-" => Ok(None),
            text => Offset::parse_json(text).map(Some).map_err(|e| {
                StreamError::corrupt(path, format!("offset of source {i} cannot be parsed: {e}"))
            }),
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(OffsetSeq { metadata, offsets })
}

/// The content of `commits/N` (the file `path`) from its `lines` after the version line.
pub(crate) fn parse_commit(path: &Path, lines: &[String]) -> Result<CommitRecord> {
    serde_json::from_str(lines.first().map_or("", |l| l))
        .map_err(|e| StreamError::corrupt(path, format!("cannot be parsed: {e}")))
}
