//! The state a restart will read, checked when the query starts, before it writes
//! anything: every store's schema file, and the snapshot and deltas its version is
//! rebuilt from, each with its length and checksum. A damaged file is then an error at
//! `start()` that names it, instead of one in the first batch after its offsets were
//! written. What depends on the operator's types (the columns of the rows, a schema
//! that changed) is still checked when a task opens the store.

use std::fs;
use std::path::Path;

use super::file;
use super::layout::{FileKind, StateDir};
use super::schema;
use super::store::resume_chain;
use crate::{Result, StreamError};

/// Checks the state of the checkpoint in `checkpoint` that a query resuming after batch
/// `version` (`None`: no committed batch) will load.
pub(crate) fn verify_resume(checkpoint: &Path, version: Option<u64>) -> Result<()> {
    for operator in subfolders(&checkpoint.join("state"))? {
        let operator_dir = checkpoint.join("state").join(&operator);
        for partition in subfolders(&operator_dir)? {
            let Ok(partition) = partition.parse::<usize>() else {
                continue;
            };
            let dir = StateDir::new(checkpoint, &operator, partition)?;
            let files = dir.list()?;
            let schema_recorded = schema::recorded(&dir)?;
            let Some(chain) = resume_chain(&dir, &files, schema_recorded, version)? else {
                continue;
            };
            let needed = chain
                .snapshot
                .map(|s| (s, FileKind::Snapshot, 1))
                .into_iter()
                .chain(chain.deltas.map(|d| (d, FileKind::Delta, 2)));
            for (v, kind, sections) in needed {
                let path = dir.path(v, kind);
                let bytes = fs::read(&path).map_err(|e| StreamError::io(&path, e))?;
                file::decode(&path, &bytes, sections)?;
            }
        }
    }
    Ok(())
}

/// The names of the folders in `dir` that are not the state's own (`_metadata`) or
/// hidden; none if `dir` is not there.
pub(super) fn subfolders(dir: &Path) -> Result<Vec<String>> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(StreamError::io(dir, e)),
    };
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| StreamError::io(dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let is_dir = entry
            .file_type()
            .map_err(|e| StreamError::io(entry.path(), e))?
            .is_dir();
        if is_dir && !name.starts_with('_') && !name.starts_with('.') {
            names.push(name);
        }
    }
    names.sort();
    Ok(names)
}
