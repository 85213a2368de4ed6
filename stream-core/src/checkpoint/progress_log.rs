//! `progress/`: what the checkpoint keeps for monitoring after the query has stopped.
//!
//! ```text
//! <checkpoint>/progress/N          v1 + the progress record of batch N (Spark's JSON)
//! <checkpoint>/progress/plan       v1 + the compiled plan's text, written at every start
//! <checkpoint>/progress/exception  v1 + {"runId", "timestamp", "message"} of a run that failed
//! ```
//!
//! These files are not part of the batch protocol: nothing reads them to resume, they
//! are written without fsync (a crash may lose the newest, never leaves half of one
//! visible), and they are kept for the same number of batches as the logs. A file
//! that cannot be read is skipped by the reader with a warning: a damaged monitoring
//! record must not hide the others.

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::atomic::replace_unsynced;
use super::{FORMAT_VERSION, MetadataLog};
use crate::progress::StreamingQueryProgress;
use crate::{Result, StreamError};

/// The folder of the monitoring records, under the checkpoint.
const FOLDER: &str = "progress";
const PLAN: &str = "plan";
const EXCEPTION: &str = "exception";

/// The error that stopped a run, as `progress/exception` keeps it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RunFailure {
    pub(crate) run_id: String,
    /// When the run stopped, `yyyy-MM-ddTHH:mm:ss.SSSZ`.
    pub(crate) timestamp: String,
    pub(crate) message: String,
}

/// Writes the monitoring records of a running query.
#[derive(Debug)]
pub(crate) struct ProgressLog {
    log: MetadataLog,
}

impl ProgressLog {
    /// Opens (creating) `progress/` under the checkpoint `dir`.
    pub(crate) fn open(dir: &Path) -> Result<Self> {
        Ok(ProgressLog {
            log: MetadataLog::open(dir.join(FOLDER))?,
        })
    }

    fn file(&self, name: &str) -> PathBuf {
        self.log.dir().join(name)
    }

    /// At the start of a run: the plan's text, and no failure of an earlier run.
    pub(crate) fn start_run(&self, plan: &str) -> Result<()> {
        replace_unsynced(&self.file(PLAN), versioned(plan).as_bytes())?;
        match fs::remove_file(self.file(EXCEPTION)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(StreamError::io(self.file(EXCEPTION), e))
            }
            _ => Ok(()),
        }
    }

    /// The progress record of a batch that ran (a re-run batch replaces its record).
    pub(crate) fn write(&self, progress: &StreamingQueryProgress) -> Result<()> {
        let path = self.log.path(progress.batch_id);
        replace_unsynced(&path, versioned(&progress.json()).as_bytes())
    }

    /// The error that stopped this run.
    pub(crate) fn write_failure(&self, failure: &RunFailure) -> Result<()> {
        let json = serde_json::to_string(failure).unwrap_or_default();
        replace_unsynced(&self.file(EXCEPTION), versioned(&json).as_bytes())
    }

    /// Deletes the records of batches below `id`.
    pub(crate) fn purge_before(&self, id: u64) -> Result<()> {
        self.log.purge_before(id)
    }
}

fn versioned(body: &str) -> String {
    format!("v{FORMAT_VERSION}\n{body}")
}

/// What a stopped query's checkpoint tells about its last batches.
#[cfg(any(feature = "ui", test))]
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct ProgressHistory {
    /// The query's id, from `metadata`.
    pub(crate) id: String,
    /// The kept progress records, oldest first.
    pub(crate) progress: Vec<StreamingQueryProgress>,
    /// The compiled plan's text, if a run of this version wrote it.
    pub(crate) plan: Option<String>,
    /// The failure of the last run, if it failed.
    pub(crate) failure: Option<RunFailure>,
}

#[cfg(any(feature = "ui", test))]
impl ProgressHistory {
    /// Reads the checkpoint `dir`, writing nothing. Fails if `dir` is not a checkpoint
    /// (no readable `metadata`); a checkpoint without `progress/` (written before this
    /// version, or by a query that never ran a batch) has no records.
    pub(crate) fn read(dir: &Path) -> Result<Self> {
        let meta_path = dir.join("metadata");
        let bytes = fs::read(&meta_path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => StreamError::corrupt(
                &meta_path,
                "is missing: the folder is not a query's checkpoint",
            ),
            _ => StreamError::io(&meta_path, e),
        })?;
        let id = super::parse_metadata(&meta_path, &bytes)?.id;
        let folder = dir.join(FOLDER);
        if !folder.is_dir() {
            return Ok(ProgressHistory {
                id,
                ..Default::default()
            });
        }
        let log = MetadataLog::existing(&folder);
        let mut progress = Vec::new();
        for batch in log.ids()? {
            let path = log.path(batch);
            match read_body(&path).and_then(|body| {
                serde_json::from_str::<StreamingQueryProgress>(&body).map_err(|e| {
                    StreamError::corrupt(&path, format!("is not a progress record: {e}"))
                })
            }) {
                Ok(record) => progress.push(record),
                Err(e) => tracing::warn!("skipping a monitoring record: {e}"),
            }
        }
        let plan = optional(&folder.join(PLAN));
        let failure = optional(&folder.join(EXCEPTION)).and_then(|body| {
            serde_json::from_str(&body)
                .map_err(|e| tracing::warn!("skipping {}/{EXCEPTION}: {e}", folder.display()))
                .ok()
        });
        Ok(ProgressHistory {
            id,
            progress,
            plan,
            failure,
        })
    }
}

