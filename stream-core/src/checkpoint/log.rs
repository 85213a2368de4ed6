//! A folder of write-once, versioned files named by batch id (`offsets/`, `commits/`,
//! `sources/<i>/`), as Spark's `HDFSMetadataLog`.

use std::fs;
use std::path::{Path, PathBuf};

use super::atomic::{create_dir_synced, write_atomic};
use crate::{Result, StreamError};

/// The format version of every file this build writes.
pub const FORMAT_VERSION: u32 = 1;

/// A log of entries keyed by batch id, one file per entry: a version line `v1`, then the
/// entry's lines. Entries are written atomically and never overwritten.
///
/// Sources use it for what they must remember to replay a range (the file source keeps
/// each offset's file list here).
///
/// ```
/// use stream_core::MetadataLog;
/// let dir = tempfile::tempdir().unwrap();
/// let log = MetadataLog::open(dir.path().join("sources/0")).unwrap();
/// log.add(0, &["{\"path\":\"a.json\"}".to_string()]).unwrap();
/// assert_eq!(log.latest_id().unwrap(), Some(0));
/// assert_eq!(log.get(0).unwrap().unwrap(), vec!["{\"path\":\"a.json\"}".to_string()]);
/// assert!(log.add(0, &[]).is_err(), "entries are write-once");
/// ```
#[derive(Clone, Debug)]
pub struct MetadataLog {
    pub(super) dir: PathBuf,
}

impl MetadataLog {
    /// Opens (creating if needed) the log in `dir`.
    pub fn open(dir: impl Into<PathBuf>) -> Result<Self> {
        let dir = dir.into();
        create_dir_synced(&dir)?;
        Ok(MetadataLog { dir })
    }

    /// The log in `dir` as it is, creating nothing: for a reader of a checkpoint that
    /// must not write to it (its calls fail on a missing folder).
    pub(crate) fn existing(dir: impl Into<PathBuf>) -> Self {
        MetadataLog { dir: dir.into() }
    }

    /// The folder of the log.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file of entry `id`.
    pub fn path(&self, id: u64) -> PathBuf {
        self.dir.join(id.to_string())
    }

    /// Writes entry `id`; fails if it exists.
    pub fn add(&self, id: u64, lines: &[String]) -> Result<()> {
        let mut text = format!("v{FORMAT_VERSION}");
        for line in lines {
            debug_assert!(!line.contains('\n'), "log lines must be single lines");
            text.push('\n');
            text.push_str(line);
        }
        write_atomic(&self.path(id), text.as_bytes(), false)
    }

    /// Reads entry `id`, if it exists. A file with a missing or unknown version line is
    /// an error naming the file.
    pub fn get(&self, id: u64) -> Result<Option<Vec<String>>> {
        let path = self.path(id);
        let bytes = match fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(StreamError::io(&path, e)),
        };
        parse_log_file(&path, &bytes).map(Some)
    }

    /// The ids of all entries, ascending. Temp files and other names are ignored.
    pub fn ids(&self) -> Result<Vec<u64>> {
        let mut ids = Vec::new();
        let entries = fs::read_dir(&self.dir).map_err(|e| StreamError::io(&self.dir, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| StreamError::io(&self.dir, e))?;
            if let Some(id) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<u64>().ok())
            {
                ids.push(id);
            }
        }
        ids.sort_unstable();
        Ok(ids)
    }

    /// The highest id, if any.
    pub fn latest_id(&self) -> Result<Option<u64>> {
        Ok(self.ids()?.last().copied())
    }

    /// Deletes entries with ids below `id`.
    pub fn purge_before(&self, id: u64) -> Result<()> {
        for old in self.ids()?.into_iter().take_while(|&i| i < id) {
            let path = self.path(old);
            fs::remove_file(&path).map_err(|e| StreamError::io(&path, e))?;
        }
        Ok(())
    }
}

/// The lines of the log entry `path` whose bytes are `bytes`, after checking that it is
/// UTF-8 and its version line.
pub(crate) fn parse_log_file(path: &Path, bytes: &[u8]) -> Result<Vec<String>> {
    let text =
        std::str::from_utf8(bytes).map_err(|_| StreamError::corrupt(path, "is not valid UTF-8"))?;
    parse_versioned(path, text)
}

/// Splits a versioned file into its lines after checking the version line.
pub(crate) fn parse_versioned(path: &Path, text: &str) -> Result<Vec<String>> {
    let mut lines = text.split('\n');
    let version = lines.next().unwrap_or_default();
    match version.strip_prefix('v').map(str::parse::<u32>) {
        Some(Ok(FORMAT_VERSION)) => {}
        Some(Ok(v)) if v > FORMAT_VERSION => {
            return Err(StreamError::UnsupportedCheckpointVersion {
                path: path.to_path_buf(),
                found: version.to_string(),
                supported: FORMAT_VERSION,
            });
        }
        _ if text.is_empty() => return Err(StreamError::corrupt(path, "is empty")),
        _ => {
            return Err(StreamError::corrupt(
                path,
                format!(
                    "first line should be the version `v{FORMAT_VERSION}`, found `{}`",
                    truncate(version)
                ),
            ));
        }
    }
    Ok(lines.map(str::to_string).collect())
}

fn truncate(s: &str) -> String {
    s.chars().take(40).collect()
}
