//! The file source's log in the checkpoint (`sources/<i>/`), compacted as Spark's
//! `FileStreamSourceLog` (a `CompactibleFileStreamLog`) is.
//!
//! Entry `n` lists the files batch offset `n` took, one [`FileEntry`] JSON line per
//! file after the version line `v1`. Every `compact_interval`-th entry (the ids `n`
//! with `(n + 1) % compact_interval == 0`, Spark's rule) is written instead as
//! `<n>.compact`: a header line after the version line, then every file of the
//! entries up to `n` that may still matter, each with its batch id, so that the entries
//! folded into it can still be answered. Once it is written, older compacts and the
//! older entries that no batch or cleanup needs any more are deleted: the folder holds
//! the newest compact, the entries after it, and the few entries still needed.
//!
//! What may still matter of an entry folded into a compact (see [`Keep`]):
//! - every file of an entry from [`Keep::needed_from`] on: the batch not yet committed
//!   (it is read again after a restart) and those [`crate::CleanSource`] has not
//!   cleaned yet;
//! - of older entries, the files whose modification time is not older than
//!   [`Keep::forget_before`], the threshold `max_file_age` has moved the source's set
//!   of seen files to: older files are not new anyway, so forgetting them changes
//!   nothing. The header keeps that threshold, and the source never lowers its threshold
//!   below it after a restart (a larger `max_file_age` must not make a forgotten file
//!   new again).
//!
//! A checkpoint written before compaction existed has entries only; it is read the same
//! way, and its entries are folded into the first compact written.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::checkpoint::atomic::{create_dir_synced, write_atomic};
use crate::checkpoint::{FORMAT_VERSION, parse_log_file};
use crate::{Result, StreamError};

/// Spark's default `spark.sql.streaming.fileSource.log.compactInterval`.
pub(crate) const DEFAULT_COMPACT_INTERVAL: u64 = 10;

/// The suffix of a compact's file name.
const COMPACT_SUFFIX: &str = ".compact";

/// One file of a log entry (Spark's `FileEntry`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct FileEntry {
    pub(crate) path: String,
    pub(crate) timestamp: i64,
    pub(crate) batch_id: u64,
}

/// The header of a compact, its line 2.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CompactHeader {
    /// The entry the compact is (the last it holds).
    compact_batch_id: u64,
    /// How many file lines follow.
    files: u64,
    /// Files modified before this time (ms) may have been left out: they are not new.
    forget_before: i64,
}

/// What a compaction must keep of the entries it folds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Keep {
    /// Every file of the entries from this id on is kept.
    pub(crate) needed_from: u64,
    /// Of older entries, the files modified at or after this time (ms).
    pub(crate) forget_before: i64,
}

/// What the log holds when it is opened: the files of the newest compact and of the
/// entries after it, and the threshold below which files were forgotten.
#[derive(Debug)]
pub(crate) struct Loaded {
    pub(crate) files: Vec<FileEntry>,
    pub(crate) forget_before: i64,
}

/// The file source's log (see the module's documentation).
#[derive(Debug)]
pub(crate) struct FileSourceLog {
    dir: PathBuf,
    interval: u64,
    /// The ids of the plain entries in the folder.
    entries: BTreeSet<u64>,
    /// The ids of the compacts in the folder.
    compacts: BTreeSet<u64>,
    /// The newest entry written by this process and its files, for the read that
    /// follows it (a compact need not be parsed again for its own batch).
    recent: Option<(u64, Vec<FileEntry>)>,
}

impl FileSourceLog {
    /// Opens (creating if needed) the log in `dir`, compacting every `interval` entries
    /// from now on, and reads the newest compact and the entries after it. A compact or
    /// an entry that does not parse is an error naming the file and the line.
    pub(crate) fn open(dir: &Path, interval: u64) -> Result<(Self, Loaded)> {
        create_dir_synced(dir)?;
        let mut log = FileSourceLog {
            dir: dir.to_path_buf(),
            interval: interval.max(1),
            entries: BTreeSet::new(),
            compacts: BTreeSet::new(),
            recent: None,
        };
        let listing = fs::read_dir(dir).map_err(|e| StreamError::io(dir, e))?;
        for item in listing {
            let item = item.map_err(|e| StreamError::io(dir, e))?;
            let name = item.file_name();
            let Some(name) = name.to_str() else { continue };
            if let Ok(id) = name.parse::<u64>() {
                log.entries.insert(id);
            } else if let Some(id) = name
                .strip_suffix(COMPACT_SUFFIX)
                .and_then(|n| n.parse::<u64>().ok())
            {
                log.compacts.insert(id);
            }
        }
        let mut loaded = Loaded {
            files: Vec::new(),
            forget_before: i64::MIN,
        };
        let newest_compact = log.compacts.last().copied();
        if let Some(c) = newest_compact {
            let (header, files) = read_compact(&log.compact_path(c))?;
            loaded.forget_before = header.forget_before;
            loaded.files = files;
        }
        let after = newest_compact.map_or(0, |c| c + 1);
        for &id in log.entries.range(after..) {
            let path = log.entry_path(id);
            let files = read_entry(&path)?.ok_or_else(|| vanished(&path))?;
            loaded.files.extend(files);
        }
        Ok((log, loaded))
    }

