//! Finding the files of a file source: the path (a folder or a glob), hidden names,
//! `key=value` partition folders, the order, and the settle rule for files that may still
//! be being written.

use std::collections::HashMap;
use std::ffi::OsStr;
use std::fs;
use std::path::{Component, Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use globset::{GlobBuilder, GlobMatcher};

use crate::{Result, StreamError};

/// A file found by listing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Candidate {
    pub(crate) path: PathBuf,
    /// Modification time, milliseconds since the Unix epoch.
    pub(crate) mtime_ms: i64,
    /// Size in bytes (on disk, so compressed for `.gz` / `.zst`).
    pub(crate) size: u64,
}

/// The source's path: a folder, or a glob pattern whose wildcards sit in whole path
/// components (`landing/*/2024-*/*.json`). Components before the first wildcard form
/// the base folder.
#[derive(Clone, Debug)]
pub(crate) struct PathPattern {
    base: PathBuf,
    /// One matcher per component after the base.
    globs: Vec<GlobMatcher>,
}

/// Whether a path component is a glob pattern (Hadoop's glob characters).
pub(crate) fn has_glob_chars(text: &str) -> bool {
    text.contains(['*', '?', '[', '{'])
}

/// A glob for one path component; `*` never crosses a `/`.
pub(crate) fn component_glob(text: &str) -> Result<GlobMatcher, globset::Error> {
    GlobBuilder::new(text)
        .literal_separator(true)
        .backslash_escape(true)
        .build()
        .map(|g| g.compile_matcher())
}

impl PathPattern {
    /// Splits `path` (absolute) into the base folder and the glob components.
    pub(crate) fn parse(path: &Path) -> Result<Self> {
        let invalid = |message: String| StreamError::InvalidOption {
            name: "path".into(),
            message,
        };
        let mut base = PathBuf::new();
        let mut globs = Vec::new();
        for component in path.components() {
            let text = component.as_os_str().to_str();
            let is_glob =
                matches!(component, Component::Normal(_)) && text.is_some_and(has_glob_chars);
            if globs.is_empty() && !is_glob {
                base.push(component);
                continue;
            }
            let text = match (component, text) {
                (Component::Normal(_), Some(text)) => text,
                _ => {
                    return Err(invalid(format!(
                        "`{}`: after the first wildcard, every path component must be a \
                         plain UTF-8 name or pattern (no `.` or `..`)",
                        path.display()
                    )));
                }
            };
            let glob = component_glob(text)
                .map_err(|e| invalid(format!("`{text}` in `{}`: {e}", path.display())))?;
            globs.push(glob);
        }
        Ok(PathPattern { base, globs })
    }

    /// The folder before the first wildcard (the whole path without one).
    pub(crate) fn base(&self) -> &Path {
        &self.base
    }

    /// Every file the path covers, unordered: for a folder, the files in it and in its
    /// `key=value` partition folders (at any depth); for a glob, the files it matches and
    /// the files (as for a folder) in the folders it matches. Hidden names (see
    /// [`is_hidden`]) are skipped at every level.
    pub(crate) fn list(&self) -> Result<Vec<Candidate>> {
        let mut out = Vec::new();
        // the base itself must be readable; folders below it may vanish while listing
        let entries = fs::read_dir(&self.base).map_err(|e| StreamError::io(&self.base, e))?;
        if self.globs.is_empty() {
            list_folder_entries(&self.base, entries, &mut out)?;
        } else {
            self.walk(&self.base, entries, 0, &mut out)?;
        }
        Ok(out)
    }

    fn walk(
        &self,
        dir: &Path,
        entries: fs::ReadDir,
        depth: usize,
        out: &mut Vec<Candidate>,
    ) -> Result<()> {
        let last = depth + 1 == self.globs.len();
        for entry in entries {
            let entry = entry.map_err(|e| StreamError::io(dir, e))?;
            let name = entry.file_name();
            if !self.globs[depth].is_match(Path::new(&name)) {
                continue;
            }
            let path = entry.path();
            let Some(meta) = metadata(&path)? else {
                continue;
            };
            if meta.is_dir() {
                if is_hidden(&name, true) {
                    continue;
                }
                let Some(sub) = read_dir_if_present(&path)? else {
                    continue;
                };
                if last {
                    list_folder_entries(&path, sub, out)?;
                } else {
                    self.walk(&path, sub, depth + 1, out)?;
                }
            } else if meta.is_file() && last && !is_hidden(&name, false) {
                out.push(candidate(path, &meta)?);
            }
        }
        Ok(())
    }

