//! The file sink's manifest: which data files each batch committed (Spark's
//! `_spark_metadata`, ours `_stream_metadata`).
//!
//! ```text
//! <path>/_stream_metadata/format        v1 + {"format", "partitionBy", "schema"} (write-once)
//! <path>/_stream_metadata/<N>           v1 + one JSON line per file batch N committed
//! <path>/_stream_metadata/<N>.compact   v1 + every live file up to batch N
//! ```
//!
//! A file line is `{"path":"country=DE/part-00003-00000-<uuid>.snappy.parquet",
//! "size":1234,"rows":40,"batchId":3,"commitMs":1700000000000,"action":"add"}`, the path
//! relative to the sink's folder. Every manifest file is written atomically (temp file,
//! fsync, hard link, fsync of the folder) and never overwritten, so a batch's files become
//! visible to manifest readers all at once, when its manifest file appears.
//!
//! The live files are those of the newest `.compact` file and of every plain file with a
//! higher batch id. Batch N is a compaction batch when `(N + 1) % compact_interval == 0`
//! (Spark's rule): it writes `N.compact` instead of `N`, holding the previous compaction's
//! files, those of the batches since and its own, less the files whose `commitMs` is more
//! than the retention older than the compaction (when a retention is set). After writing
//! `N.compact`, the manifest files older than the previous compaction (batch ids below it)
//! are deleted, so the folder holds at most two compactions' worth of files and a reader
//! that listed the folder just before the compaction can still read what it listed.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use arrow_schema::Schema;
use serde::{Deserialize, Serialize};

use crate::checkpoint::atomic::{create_dir_synced, write_atomic};
use crate::{Result, StreamError};

/// The manifest folder inside the sink's folder.
pub(crate) const METADATA_DIR: &str = "_stream_metadata";
/// The write-once file that fixes the layout of the folder.
const LAYOUT_FILE: &str = "format";
/// The first line of every manifest file.
const VERSION_LINE: &str = "v1";
/// The suffix of compaction files.
const COMPACT_SUFFIX: &str = ".compact";

/// One committed data file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ManifestEntry {
    /// The path relative to the sink's folder, `/`-separated.
    pub(crate) path: String,
    /// The size in bytes.
    pub(crate) size: u64,
    /// The number of rows.
    pub(crate) rows: u64,
    /// The batch that wrote it.
    pub(crate) batch_id: u64,
    /// When the batch committed it (the query's clock), for the retention.
    pub(crate) commit_ms: i64,
    /// Always `add` (Spark's log also knows `delete`, which its sink never writes).
    pub(crate) action: String,
}

/// What the folder holds: the format, partition columns and schema, fixed by the first
/// query that writes it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Layout {
    pub(crate) format: String,
    pub(crate) partition_by: Vec<String>,
    pub(crate) schema: Schema,
}

impl Layout {
    /// A short text for messages: `parquet partitioned by [country] with (a Int64, ..)`.
    fn describe(&self) -> String {
        let columns: Vec<String> = self
            .schema
            .fields()
            .iter()
            .map(|f| {
                format!(
                    "{} {}{}",
                    f.name(),
                    f.data_type(),
                    if f.is_nullable() { "" } else { " not null" }
                )
            })
            .collect();
        format!(
            "`{}` partitioned by [{}] with columns ({})",
            self.format,
            self.partition_by.join(", "),
            columns.join(", ")
        )
    }
}

/// How the manifest is compacted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct CompactionPolicy {
    /// Every `interval`-th batch writes a `.compact` file (at least 1).
    pub(crate) interval: u64,
    /// Files committed longer ago than this (ms) leave the manifest at a compaction.
    pub(crate) retention_ms: Option<i64>,
}

impl CompactionPolicy {
    fn is_compaction_batch(&self, batch_id: u64) -> bool {
        (batch_id + 1).is_multiple_of(self.interval.max(1))
    }
}

/// A manifest file's batch id and kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct LogFile {
    batch_id: u64,
    compact: bool,
}

impl LogFile {
    fn parse(name: &str) -> Option<LogFile> {
        let (digits, compact) = match name.strip_suffix(COMPACT_SUFFIX) {
            Some(d) => (d, true),
            None => (name, false),
        };
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        Some(LogFile {
            batch_id: digits.parse().ok()?,
            compact,
        })
    }