    /// The highest entry, plain or compact.
    pub(crate) fn latest_id(&self) -> Option<u64> {
        self.entries
            .last()
            .copied()
            .max(self.compacts.last().copied())
    }

    /// The file of entry `id` if it were not folded into a compact (for messages).
    pub(crate) fn path(&self, id: u64) -> PathBuf {
        self.entry_path(id)
    }

    fn entry_path(&self, id: u64) -> PathBuf {
        self.dir.join(id.to_string())
    }

    fn compact_path(&self, id: u64) -> PathBuf {
        self.dir.join(format!("{id}{COMPACT_SUFFIX}"))
    }

    /// Whether entry `id` is written as a compact.
    pub(crate) fn is_compaction(&self, id: u64) -> bool {
        (id + 1).is_multiple_of(self.interval)
    }

    /// The files of entry `id`: from its own file, or from the first compact that holds
    /// it. `None` if no file of the folder holds it (never written, or forgotten).
    pub(crate) fn get(&self, id: u64) -> Result<Option<Vec<FileEntry>>> {
        if let Some((recent, files)) = &self.recent
            && *recent == id
        {
            return Ok(Some(files.clone()));
        }
        if self.entries.contains(&id) {
            return read_entry(&self.entry_path(id));
        }
        let Some(&c) = self.compacts.range(id..).next() else {
            return Ok(None);
        };
        let (_, files) = read_compact(&self.compact_path(c))?;
        // an entry has at least one file, unless its files were forgotten
        let own: Vec<FileEntry> = files.into_iter().filter(|f| f.batch_id == id).collect();
        Ok((!own.is_empty()).then_some(own))
    }

    /// Writes entry `id` with `files` (write-once: fails if it exists). A compaction
    /// entry is written as `<id>.compact` with what `keep` says must be kept of the
    /// entries before it; then older compacts and the entries before it that `keep`
    /// does not need are deleted.
    pub(crate) fn add(&mut self, id: u64, files: Vec<FileEntry>, keep: Keep) -> Result<()> {
        if self.entries.contains(&id) || self.compacts.contains(&id) {
            return Err(StreamError::corrupt(
                self.entry_path(id),
                "already exists: log entries are written once",
            ));
        }
        if !self.is_compaction(id) {
            write_atomic(&self.entry_path(id), &entry_text(&files)?, false)?;
            self.entries.insert(id);
            self.recent = Some((id, files));
            return Ok(());
        }
        let mut folded = Vec::new();
        let previous = self.compacts.range(..id).next_back().copied();
        if let Some(c) = previous {
            folded = read_compact(&self.compact_path(c))?.1;
        }
        let after = previous.map_or(0, |c| c + 1);
        for &e in self.entries.range(after..id) {
            let path = self.entry_path(e);
            folded.extend(read_entry(&path)?.ok_or_else(|| vanished(&path))?);
        }
        folded.retain(|f| f.batch_id >= keep.needed_from || f.timestamp >= keep.forget_before);
        let before = folded.len();
        folded.extend(files.iter().cloned());
        let header = CompactHeader {
            compact_batch_id: id,
            files: folded.len() as u64,
            forget_before: keep.forget_before,
        };
        let mut text = format!("v{FORMAT_VERSION}\n{}", to_json(&header)?).into_bytes();
        for file in &folded {
            text.push(b'\n');
            text.extend(to_json(file)?.into_bytes());
        }
        write_atomic(&self.compact_path(id), &text, false)?;
        self.compacts.insert(id);
        self.recent = Some((id, files));
        tracing::debug!(
            compact = id,
            folded = before,
            "file source compacted its log"
        );
        self.delete_folded(id, keep.needed_from)
    }

