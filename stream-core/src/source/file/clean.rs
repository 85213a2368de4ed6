//! `clean_source`: archiving or deleting the files of committed batches (Spark's
//! `cleanSource` with `sourceArchiveDir`).

use std::fs;
use std::path::{Component, Path, PathBuf};

use super::listing::{component_glob, epoch_ms};
use crate::{Result, StreamError};

/// What a file source does with the files of a batch once the batch is committed
/// (Spark's `cleanSource` option, with `sourceArchiveDir` for [`CleanSource::Archive`]).
///
/// Cleaning happens when the engine commits the batch (after `commits/N` is written),
/// never before: a batch that is re-run after a crash still finds its files. A file that
/// cannot be moved or removed is left where it is with a warning in the log, as in Spark;
/// the query goes on.
///
/// ```
/// use std::sync::Arc;
/// use arrow_schema::{DataType, Field, Schema};
/// use stream_core::{CleanSource, FileSource};
///
/// let schema = Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, true)]));
/// let source = FileSource::json("/data/landing", schema)
///     .clean_source(CleanSource::Archive { dir: "/data/archive".into() });
/// # let _ = source;
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum CleanSource {
    /// Leave the files where they are (the default).
    #[default]
    Off,
    /// Move each file under `dir`, keeping its whole path: `/in/a/f.json` goes to
    /// `<dir>/in/a/f.json`. `dir` must not be a place the source's path could match
    /// (see [`crate::FileSource::clean_source`]). A file already at the destination is
    /// left in place.
    Archive {
        /// The archive folder (Spark's `sourceArchiveDir`); relative to the current
        /// folder if relative.
        dir: PathBuf,
    },
    /// Remove each file.
    Delete,
}

impl CleanSource {
    /// Spark's name of the mode: `off`, `archive` or `delete`.
    ///
    /// ```
    /// assert_eq!(stream_core::CleanSource::Delete.name(), "delete");
    /// ```
    pub fn name(&self) -> &'static str {
        match self {
            CleanSource::Off => "off",
            CleanSource::Archive { .. } => "archive",
            CleanSource::Delete => "delete",
        }
    }
}