    fn name(&self) -> String {
        if self.compact {
            format!("{}{COMPACT_SUFFIX}", self.batch_id)
        } else {
            self.batch_id.to_string()
        }
    }
}

/// The manifest of one sink folder.
#[derive(Clone, Debug)]
pub(crate) struct Manifest {
    dir: PathBuf,
}

impl Manifest {
    /// The manifest of the sink writing `root`.
    pub(crate) fn new(root: &Path) -> Manifest {
        Manifest {
            dir: root.join(METADATA_DIR),
        }
    }

    /// The layout the folder was created with, if a query has written it.
    pub(crate) fn read_layout(&self) -> Result<Option<Layout>> {
        let path = self.dir.join(LAYOUT_FILE);
        let text = match fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(StreamError::io(&path, e)),
        };
        parse_layout(&path, &text).map(Some)
    }

    /// Writes the layout if the folder has none, or checks that it has this one.
    pub(crate) fn ensure_layout(&self, layout: &Layout) -> Result<()> {
        create_dir_synced(&self.dir)?;
        if self.read_layout()?.is_none() {
            let text = format!(
                "{VERSION_LINE}\n{}\n",
                serde_json::to_string(layout).map_err(|e| sink_file(&self.dir, e.to_string()))?
            );
            // Write-once: if another writer won the race, compare with what it wrote.
            let _ = write_atomic(&self.dir.join(LAYOUT_FILE), text.as_bytes(), false);
        }
        let path = self.dir.join(LAYOUT_FILE);
        let found = self
            .read_layout()?
            .ok_or_else(|| sink_file(&path, "could not be written".into()))?;
        let same_fields = found.schema.fields().len() == layout.schema.fields().len()
            && found
                .schema
                .fields()
                .iter()
                .zip(layout.schema.fields())
                .all(|(a, b)| {
                    a.name() == b.name()
                        && a.data_type() == b.data_type()
                        && a.is_nullable() == b.is_nullable()
                });
        if found.format != layout.format
            || found.partition_by != layout.partition_by
            || !same_fields
        {
            return Err(sink_file(
                &path,
                format!(
                    "the folder holds {} but this query writes {}; write to a new folder",
                    found.describe(),
                    layout.describe()
                ),
            ));
        }
        Ok(())
    }

    /// Every manifest file, by batch id.
    fn list(&self) -> Result<BTreeMap<u64, LogFile>> {
        let mut files = BTreeMap::new();
        let entries = match fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(files),
            Err(e) => return Err(StreamError::io(&self.dir, e)),
        };
        for entry in entries {
            let entry = entry.map_err(|e| StreamError::io(&self.dir, e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Some(file) = LogFile::parse(&name) {
                // a compaction file and a plain file of one id cannot both be written
                // by this sink; prefer the compaction if a foreign tool left both
                let keep = files
                    .get(&file.batch_id)
                    .is_none_or(|old: &LogFile| !old.compact);
                if keep {
                    files.insert(file.batch_id, file);
                }
            }
        }
        Ok(files)
    }

    /// The newest batch id the manifest holds.
    pub(crate) fn latest_batch_id(&self) -> Result<Option<u64>> {
        Ok(self.list()?.keys().next_back().copied())
    }

    /// The files of the newest compaction and of every later batch, in batch order.
    pub(crate) fn live_entries(&self) -> Result<Vec<ManifestEntry>> {
        let files = self.list()?;
        let newest_compact = files.values().rev().find(|f| f.compact).map(|f| f.batch_id);
        let mut entries = Vec::new();
        for file in files.values() {
            if newest_compact.is_none_or(|c| file.batch_id >= c) {
                entries.extend(self.read_entries(&self.dir.join(file.name()))?);
            }
        }
        Ok(entries)
    }

    fn read_entries(&self, path: &Path) -> Result<Vec<ManifestEntry>> {
        let text = fs::read_to_string(path).map_err(|e| StreamError::io(path, e))?;
        parse_entries(path, &text)
    }

    /// Records `entries` as batch `batch_id`'s files: a plain manifest file, or on a
    /// compaction batch the `.compact` file with every live file, followed by the
    /// deletion of manifest files older than the previous compaction.
    pub(crate) fn commit(
        &self,
        batch_id: u64,
        entries: Vec<ManifestEntry>,
        policy: CompactionPolicy,
        now_ms: i64,
    ) -> Result<()> {
        create_dir_synced(&self.dir)?;
        if !policy.is_compaction_batch(batch_id) {
            let path = self.dir.join(batch_id.to_string());
            return write_atomic(&path, &encode(&path, &entries)?, false);
        }
        let previous = self.list()?;
        let previous_compact = previous
            .values()
            .rev()
            .find(|f| f.compact && f.batch_id < batch_id)
            .map(|f| f.batch_id);
        let mut all = self.live_entries()?;
        all.extend(entries);
        if let Some(retention) = policy.retention_ms {
            let cutoff = now_ms.saturating_sub(retention);
            all.retain(|e| e.commit_ms >= cutoff);
        }
        let file = LogFile {
            batch_id,
            compact: true,
        };
        let path = self.dir.join(file.name());
        write_atomic(&path, &encode(&path, &all)?, false)?;
        if let Some(previous_compact) = previous_compact {
            for old in previous.values().filter(|f| f.batch_id < previous_compact) {
                let old_path = self.dir.join(old.name());
                match fs::remove_file(&old_path) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(StreamError::io(&old_path, e)),
                }
            }
        }
        Ok(())
    }

    /// The names of the manifest files present, in batch order (for tests and docs).
    #[cfg(test)]
    fn file_names(&self) -> Vec<String> {
        self.list().unwrap().values().map(LogFile::name).collect()
    }
}