    /// After compact `id` is written: deletes the older compacts, and the entries
    /// before it from which no batch or cleanup reads (below `needed_from`). A file
    /// that cannot be deleted is left for the next compaction.
    fn delete_folded(&mut self, id: u64, needed_from: u64) -> Result<()> {
        let old_compacts: Vec<u64> = self.compacts.range(..id).copied().collect();
        let old_entries: Vec<u64> = self.entries.range(..id.min(needed_from)).copied().collect();
        for c in old_compacts {
            let path = self.compact_path(c);
            if remove(&path) {
                self.compacts.remove(&c);
            }
        }
        for e in old_entries {
            let path = self.entry_path(e);
            if remove(&path) {
                self.entries.remove(&e);
            }
        }
        Ok(())
    }

    /// How many files the log's folder holds (entries and compacts).
    #[cfg(test)]
    pub(crate) fn file_count(&self) -> usize {
        self.entries.len() + self.compacts.len()
    }
}

/// Removes `path`; whether it is gone. A failure is logged, not returned: the file is
/// folded into the newest compact and is only in the way.
fn remove(path: &Path) -> bool {
    match fs::remove_file(path) {
        Ok(()) => true,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => true,
        Err(e) => {
            tracing::warn!(file = %path.display(), "a folded log entry could not be deleted: {e}");
            false
        }
    }
}

fn vanished(path: &Path) -> StreamError {
    StreamError::corrupt(path, "vanished while being read")
}

fn to_json(value: &impl Serialize) -> Result<String> {
    serde_json::to_string(value)
        .map_err(|e| StreamError::InvalidQuery(format!("file entry cannot be written: {e}")))
}

/// The bytes of a plain entry: the version line, then one line per file.
fn entry_text(files: &[FileEntry]) -> Result<Vec<u8>> {
    let mut text = format!("v{FORMAT_VERSION}");
    for file in files {
        text.push('\n');
        text.push_str(&to_json(file)?);
    }
    Ok(text.into_bytes())
}

/// The lines of the log file `path` after its version line (checked, as the
/// checkpoint's other logs are), `None` if it does not exist.
fn read_lines(path: &Path) -> Result<Option<Vec<String>>> {
    let bytes = match fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(StreamError::io(path, e)),
    };
    parse_log_file(path, &bytes).map(Some)
}

/// The files of the plain entry `path`, `None` if it does not exist.
fn read_entry(path: &Path) -> Result<Option<Vec<FileEntry>>> {
    let Some(lines) = read_lines(path)? else {
        return Ok(None);
    };
    parse_files(path, &lines, 2).map(Some)
}

/// The file lines `lines` of `path`, the first of them on line `first_line`; blank
/// lines are skipped.
fn parse_files(path: &Path, lines: &[String], first_line: usize) -> Result<Vec<FileEntry>> {
    lines
        .iter()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(i, line)| {
            serde_json::from_str(line).map_err(|e| {
                StreamError::corrupt(
                    path,
                    format!(
                        "file entry on line {} cannot be parsed: {e}",
                        i + first_line
                    ),
                )
            })
        })
        .collect()
}