/// The text after the version line of `path`.
#[cfg(any(feature = "ui", test))]
fn read_body(path: &Path) -> Result<String> {
    let bytes = fs::read(path).map_err(|e| StreamError::io(path, e))?;
    Ok(super::parse_log_file(path, &bytes)?.join("\n"))
}

/// [`read_body`] of a file that may be absent; an unreadable one is skipped with a
/// warning.
#[cfg(any(feature = "ui", test))]
fn optional(path: &Path) -> Option<String> {
    if !path.exists() {
        return None;
    }
    read_body(path)
        .map_err(|e| tracing::warn!("skipping a monitoring record: {e}"))
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(batch_id: u64, rows: u64) -> StreamingQueryProgress {
        StreamingQueryProgress {
            id: "q".into(),
            batch_id,
            num_input_rows: rows,
            ..Default::default()
        }
    }

    fn checkpoint() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let plan = super::super::PlanRecord {
            pipeline: "p".into(),
            fingerprint: "f".into(),
            stages: 1,
            inputs: vec![],
            output: vec![],
        };
        super::super::Checkpoint::open(dir.path(), &plan).unwrap();
        dir
    }

    #[test]
    fn records_plan_and_failure_read_back_and_purge_keeps_the_newest() {
        let dir = checkpoint();
        let log = ProgressLog::open(dir.path()).unwrap();
        log.start_run("Read memory\n+- Filter").unwrap();
        for batch in 0..4 {
            log.write(&record(batch, batch * 10)).unwrap();
        }
        log.write(&record(3, 33)).unwrap(); // a re-run batch replaces its record
        log.purge_before(1).unwrap();
        log.write_failure(&RunFailure {
            run_id: "r".into(),
            timestamp: "2024-01-01T00:00:00.000Z".into(),
            message: "boom".into(),
        })
        .unwrap();
        let history = ProgressHistory::read(dir.path()).unwrap();
        let rows: Vec<(u64, u64)> = history
            .progress
            .iter()
            .map(|p| (p.batch_id, p.num_input_rows))
            .collect();
        assert_eq!(rows, [(1, 10), (2, 20), (3, 33)]);
        assert_eq!(history.plan.as_deref(), Some("Read memory\n+- Filter"));
        assert_eq!(history.failure.unwrap().message, "boom");
        assert!(!history.id.is_empty());

        // the next run starts with no failure on record
        log.start_run("plan 2").unwrap();
        let history = ProgressHistory::read(dir.path()).unwrap();
        assert_eq!(history.failure, None);
        assert_eq!(history.plan.as_deref(), Some("plan 2"));
    }

    #[test]
    fn rates_read_back_to_the_same_f64s() {
        // without serde_json's float_roundtrip some of these came back one ulp off
        let dir = checkpoint();
        let log = ProgressLog::open(dir.path()).unwrap();
        let written: Vec<StreamingQueryProgress> = (0..500u64)
            .map(|i| StreamingQueryProgress {
                processed_rows_per_second: (i * 1_000 + 7) as f64 / 97.0,
                input_rows_per_second: 1.0 / (i + 3) as f64,
                ..record(i, i)
            })
            .collect();
        for p in &written {
            log.write(p).unwrap();
        }
        assert_eq!(ProgressHistory::read(dir.path()).unwrap().progress, written);
    }

    #[test]
    fn a_damaged_record_is_skipped_and_the_others_are_read() {
        let dir = checkpoint();
        let log = ProgressLog::open(dir.path()).unwrap();
        log.write(&record(0, 1)).unwrap();
        log.write(&record(1, 2)).unwrap();
        fs::write(dir.path().join("progress/0"), "v1\n{\"batchId\": tru").unwrap();
        let history = ProgressHistory::read(dir.path()).unwrap();
        assert_eq!(history.progress, [record(1, 2)]);
    }

    #[test]
    fn a_folder_that_is_not_a_checkpoint_is_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let error = ProgressHistory::read(dir.path()).unwrap_err().to_string();
        assert!(error.contains("metadata"), "{error}");
        assert!(error.contains("not a query's checkpoint"), "{error}");
    }

    #[test]
    fn an_old_checkpoint_without_progress_has_no_records() {
        let dir = checkpoint();
        let history = ProgressHistory::read(dir.path()).unwrap();
        assert!(history.progress.is_empty() && history.plan.is_none());
    }
}