/// The layout record of the file `path`, whose text is `text`.
pub(crate) fn parse_layout(path: &Path, text: &str) -> Result<Layout> {
    let body = strip_version(path, text)?;
    serde_json::from_str(body).map_err(|e| sink_file(path, format!("is not a layout record: {e}")))
}

/// The entries of the manifest file `path`, whose text is `text`.
pub(crate) fn parse_entries(path: &Path, text: &str) -> Result<Vec<ManifestEntry>> {
    let body = strip_version(path, text)?;
    body.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(i, line)| {
            serde_json::from_str(line)
                .map_err(|e| sink_file(path, format!("line {} is not a file entry: {e}", i + 2)))
        })
        .collect()
}

fn encode(path: &Path, entries: &[ManifestEntry]) -> Result<Vec<u8>> {
    let mut text = String::from(VERSION_LINE);
    text.push('\n');
    for entry in entries {
        text.push_str(&serde_json::to_string(entry).map_err(|e| sink_file(path, e.to_string()))?);
        text.push('\n');
    }
    Ok(text.into_bytes())
}

fn strip_version<'t>(path: &Path, text: &'t str) -> Result<&'t str> {
    let (first, rest) = text.split_once('\n').unwrap_or((text, ""));
    if first.trim_end() != VERSION_LINE {
        return Err(StreamError::UnsupportedCheckpointVersion {
            path: path.to_path_buf(),
            found: first.chars().take(20).collect(),
            supported: 1,
        });
    }
    Ok(rest)
}

