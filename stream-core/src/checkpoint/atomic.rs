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
        if overwrite {
            fs::rename(&tmp, path).map_err(|e| StreamError::io(path, e))?;
        } else {
            publish_new(&tmp, path)?;
        }
        sync_dir(dir)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Moves the complete `tmp` to `path` unless `path` exists. A hard link fails if the
/// target exists, so two writers racing for the same log entry cannot both win (a
/// rename would let the second silently replace the first).
fn publish_new(tmp: &Path, path: &Path) -> Result<()> {
    match fs::hard_link(tmp, path) {
        Ok(()) => fs::remove_file(tmp).map_err(|e| StreamError::io(tmp, e)),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(StreamError::corrupt(
            path,
            "already exists; is another query running on this checkpoint?",
        )),
        // file systems without hard links: check, then rename
        Err(_) if !path.exists() => fs::rename(tmp, path).map_err(|e| StreamError::io(path, e)),
        Err(_) => Err(StreamError::corrupt(
            path,
            "already exists; is another query running on this checkpoint?",
        )),
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_once_refuses_an_existing_file_and_leaves_it_and_no_temp_behind() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("0");
        write_atomic(&path, b"v1\nfirst", false).unwrap();
        let error = write_atomic(&path, b"v1\nsecond", false).unwrap_err();
        assert!(error.to_string().contains("already exists"), "{error}");
        assert_eq!(fs::read(&path).unwrap(), b"v1\nfirst");
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(
            names,
            vec![std::ffi::OsString::from("0")],
            "no temp file left"
        );
    }

    #[test]
    fn overwrite_replaces_atomically() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("metadata");
        write_atomic(&path, b"a", true).unwrap();
        write_atomic(&path, b"b", true).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"b");
    }
}