    /// The `key=value` folders between the base and `file`, outermost first, with `%XX`
    /// escapes decoded (Spark escapes such characters when it writes partition folders).
    pub(crate) fn partition_segments(&self, file: &Path) -> Vec<(String, String)> {
        let Some(folders) = file
            .strip_prefix(&self.base)
            .ok()
            .and_then(|rel| rel.parent())
        else {
            return Vec::new();
        };
        folders
            .components()
            .filter_map(|c| match c {
                Component::Normal(name) => name.to_str(),
                _ => None,
            })
            .filter_map(|name| name.split_once('='))
            .filter(|(key, _)| !key.is_empty())
            .map(|(key, value)| (unescape_path_name(key), unescape_path_name(value)))
            .collect()
    }
}

/// Spark's rule for names a file source never reads: names starting with `.`, names
/// starting with `_` (for a folder: unless it is a `key=value` partition folder, like
/// `_a=1`), and names ending in `._COPYING_` (a copy in progress).
pub(crate) fn is_hidden(name: &OsStr, folder: bool) -> bool {
    let bytes = name.as_encoded_bytes();
    match bytes.first() {
        Some(b'.') => true,
        Some(b'_') => !(folder && bytes.contains(&b'=')),
        _ => bytes.ends_with(b"._COPYING_"),
    }
}

/// Lists `dir` as a folder: its files, and the files of its `key=value` sub-folders,
/// recursively. Other sub-folders are not read.
fn list_folder_entries(dir: &Path, entries: fs::ReadDir, out: &mut Vec<Candidate>) -> Result<()> {
    for entry in entries {
        let entry = entry.map_err(|e| StreamError::io(dir, e))?;
        let name = entry.file_name();
        let path = entry.path();
        let Some(meta) = metadata(&path)? else {
            continue;
        };
        if meta.is_file() && !is_hidden(&name, false) {
            out.push(candidate(path, &meta)?);
        } else if meta.is_dir()
            && !is_hidden(&name, true)
            && name.as_encoded_bytes().contains(&b'=')
            && let Some(sub) = read_dir_if_present(&path)?
        {
            list_folder_entries(&path, sub, out)?;
        }
    }
    Ok(())
}