pub(crate) fn sink_file(path: &Path, message: String) -> StreamError {
    StreamError::SinkFile {
        path: path.to_path_buf(),
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(batch_id: u64, commit_ms: i64) -> ManifestEntry {
        ManifestEntry {
            path: format!("part-{batch_id:05}-00000-x.parquet"),
            size: 10,
            rows: 1,
            batch_id,
            commit_ms,
            action: "add".into(),
        }
    }

    fn batches(entries: &[ManifestEntry]) -> Vec<u64> {
        entries.iter().map(|e| e.batch_id).collect()
    }

    #[test]
    fn log_file_names_parse_and_print() {
        assert_eq!(
            LogFile::parse("12"),
            Some(LogFile {
                batch_id: 12,
                compact: false
            })
        );
        assert_eq!(
            LogFile::parse("9.compact").map(|f| f.name()),
            Some("9.compact".into())
        );
        for bad in ["", ".compact", "format", "1a", ".3.tmp", "-1"] {
            assert_eq!(LogFile::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn compaction_every_interval_and_old_files_deleted() {
        let dir = tempfile::tempdir().unwrap();
        let manifest = Manifest::new(dir.path());
        let policy = CompactionPolicy {
            interval: 3,
            retention_ms: None,
        };
        for id in 0..8 {
            manifest.commit(id, vec![entry(id, 0)], policy, 0).unwrap();
        }
        // compactions at 2 and 5; after 5, files below 2 are gone
        assert_eq!(
            manifest.file_names(),
            ["2.compact", "3", "4", "5.compact", "6", "7"]
        );
        assert_eq!(manifest.latest_batch_id().unwrap(), Some(7));
        assert_eq!(
            batches(&manifest.live_entries().unwrap()),
            (0..8).collect::<Vec<_>>()
        );
        manifest.commit(8, vec![], policy, 0).unwrap();
        assert_eq!(manifest.file_names(), ["5.compact", "6", "7", "8.compact"]);
        assert_eq!(
            batches(&manifest.live_entries().unwrap()),
            (0..8).collect::<Vec<_>>()
        );
    }

    #[test]
    fn retention_drops_old_entries_at_compaction() {
        let dir = tempfile::tempdir().unwrap();
        let manifest = Manifest::new(dir.path());
        let policy = CompactionPolicy {
            interval: 2,
            retention_ms: Some(1_000),
        };
        manifest.commit(0, vec![entry(0, 0)], policy, 0).unwrap();
        manifest
            .commit(1, vec![entry(1, 500)], policy, 500)
            .unwrap();
        assert_eq!(batches(&manifest.live_entries().unwrap()), [0, 1]);
        manifest
            .commit(2, vec![entry(2, 1_200)], policy, 1_200)
            .unwrap();
        manifest
            .commit(3, vec![entry(3, 1_600)], policy, 1_600)
            .unwrap();
        // at 1600 the cutoff is 600: batches 0 and 1 leave the manifest
        assert_eq!(batches(&manifest.live_entries().unwrap()), [2, 3]);
    }

    #[test]
    fn a_manifest_file_is_write_once() {
        let dir = tempfile::tempdir().unwrap();
        let manifest = Manifest::new(dir.path());
        let policy = CompactionPolicy {
            interval: 10,
            retention_ms: None,
        };
        manifest.commit(0, vec![entry(0, 0)], policy, 0).unwrap();
        let e = manifest.commit(0, vec![], policy, 0).unwrap_err();
        assert!(e.to_string().contains("already exists"), "{e}");
    }

    #[test]
    fn layout_is_fixed_by_the_first_writer() {
        use arrow_schema::{DataType, Field};
        let dir = tempfile::tempdir().unwrap();
        let manifest = Manifest::new(dir.path());
        let layout = Layout {
            format: "parquet".into(),
            partition_by: vec![],
            schema: Schema::new(vec![Field::new("a", DataType::Int64, false)]),
        };
        assert_eq!(manifest.read_layout().unwrap(), None);
        manifest.ensure_layout(&layout).unwrap();
        manifest.ensure_layout(&layout).unwrap();
        let json = Layout {
            format: "json".into(),
            ..layout.clone()
        };
        let e = manifest.ensure_layout(&json).unwrap_err();
        let text = e.to_string();
        assert!(text.contains("_stream_metadata/format"), "{text}");
        assert!(text.contains("holds `parquet`"), "{text}");
    }

    #[test]
    fn unreadable_manifest_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let manifest = Manifest::new(dir.path());
        fs::create_dir_all(dir.path().join(METADATA_DIR)).unwrap();
        fs::write(dir.path().join(METADATA_DIR).join("0"), "v1\nnot json\n").unwrap();
        let e = manifest.live_entries().unwrap_err().to_string();
        assert!(
            e.contains("_stream_metadata/0") && e.contains("line 2"),
            "{e}"
        );
        fs::write(dir.path().join(METADATA_DIR).join("0"), "v9\n").unwrap();
        let e = manifest.live_entries().unwrap_err().to_string();
        assert!(e.contains("v9"), "{e}");
    }
}