fn normal_components(path: &Path) -> Vec<String> {
    path.components()
        .filter_map(|c| match c {
            Component::Normal(name) => Some(name.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect()
}

/// Spark's check that archived files can never be listed again: the archive folder
/// must not match the source's path pattern in depth, where the depth is the smaller of
/// the two. `/in/*` with archive `/in/archive` is refused (so is `/in`, a parent);
/// `/archive` is fine.
pub(crate) fn check_archive_dir(source_path: &Path, archive: &Path) -> Result<()> {
    let source = normal_components(source_path);
    let archive_parts = normal_components(archive);
    let depth = source.len().min(archive_parts.len());
    let matches = source[..depth]
        .iter()
        .zip(&archive_parts[..depth])
        .all(|(pattern, name)| match component_glob(pattern) {
            Ok(glob) => glob.is_match(name),
            Err(_) => pattern == name,
        });
    if matches {
        return Err(StreamError::InvalidOption {
            name: "clean_source".into(),
            message: format!(
                "the archive folder `{}` could be matched by the source path `{}` \
                 (compared over the first {depth} folder names); choose an archive folder \
                 outside the path, for example beside it",
                archive.display(),
                source_path.display()
            ),
        });
    }
    Ok(())
}

/// Where [`CleanSource::Archive`] moves `file`: the archive folder followed by the
/// file's whole path.
pub(crate) fn archive_path(archive: &Path, file: &Path) -> PathBuf {
    let mut out = archive.to_path_buf();
    out.extend(
        file.components()
            .filter(|c| matches!(c, Component::Normal(_))),
    );
    out
}

/// Archives or deletes one file of a committed batch, if it is still the file the batch
/// read (same modification time as logged). Failures are logged, not returned.
pub(crate) fn clean_file(mode: &CleanSource, file: &Path, logged_mtime_ms: i64) {
    let current = match fs::metadata(file) {
        Ok(meta) => meta.modified().map(epoch_ms).ok(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            tracing::debug!(file = %file.display(), "already cleaned");
            return;
        }
        Err(e) => {
            tracing::warn!(file = %file.display(), "cannot clean: {e}");
            return;
        }
    };
    if current != Some(logged_mtime_ms) {
        tracing::warn!(
            file = %file.display(),
            "not cleaned: it changed since the batch that read it (modification time)"
        );
        return;
    }
    match mode {
        CleanSource::Off => {}
        CleanSource::Delete => {
            if let Err(e) = fs::remove_file(file) {
                tracing::warn!(file = %file.display(), "failed to remove / skip removing file: {e}");
            }
        }
        CleanSource::Archive { dir } => {
            let target = archive_path(dir, file);
            if let Err(e) = move_file(file, &target) {
                tracing::warn!(
                    file = %file.display(),
                    target = %target.display(),
                    "failed to move / skip moving file: {e}"
                );
            }
        }
    }
}

/// Moves `from` to `to` without replacing anything: a rename, or a copy and a removal
/// across file systems.
fn move_file(from: &Path, to: &Path) -> std::io::Result<()> {
    if let Some(parent) = to.parent() {
        fs::create_dir_all(parent)?;
    }
    if fs::symlink_metadata(to).is_ok() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            "the archive already holds a file of that name",
        ));
    }
    match fs::rename(from, to) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::CrossesDevices => {
            fs::copy(from, to)?;
            fs::File::open(to)?.sync_all()?;
            fs::remove_file(from)
        }
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn archive_folders_the_path_could_match_are_refused() {
        let bad = [
            ("/in", "/in/archive"),
            ("/in/*", "/in/archive"),
            ("/in", "/in"),
            ("/data/in", "/data"),
            ("/data/{in,out}/*", "/data/out/archive"),
            ("/hello?/spark/*", "/hello1/spark/archive/dir"),
        ];
        for (source, archive) in bad {
            assert!(
                check_archive_dir(Path::new(source), Path::new(archive)).is_err(),
                "{source} vs {archive}"
            );
        }
        let good = [
            ("/data/in", "/data/archive"),
            ("/data/in/*", "/archive/here"),
            ("/hello?/spark/*", "/archived/here"),
            // `archive` is no `*.json`: what lands there is never listed
            ("/data/{in,out}/*.json", "/data/out/archive"),
        ];
        for (source, archive) in good {
            check_archive_dir(Path::new(source), Path::new(archive)).unwrap();
        }
    }

    #[test]
    fn the_archive_keeps_the_whole_path() {
        assert_eq!(
            archive_path(Path::new("/arch"), Path::new("/in/a/f.json")),
            Path::new("/arch/in/a/f.json")
        );
    }

    #[test]
    fn cleaning_skips_changed_and_missing_files_and_never_overwrites() {
        let root = tempfile::tempdir().unwrap();
        let file = root.path().join("in/f.json");
        fs::create_dir_all(file.parent().unwrap()).unwrap();
        fs::write(&file, "1").unwrap();
        let mtime = epoch_ms(fs::metadata(&file).unwrap().modified().unwrap());
        let archive = root.path().join("arch");
        let mode = CleanSource::Archive {
            dir: archive.clone(),
        };

        clean_file(&mode, &file, mtime + 1);
        assert!(file.exists(), "a file that changed is left alone");

        let target = archive_path(&archive, &file);
        fs::create_dir_all(target.parent().unwrap()).unwrap();
        fs::write(&target, "old").unwrap();
        clean_file(&mode, &file, mtime);
        assert!(
            file.exists(),
            "an archived file of that name is not replaced"
        );
        assert_eq!(fs::read_to_string(&target).unwrap(), "old");

        fs::remove_file(&target).unwrap();
        clean_file(&mode, &file, mtime);
        assert!(!file.exists());
        assert_eq!(fs::read_to_string(&target).unwrap(), "1");
        clean_file(&mode, &file, mtime); // gone already: nothing to do

        let other = root.path().join("in/g.json");
        fs::write(&other, "2").unwrap();
        let mtime = epoch_ms(fs::metadata(&other).unwrap().modified().unwrap());
        clean_file(&CleanSource::Delete, &other, mtime);
        assert!(!other.exists());
    }
}
