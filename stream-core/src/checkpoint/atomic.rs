//! Crash-safe file writes: temp file, fsync, rename, fsync of the folder.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::Path;

use crate::{Result, StreamError};

/// Writes `bytes` to `path` so that after a crash the file is either absent or complete.
///
/// With `overwrite == false` an existing file is an error: the logs of the checkpoint are
/// write-once, and a second writer must not silently replace what the first wrote.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8], overwrite: bool) -> Result<()> {
    let dir = path
        .parent()
        .ok_or_else(|| StreamError::corrupt(path, "has no parent folder"))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if !overwrite && path.exists() {
        return Err(StreamError::corrupt(
            path,
            "already exists; is another query running on this checkpoint?",
        ));
    }
    let tmp = dir.join(format!(".{name}.{}.tmp", uuid::Uuid::new_v4().simple()));
    let result = (|| {
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .map_err(|e| StreamError::io(&tmp, e))?;
        f.write_all(bytes).map_err(|e| StreamError::io(&tmp, e))?;
        f.sync_all().map_err(|e| StreamError::io(&tmp, e))?;
        drop(f);
        fs::rename(&tmp, path).map_err(|e| StreamError::io(path, e))?;
        sync_dir(dir)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Creates `dir` (and its parents) and makes the new entry durable in its parent.
pub(crate) fn create_dir_synced(dir: &Path) -> Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    fs::create_dir_all(dir).map_err(|e| StreamError::io(dir, e))?;
    if let Some(parent) = dir.parent() {
        sync_dir(parent)?;
    }
    Ok(())
}

/// fsync of a folder, so that a rename or a new entry in it survives a power cut.
pub(crate) fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| StreamError::io(dir, e))
}
