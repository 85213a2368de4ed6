//! Where a store's files live: `<checkpoint>/state/<operator>/<partition>/<version>.delta`
//! and `.snapshot`, `<checkpoint>/state/<operator>/_metadata/schema`; and which of them
//! a partition folder holds.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use crate::{Result, StreamError};

/// The two kinds of version file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum FileKind {
    /// The rows upserted and the keys removed by one version.
    Delta,
    /// Every row of one version.
    Snapshot,
}

impl FileKind {
    fn extension(self) -> &'static str {
        match self {
            FileKind::Delta => "delta",
            FileKind::Snapshot => "snapshot",
        }
    }
}

/// The folders of one (operator, partition) store.
#[derive(Clone, Debug)]
pub(crate) struct StateDir {
    pub(crate) operator: String,
    pub(crate) partition: usize,
    /// `<checkpoint>/state/<operator>`
    operator_dir: PathBuf,
    /// `<checkpoint>/state/<operator>/<partition>`
    dir: PathBuf,
}

impl StateDir {
    /// The folders of `operator`'s store for `partition` in the checkpoint `checkpoint`.
    /// An operator id must be a plain folder name: ASCII letters, digits, `-` and `_`,
    /// not starting with `_` (names starting with `_` are the state folder's own).
    pub(crate) fn new(checkpoint: &Path, operator: &str, partition: usize) -> Result<Self> {
        let plain = !operator.is_empty()
            && !operator.starts_with('_')
            && operator
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !plain {
            return Err(StreamError::InvalidOption {
                name: "operator".into(),
                message: format!(
                    "`{operator}` is not a valid state operator id: use ASCII letters, digits, `-` and `_`, not starting with `_`"
                ),
            });
        }
        let operator_dir = checkpoint.join("state").join(operator);
        let dir = operator_dir.join(partition.to_string());
        Ok(StateDir {
            operator: operator.to_string(),
            partition,
            operator_dir,
            dir,
        })
    }

    /// The partition's folder.
    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    /// `<checkpoint>/state/<operator>/_metadata/schema`
    pub(crate) fn schema_path(&self) -> PathBuf {
        self.operator_dir.join("_metadata").join("schema")
    }

    /// The file of `kind` for `version`.
    pub(crate) fn path(&self, version: u64, kind: FileKind) -> PathBuf {
        self.dir.join(format!("{version}.{}", kind.extension()))
    }

    /// The version files in the partition's folder (none if it does not exist). Temp
    /// files of interrupted writes and other names are ignored.
    pub(crate) fn list(&self) -> Result<StateFiles> {
        let mut files = StateFiles::default();
        let entries = match fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(files),
            Err(e) => return Err(StreamError::io(&self.dir, e)),
        };
        for entry in entries {
            let entry = entry.map_err(|e| StreamError::io(&self.dir, e))?;
            let name = entry.file_name();
            let Some((version, ext)) = name.to_str().and_then(|n| n.split_once('.')) else {
                continue;
            };
            let Ok(version) = version.parse::<u64>() else {
                continue;
            };
            match ext {
                "delta" => files.deltas.insert(version),
                "snapshot" => files.snapshots.insert(version),
                _ => continue,
            };
        }
        Ok(files)
    }
}

/// The versions that have a delta file and those that have a snapshot file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct StateFiles {
    pub(crate) deltas: BTreeSet<u64>,
    pub(crate) snapshots: BTreeSet<u64>,
}

impl StateFiles {
    /// Every file, as (version, kind), ascending.
    pub(crate) fn all(&self) -> impl Iterator<Item = (u64, FileKind)> + '_ {
        let mut all: Vec<_> = self
            .deltas
            .iter()
            .map(|&v| (v, FileKind::Delta))
            .chain(self.snapshots.iter().map(|&v| (v, FileKind::Snapshot)))
            .collect();
        all.sort_unstable();
        all.into_iter()
    }

    /// The newest snapshot at or below `version`.
    pub(crate) fn snapshot_at_or_below(&self, version: u64) -> Option<u64> {
        self.snapshots.range(..=version).next_back().copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_follow_the_layout_and_listing_ignores_other_names() {
        let checkpoint = tempfile::tempdir().unwrap();
        let d = StateDir::new(checkpoint.path(), "agg-0", 3).unwrap();
        assert_eq!(
            d.path(7, FileKind::Delta),
            checkpoint.path().join("state/agg-0/3/7.delta")
        );
        assert_eq!(
            d.path(9, FileKind::Snapshot),
            checkpoint.path().join("state/agg-0/3/9.snapshot")
        );
        assert_eq!(
            d.schema_path(),
            checkpoint.path().join("state/agg-0/_metadata/schema")
        );
        assert_eq!(d.list().unwrap(), StateFiles::default(), "no folder yet");
        fs::create_dir_all(d.dir()).unwrap();
        for name in [
            "0.delta",
            "1.delta",
            "1.snapshot",
            ".2.delta.abc.tmp",
            "x.delta",
            "3.other",
        ] {
            fs::write(d.dir().join(name), b"").unwrap();
        }
        let files = d.list().unwrap();
        assert_eq!(files.deltas, BTreeSet::from([0, 1]));
        assert_eq!(files.snapshots, BTreeSet::from([1]));
        assert_eq!(
            files.all().collect::<Vec<_>>(),
            [
                (0, FileKind::Delta),
                (1, FileKind::Delta),
                (1, FileKind::Snapshot)
            ]
        );
        assert_eq!(files.snapshot_at_or_below(0), None);
        assert_eq!(files.snapshot_at_or_below(5), Some(1));
    }

    #[test]
    fn operator_ids_must_be_plain_folder_names() {
        for bad in ["", "../x", "a/b", "_metadata", "."] {
            let err = StateDir::new(Path::new("/c"), bad, 0).unwrap_err();
            assert!(
                err.to_string().contains("not a valid state operator id"),
                "{bad}: {err}"
            );
        }
        assert!(StateDir::new(Path::new("/c"), "0", 0).is_ok());
    }
}