/// The metadata of `path`, following symbolic links; `None` if it was removed since it
/// was listed.
fn metadata(path: &Path) -> Result<Option<fs::Metadata>> {
    match fs::metadata(path) {
        Ok(meta) => Ok(Some(meta)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(StreamError::io(path, e)),
    }
}

fn read_dir_if_present(path: &Path) -> Result<Option<fs::ReadDir>> {
    match fs::read_dir(path) {
        Ok(entries) => Ok(Some(entries)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(StreamError::io(path, e)),
    }
}

fn candidate(path: PathBuf, meta: &fs::Metadata) -> Result<Candidate> {
    let mtime = meta.modified().map_err(|e| StreamError::io(&path, e))?;
    Ok(Candidate {
        path,
        mtime_ms: epoch_ms(mtime),
        size: meta.len(),
    })
}

/// Orders files by modification time, then path; newest first with `latest_first`.
pub(crate) fn sort_files(files: &mut [Candidate], latest_first: bool) {
    files.sort_by(|a, b| (a.mtime_ms, &a.path).cmp(&(b.mtime_ms, &b.path)));
    if latest_first {
        files.reverse();
    }
}

/// Milliseconds since the Unix epoch (negative before it).
pub(crate) fn epoch_ms(t: SystemTime) -> i64 {
    let ms = |d: std::time::Duration| i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
    match t.duration_since(UNIX_EPOCH) {
        Ok(after) => ms(after),
        Err(before) => -ms(before.duration()),
    }
}

/// Decodes `%XX` escapes; anything else (a `%` not followed by two hex digits, bytes
/// that do not form UTF-8) is kept as it is.
pub(crate) fn unescape_path_name(text: &str) -> String {
    if !text.contains('%') {
        return text.to_string();
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(hex) = bytes.get(i + 1..i + 3)
            && let Ok(hex) = std::str::from_utf8(hex)
            && let Ok(byte) = u8::from_str_radix(hex, 16)
        {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|_| text.to_string())
}

/// The settle rule for files that may still be being written.
///
/// With a settle time of zero (the default) every listed file is taken. Otherwise a
/// file is taken once it is *settled*: its size and modification time have stayed the
/// same, across listings, for at least the settle time on the query's clock, or its
/// modification time is at least the settle time before the clock's now.
#[derive(Debug, Default)]
pub(crate) struct Settle {
    settle_ms: i64,
    /// Unseen files listed before: (size, mtime, when first listed with those).
    observed: HashMap<PathBuf, (u64, i64, i64)>,
}

impl Settle {
    pub(crate) fn new(settle_ms: i64) -> Self {
        Settle {
            settle_ms,
            observed: HashMap::new(),
        }
    }

    /// The settled files of `files` (the unseen files of a listing made at `now_ms`),
    /// in their order. Remembers every one of them for the next listing; forgets files
    /// no longer listed.
    pub(crate) fn settled(&mut self, files: Vec<Candidate>, now_ms: i64) -> Vec<Candidate> {
        if self.settle_ms <= 0 {
            return files;
        }
        let mut observed = HashMap::with_capacity(files.len());
        let mut out = Vec::new();
        for file in files {
            let first = match self.observed.get(&file.path) {
                Some(&(size, mtime, first)) if size == file.size && mtime == file.mtime_ms => first,
                _ => now_ms,
            };
            observed.insert(file.path.clone(), (file.size, file.mtime_ms, first));
            let untouched = now_ms.saturating_sub(file.mtime_ms) >= self.settle_ms;
            let stable = now_ms.saturating_sub(first) >= self.settle_ms;
            if untouched || stable {
                out.push(file);
            }
        }
        self.observed = observed;
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(path: &Path, text: &str, mtime_s: u64) {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
        fs::File::options()
            .write(true)
            .open(path)
            .unwrap()
            .set_modified(UNIX_EPOCH + std::time::Duration::from_secs(mtime_s))
            .unwrap();
    }

    fn names(pattern: &PathPattern, root: &Path) -> Vec<String> {
        let mut files = pattern.list().unwrap();
        sort_files(&mut files, false);
        files
            .iter()
            .map(|c| {
                c.path
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect()
    }

    #[test]
    fn a_folder_lists_its_files_and_partition_folders_only() {
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        touch(&r.join("a.json"), "1", 1);
        touch(&r.join("date=2024-01-01/country=DE/b.json"), "1", 2);
        touch(&r.join("_a=1/c.json"), "1", 3);
        touch(&r.join("plain/d.json"), "1", 4);
        touch(&r.join(".hidden=1/e.json"), "1", 5);
        touch(&r.join("date=2024-01-02/_f.json"), "1", 6);
        touch(&r.join("g.json._COPYING_"), "1", 7);
        let pattern = PathPattern::parse(r).unwrap();
        assert!(pattern.globs.is_empty());
        assert_eq!(
            names(&pattern, r),
            ["a.json", "date=2024-01-01/country=DE/b.json", "_a=1/c.json"]
        );
    }

    #[test]
    fn a_glob_matches_whole_components() {
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        touch(&r.join("landing/x/2024-01/a.json"), "1", 1);
        touch(&r.join("landing/y/2024-02/b.json"), "1", 2);
        touch(&r.join("landing/y/2024-02/b.csv"), "1", 3);
        touch(&r.join("landing/y/2023-12/c.json"), "1", 4);
        touch(&r.join("landing/_z/2024-03/d.json"), "1", 5);
        touch(&r.join("landing/x/2024-01/deeper/e.json"), "1", 6);
        let pattern = PathPattern::parse(&r.join("landing/*/2024-*/*.json")).unwrap();
        assert_eq!(pattern.globs.len(), 3);
        assert_eq!(pattern.base(), r.join("landing"));
        assert_eq!(
            names(&pattern, r),
            ["landing/x/2024-01/a.json", "landing/y/2024-02/b.json"]
        );
        // a glob ending in folders lists those folders
        let folders = PathPattern::parse(&r.join("landing/{x,y}/2024-0[2-9]")).unwrap();
        assert_eq!(
            names(&folders, r),
            ["landing/y/2024-02/b.json", "landing/y/2024-02/b.csv"]
        );
    }

    #[test]
    fn a_missing_base_is_an_error_naming_it() {
        let root = tempfile::tempdir().unwrap();
        let pattern = PathPattern::parse(&root.path().join("nope/*.json")).unwrap();
        let err = pattern.list().unwrap_err().to_string();
        assert!(err.contains("nope"), "{err}");
    }

    #[test]
    fn bad_globs_are_invalid_path_options() {
        match PathPattern::parse(Path::new("/in/{a,b/*.json")) {
            Err(StreamError::InvalidOption { name, .. }) => assert_eq!(name, "path"),
            other => panic!("expected an invalid path, got {other:?}"),
        }
        assert!(PathPattern::parse(Path::new("/in/*/../x")).is_err());
    }

    #[test]
    fn partition_segments_are_read_below_the_base_and_unescaped() {
        let pattern = PathPattern::parse(Path::new("/in/*/data")).unwrap();
        let segments =
            pattern.partition_segments(Path::new("/in/k=v/data/t=10%3A00/x=/plain/=y/f.json"));
        assert_eq!(
            segments,
            [
                ("k".to_string(), "v".to_string()),
                ("t".to_string(), "10:00".to_string()),
                ("x".to_string(), String::new()),
            ]
        );
        assert!(
            pattern
                .partition_segments(Path::new("/other/a=1/f"))
                .is_empty()
        );
        assert_eq!(unescape_path_name("100%"), "100%");
        assert_eq!(unescape_path_name("a%2Fb%zz"), "a/b%zz");
    }

    #[test]
    fn latest_first_reverses_the_order() {
        let c = |p: &str, t: i64| Candidate {
            path: p.into(),
            mtime_ms: t,
            size: 0,
        };
        let mut files = vec![c("b", 2), c("a", 2), c("c", 1)];
        sort_files(&mut files, false);
        assert_eq!(files, [c("c", 1), c("a", 2), c("b", 2)]);
        sort_files(&mut files, true);
        assert_eq!(files, [c("b", 2), c("a", 2), c("c", 1)]);
    }

    #[test]
    fn a_file_settles_when_unchanged_for_the_settle_time_or_old_enough() {
        let c = |size: u64, mtime_ms: i64| Candidate {
            path: "f".into(),
            mtime_ms,
            size,
        };
        let mut settle = Settle::new(1_000);
        // written "now" (mtime in the clock's future or present): not settled at first
        assert!(settle.settled(vec![c(10, 5_000)], 5_000).is_empty());
        // grew in between: the wait starts again
        assert!(settle.settled(vec![c(20, 5_500)], 5_900).is_empty());
        assert!(settle.settled(vec![c(20, 5_500)], 6_400).is_empty());
        assert_eq!(settle.settled(vec![c(20, 5_500)], 6_900), [c(20, 5_500)]);
        // an old file is settled at its first listing
        let mut fresh = Settle::new(1_000);
        assert_eq!(fresh.settled(vec![c(1, 100)], 1_100), [c(1, 100)]);
        // a file whose mtime is ahead of the clock settles by observation alone
        let mut skewed = Settle::new(1_000);
        assert!(skewed.settled(vec![c(1, 9_999_999)], 0).is_empty());
        assert_eq!(skewed.settled(vec![c(1, 9_999_999)], 1_000).len(), 1);
        // no settle time: everything at once
        assert_eq!(Settle::new(0).settled(vec![c(1, 5)], 0).len(), 1);
    }
}
