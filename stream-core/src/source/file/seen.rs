//! The files a file source has taken: Spark's `SeenFilesMap`, bounded by `max_file_age`.

use std::collections::HashMap;
use std::path::Path;

/// The files taken so far, keyed by path (or by file name only, with
/// `file_name_only`), with their modification times.
///
/// As in Spark, entries older than `max_age_ms` before the newest file taken are purged
/// to bound the map, and a file older than that threshold is no longer new: the
/// threshold is relative to the newest file's timestamp, not to the clock. Before the
/// first purge every file is new.
#[derive(Debug)]
pub(crate) struct SeenFiles {
    map: HashMap<String, i64>,
    latest_ms: i64,
    last_purge_ms: i64,
    max_age_ms: i64,
    file_name_only: bool,
}

impl SeenFiles {
    /// An empty map; `max_age_ms` is `i64::MAX` when the age limit does not apply.
    pub(crate) fn new(max_age_ms: i64, file_name_only: bool) -> Self {
        SeenFiles {
            map: HashMap::new(),
            latest_ms: i64::MIN,
            last_purge_ms: i64::MIN,
            max_age_ms: max_age_ms.max(0),
            file_name_only,
        }
    }

    fn key(&self, path: &Path) -> String {
        if self.file_name_only {
            path.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        } else {
            path.to_string_lossy().into_owned()
        }
    }

    /// Records a taken file.
    pub(crate) fn add(&mut self, path: &Path, mtime_ms: i64) {
        self.map.insert(self.key(path), mtime_ms);
        self.latest_ms = self.latest_ms.max(mtime_ms);
    }

    /// Whether a listed file is new: not taken before and not older than the last purge
    /// threshold.
    pub(crate) fn is_new(&self, path: &Path, mtime_ms: i64) -> bool {
        mtime_ms >= self.last_purge_ms && !self.map.contains_key(&self.key(path))
    }

    /// Moves the threshold to `max_age_ms` before the newest file and forgets older
    /// entries; returns how many were forgotten.
    pub(crate) fn purge(&mut self) -> usize {
        if self.latest_ms == i64::MIN {
            return 0;
        }
        self.last_purge_ms = self
            .last_purge_ms
            .max(self.latest_ms.saturating_sub(self.max_age_ms));
        let before = self.map.len();
        let threshold = self.last_purge_ms;
        self.map.retain(|_, &mut t| t >= threshold);
        before - self.map.len()
    }

    /// The threshold of the last purge: files modified before it are not new.
    pub(crate) fn threshold(&self) -> i64 {
        self.last_purge_ms
    }

    /// Files modified before `ms` are not new, whatever `max_age_ms` (a threshold the
    /// source's log has forgotten files below, kept across a restart); the threshold
    /// never moves back.
    pub(crate) fn forget_before(&mut self, ms: i64) {
        self.last_purge_ms = self.last_purge_ms.max(ms);
    }

    /// How many files are tracked.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_older_than_max_age_before_the_newest_are_not_new_after_a_purge() {
        let mut seen = SeenFiles::new(200, false);
        // before the first purge, every file is new
        assert!(seen.is_new(Path::new("/a"), -5));
        seen.add(Path::new("/a"), 1_000);
        seen.add(Path::new("/b"), 700);
        assert!(!seen.is_new(Path::new("/a"), 1_000));
        assert_eq!(seen.purge(), 1, "/b is older than 1000 - 200");
        assert_eq!(seen.len(), 1);
        assert!(seen.is_new(Path::new("/c"), 800));
        assert!(!seen.is_new(Path::new("/d"), 799));
        // /b was forgotten, but it is too old to be new again
        assert!(!seen.is_new(Path::new("/b"), 700));
    }

    #[test]
    fn a_threshold_from_the_log_is_never_moved_back() {
        let mut seen = SeenFiles::new(1_000, false);
        seen.forget_before(500);
        seen.add(Path::new("/a"), 1_200);
        seen.purge();
        assert_eq!(
            seen.threshold(),
            500,
            "1200 - 1000 is below the log's threshold"
        );
        assert!(!seen.is_new(Path::new("/b"), 499));
        assert!(seen.is_new(Path::new("/b"), 500));
        seen.add(Path::new("/c"), 2_000);
        seen.purge();
        assert_eq!(seen.threshold(), 1_000);
    }

    #[test]
    fn without_an_age_limit_nothing_is_purged() {
        let mut seen = SeenFiles::new(i64::MAX, false);
        seen.add(Path::new("/a"), i64::MAX / 2);
        seen.add(Path::new("/b"), 0);
        assert_eq!(seen.purge(), 0);
        assert!(seen.is_new(Path::new("/c"), -1_000_000));
    }

    #[test]
    fn file_name_only_compares_names() {
        let mut seen = SeenFiles::new(i64::MAX, true);
        seen.add(Path::new("/in/x/part-1.json"), 1);
        assert!(!seen.is_new(Path::new("/in/y/part-1.json"), 1));
        assert!(seen.is_new(Path::new("/in/y/part-2.json"), 1));
        let mut by_path = SeenFiles::new(i64::MAX, false);
        by_path.add(Path::new("/in/x/part-1.json"), 1);
        assert!(by_path.is_new(Path::new("/in/y/part-1.json"), 1));
    }
}