/// The header and the files of the compact `path`, checked: the version line, the
/// header, every file line, and as many file lines as the header says (a compact cut
/// short is refused, naming the line where it ends).
fn read_compact(path: &Path) -> Result<(CompactHeader, Vec<FileEntry>)> {
    let lines = read_lines(path)?.ok_or_else(|| vanished(path))?;
    let Some((first, rest)) = lines.split_first() else {
        return Err(StreamError::corrupt(
            path,
            "ends after line 1: a compact's line 2 is its header",
        ));
    };
    let header: CompactHeader = serde_json::from_str(first).map_err(|e| {
        StreamError::corrupt(
            path,
            format!("the compact's header on line 2 cannot be parsed: {e}"),
        )
    })?;
    let expected = path
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.strip_suffix(COMPACT_SUFFIX))
        .and_then(|n| n.parse::<u64>().ok());
    if expected != Some(header.compact_batch_id) {
        return Err(StreamError::corrupt(
            path,
            format!(
                "the compact's header on line 2 is of entry {}, not of this file's",
                header.compact_batch_id
            ),
        ));
    }
    let files = parse_files(path, rest, 3)?;
    if files.len() as u64 != header.files || rest.iter().any(|l| l.trim().is_empty()) {
        return Err(StreamError::corrupt(
            path,
            format!(
                "ends at line {} with {} file entries, but its header on line 2 says {}: \
                 the compact is cut short or damaged",
                rest.len() + 2,
                files.len(),
                header.files
            ),
        ));
    }
    Ok((header, files))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str, timestamp: i64, batch_id: u64) -> FileEntry {
        FileEntry {
            path: format!("/in/{name}"),
            timestamp,
            batch_id,
        }
    }

    const KEEP_ALL: Keep = Keep {
        needed_from: 0,
        forget_before: i64::MIN,
    };

    fn names(dir: &Path) -> BTreeSet<String> {
        fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect()
    }

    fn set(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    /// Writes entries `ids` of one file each (`f<id>`, modified at `id`), with the
    /// uncommitted batch being the one written.
    fn add_batches(log: &mut FileSourceLog, ids: std::ops::Range<u64>) {
        for id in ids {
            let keep = Keep {
                needed_from: id,
                forget_before: i64::MIN,
            };
            log.add(id, vec![file(&format!("f{id}"), id as i64, id)], keep)
                .unwrap();
        }
    }

    #[test]
    fn every_interval_entries_a_compact_folds_the_log_and_the_rest_is_deleted() {
        let dir = tempfile::tempdir().unwrap();
        let (mut log, loaded) = FileSourceLog::open(dir.path(), 4).unwrap();
        assert!(loaded.files.is_empty());
        add_batches(&mut log, 0..3);
        assert_eq!(names(dir.path()), set(&["0", "1", "2"]));
        add_batches(&mut log, 3..4);
        assert_eq!(names(dir.path()), set(&["3.compact"]));
        add_batches(&mut log, 4..9);
        assert_eq!(names(dir.path()), set(&["7.compact", "8"]));
        assert_eq!(log.latest_id(), Some(8));
        assert_eq!(log.file_count(), 2);
        // bounded: after 1,000 entries, still the newest compact and the entries after it
        add_batches(&mut log, 9..1_000);
        assert_eq!(names(dir.path()), set(&["999.compact"]));

        let (reopened, loaded) = FileSourceLog::open(dir.path(), 4).unwrap();
        assert_eq!(reopened.latest_id(), Some(999));
        let mut paths: Vec<String> = loaded.files.into_iter().map(|f| f.path).collect();
        paths.sort();
        let mut expected: Vec<String> = (0..1_000).map(|i| format!("/in/f{i}")).collect();
        expected.sort();
        assert_eq!(paths, expected, "every file of every entry, once");
    }

    #[test]
    fn an_entry_folded_into_a_compact_is_answered_from_it_with_its_own_files() {
        let dir = tempfile::tempdir().unwrap();
        let (mut log, _) = FileSourceLog::open(dir.path(), 3).unwrap();
        // entry 0 has two files; entry 1 stays needed (say, not yet cleaned)
        let keep_from_1 = Keep {
            needed_from: 1,
            forget_before: i64::MIN,
        };
        log.add(0, vec![file("a", 1, 0), file("b", 2, 0)], KEEP_ALL)
            .unwrap();
        log.add(1, vec![file("c", 3, 1)], keep_from_1).unwrap();
        log.add(2, vec![file("d", 4, 2)], keep_from_1).unwrap();
        assert_eq!(
            names(dir.path()),
            set(&["1", "2.compact"]),
            "entry 1 is still needed: it stays"
        );
        let (log, _) = FileSourceLog::open(dir.path(), 3).unwrap();
        assert_eq!(
            log.get(0).unwrap().unwrap(),
            [file("a", 1, 0), file("b", 2, 0)],
            "folded and deleted, answered from the compact"
        );
        assert_eq!(log.get(1).unwrap().unwrap(), [file("c", 3, 1)]);
        assert_eq!(log.get(2).unwrap().unwrap(), [file("d", 4, 2)]);
        assert_eq!(log.get(3).unwrap(), None);
    }

    #[test]
    fn a_compaction_forgets_old_files_unless_a_batch_still_needs_them() {
        let dir = tempfile::tempdir().unwrap();
        let (mut log, _) = FileSourceLog::open(dir.path(), 3).unwrap();
        log.add(0, vec![file("old", 10, 0)], KEEP_ALL).unwrap();
        log.add(1, vec![file("old-but-needed", 20, 1)], KEEP_ALL)
            .unwrap();
        let keep = Keep {
            needed_from: 1,
            forget_before: 500,
        };
        log.add(2, vec![file("new", 1_000, 2), file("stale", 5, 2)], keep)
            .unwrap();
        let (log, loaded) = FileSourceLog::open(dir.path(), 3).unwrap();
        assert_eq!(
            loaded.forget_before, 500,
            "the threshold survives a restart"
        );
        let mut kept: Vec<String> = loaded.files.into_iter().map(|f| f.path).collect();
        kept.sort();
        assert_eq!(
            kept,
            ["/in/new", "/in/old-but-needed", "/in/stale"],
            "the file of entry 0 is older than the threshold and no batch needs it"
        );
        assert_eq!(log.get(0).unwrap(), None, "forgotten");
        assert_eq!(
            log.get(2).unwrap().unwrap(),
            [file("new", 1_000, 2), file("stale", 5, 2)],
            "the compact's own batch keeps every file"
        );
    }

    #[test]
    fn a_log_of_plain_entries_is_read_whole_and_folded_at_the_first_compaction() {
        let dir = tempfile::tempdir().unwrap();
        // as the build before compaction wrote it: 0..=14, no compact at 9
        for id in 0..15u64 {
            let text = entry_text(&[file(&format!("f{id}"), id as i64, id)]).unwrap();
            fs::write(dir.path().join(id.to_string()), text).unwrap();
        }
        let (mut log, loaded) = FileSourceLog::open(dir.path(), 10).unwrap();
        assert_eq!(loaded.files.len(), 15);
        assert_eq!(log.latest_id(), Some(14));
        add_batches(&mut log, 15..19);
        assert_eq!(
            names(dir.path()).len(),
            19,
            "no compact at 9: it was not written"
        );
        add_batches(&mut log, 19..20);
        assert_eq!(names(dir.path()), set(&["19.compact"]));
        let (log, loaded) = FileSourceLog::open(dir.path(), 10).unwrap();
        assert_eq!(loaded.files.len(), 20);
        assert_eq!(log.get(3).unwrap().unwrap(), [file("f3", 3, 3)]);
    }

    #[test]
    fn the_interval_may_change_between_runs() {
        let dir = tempfile::tempdir().unwrap();
        let (mut log, _) = FileSourceLog::open(dir.path(), 5).unwrap();
        add_batches(&mut log, 0..7);
        assert_eq!(names(dir.path()), set(&["4.compact", "5", "6"]));
        let (mut log, loaded) = FileSourceLog::open(dir.path(), 2).unwrap();
        assert_eq!(loaded.files.len(), 7);
        add_batches(&mut log, 7..8);
        assert_eq!(names(dir.path()), set(&["7.compact"]));
        let (_, loaded) = FileSourceLog::open(dir.path(), 2).unwrap();
        assert_eq!(loaded.files.len(), 8);
    }

    fn open_error(dir: &Path) -> String {
        match FileSourceLog::open(dir, 10) {
            Err(StreamError::CorruptCheckpoint { path, message }) => {
                format!("{}: {message}", path.file_name().unwrap().to_string_lossy())
            }
            other => panic!("expected a corrupt checkpoint, got {other:?}"),
        }
    }

    #[test]
    fn a_damaged_compact_is_refused_at_open_naming_the_file_and_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let (mut log, _) = FileSourceLog::open(dir.path(), 10).unwrap();
        add_batches(&mut log, 0..10);
        let compact = dir.path().join("9.compact");
        let good = fs::read_to_string(&compact).unwrap();
        assert_eq!(good.lines().count(), 12, "version, header, ten files");

        let mut lines: Vec<&str> = good.lines().collect();
        lines[5] = "garbage";
        fs::write(&compact, lines.join("\n")).unwrap();
        let message = open_error(dir.path());
        assert!(
            message.starts_with("9.compact: file entry on line 6 cannot be parsed"),
            "{message}"
        );

        // cut in the middle of a line
        fs::write(&compact, &good[..good.len() - 7]).unwrap();
        let message = open_error(dir.path());
        assert!(
            message.starts_with("9.compact: file entry on line 12 cannot be parsed"),
            "{message}"
        );

        // cut at the end of a line
        let cut = good.rfind('\n').unwrap();
        fs::write(&compact, &good[..cut]).unwrap();
        let message = open_error(dir.path());
        assert!(
            message
                .contains("ends at line 11 with 9 file entries, but its header on line 2 says 10"),
            "{message}"
        );

        fs::write(
            &compact,
            "v1\n{\"path\":\"/in/x\",\"timestamp\":1,\"batchId\":1}",
        )
        .unwrap();
        let message = open_error(dir.path());
        assert!(
            message.starts_with("9.compact: the compact's header on line 2 cannot be parsed"),
            "{message}"
        );

        fs::write(&compact, "v1").unwrap();
        assert!(open_error(dir.path()).contains("ends after line 1"));
        // nothing was written or deleted
        assert_eq!(names(dir.path()), set(&["9.compact"]));
    }
}
