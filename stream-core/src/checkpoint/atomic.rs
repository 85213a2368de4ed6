//! Crash-safe file writes: temp file, fsync, rename, fsync of the folder.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::{Result, StreamError};

/// Writes `bytes` to `path` so that after a crash the file is either absent or complete.
///
/// With `overwrite == false` an existing file is an error: the logs of the checkpoint are
/// write-once, and a second writer must not silently replace what the first wrote.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8], overwrite: bool) -> Result<()> {
    write_atomic_with(path, overwrite, |f, tmp| {
        f.write_all(bytes).map_err(|e| StreamError::io(tmp, e))
    })
}

/// [`write_atomic`] of a file that `write` writes into the temp file it is handed (with
/// the temp file's path for errors): a file too large to build in memory first.
pub(crate) fn write_atomic_with(
    path: &Path,
    overwrite: bool,
    write: impl FnOnce(&mut File, &Path) -> Result<()>,
) -> Result<()> {
    let (dir, tmp) = temp_for(path)?;
    let result = (|| {
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .map_err(|e| StreamError::io(&tmp, e))?;
        write(&mut f, &tmp)?;
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

/// Replaces `path` with `bytes` through a temp file and a rename, without fsync: for
/// the checkpoint's monitoring files (`progress/`), which a reader may find missing
/// after a crash but never half written, and which must not cost a batch an fsync.
pub(crate) fn replace_unsynced(path: &Path, bytes: &[u8]) -> Result<()> {
    let (_, tmp) = temp_for(path)?;
    let result = fs::write(&tmp, bytes)
        .map_err(|e| StreamError::io(&tmp, e))
        .and_then(|()| fs::rename(&tmp, path).map_err(|e| StreamError::io(path, e)));
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

/// The folder of `path` and the temp file to write it through.
fn temp_for(path: &Path) -> Result<(&Path, PathBuf)> {
    let dir = path
        .parent()
        .ok_or_else(|| StreamError::corrupt(path, "has no parent folder"))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok((dir, temp_path(dir, &name)))
}

/// Where [`write_atomic`] writes file `name` of `dir` before it renames it.
fn temp_path(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!(".{name}.{}.tmp", uuid::Uuid::new_v4().simple()))
}

/// Whether `name` is the temporary name [`write_atomic`] gives a file while it writes
/// it (`.<name>.<32 hex digits>.tmp`): what a write cut short by a crash leaves behind.
pub(crate) fn is_temp_name(name: &str) -> bool {
    let Some(inner) = name.strip_prefix('.').and_then(|n| n.strip_suffix(".tmp")) else {
        return false;
    };
    match inner.rsplit_once('.') {
        Some((target, id)) => {
            !target.is_empty()
                && id.len() == 32
                && id
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        }
        None => false,
    }
}

/// Removes, under `dir` and its subfolders, the temporary files of writes that a crash
/// cut short (only names [`is_temp_name`] recognises: nothing of anyone else's); how
/// many went. Run at start, when no write of this checkpoint is in flight.
pub(crate) fn remove_leftover_temps(dir: &Path) -> Result<usize> {
    let mut removed = 0;
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(StreamError::io(dir, e)),
    };
    for entry in entries {
        let entry = entry.map_err(|e| StreamError::io(dir, e))?;
        let path = entry.path();
        let kind = entry.file_type().map_err(|e| StreamError::io(&path, e))?;
        if kind.is_dir() {
            removed += remove_leftover_temps(&path)?;
        } else if kind.is_file() && is_temp_name(&entry.file_name().to_string_lossy()) {
            fs::remove_file(&path).map_err(|e| StreamError::io(&path, e))?;
            removed += 1;
        }
    }
    Ok(removed)
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
    fn leftover_temps_are_removed_in_every_folder_and_nothing_else_is() {
        let dir = tempfile::tempdir().unwrap();
        let id = uuid::Uuid::new_v4().simple().to_string();
        let nested = dir.path().join("state/0/3");
        fs::create_dir_all(&nested).unwrap();
        let temps = [
            dir.path().join(format!(".7.{id}.tmp")),
            nested.join(format!(".12.delta.{id}.tmp")),
        ];
        let kept = [
            dir.path().join("7"),
            dir.path().join(".7.tmp"),
            dir.path().join(format!(".7.{}.tmp", &id[..31])),
            dir.path().join(format!(".7.{}.tmp", id.to_uppercase())),
            nested.join(format!("12.delta.{id}.tmp")),
            nested.join("notes.tmp"),
        ];
        for path in temps.iter().chain(&kept) {
            fs::write(path, b"x").unwrap();
        }
        assert_eq!(remove_leftover_temps(dir.path()).unwrap(), 2);
        assert!(temps.iter().all(|p| !p.exists()));
        assert!(kept.iter().all(|p| p.exists()));
        assert_eq!(
            remove_leftover_temps(&dir.path().join("absent")).unwrap(),
            0
        );
    }

    #[test]
    fn a_write_names_its_temp_as_the_sweep_recognises_it() {
        for name in ["0", "12.delta", "metadata"] {
            let tmp = temp_path(Path::new("/ck/offsets"), name);
            let file = tmp.file_name().unwrap().to_string_lossy();
            assert!(is_temp_name(&file), "{file}");
        }
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
