//! [`JsonFileSource`]: a landing folder of newline-delimited JSON files (Spark's
//! `FileStreamSource` with the `json` format).

use std::collections::HashSet;
use std::fs::{self, File};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use arrow_array::RecordBatch;
use arrow_json::ReaderBuilder;
use arrow_schema::{ArrowError, SchemaRef};
use serde::{Deserialize, Serialize};

use super::{ReadLimit, Source, SourceContext};
use crate::checkpoint::MetadataLog;
use crate::{Offset, Result, StreamError};

/// Reads the newline-delimited JSON files that land in a folder, each file once, with a
/// given schema (Spark's file stream source).
///
/// - New files are found by listing the folder (not its sub-folders). Names starting
///   with `.` or `_` are ignored: write a file under such a name, then rename it, so the
///   source never sees it half written. New files are taken in order of modification
///   time (milliseconds), then name.
/// - Each offset, `{"logOffset": n}`, is entry `n` of the source's log in the
///   checkpoint (`sources/<i>/n`), which lists the files it took, one JSON line per file
///   (`{"path": .., "timestamp": <mtime ms>, "batchId": n}`, Spark's `FileEntry`). A
///   restarted query rebuilds the set of files it has seen from that log, so no file is
///   read twice or skipped.
/// - Rows decode with `arrow-json` against the schema: fields not in the schema are
///   ignored, missing nullable fields are null, ISO-8601 strings decode into timestamp
///   columns. A record that does not decode stops the query with
///   [`StreamError::MalformedRecord`] naming the file and line.
/// - The folder must exist when the query starts ([`Source::open`]); a logged file must
///   stay until the batch that reads it is committed.
///
/// ```
/// use std::sync::Arc;
/// use arrow_schema::{DataType, Field, Schema};
/// use stream_core::{JsonFileSource, ManualClock, ReadLimit, Source, SourceContext};
///
/// let landing = tempfile::tempdir().unwrap();
/// let checkpoint = tempfile::tempdir().unwrap();
/// std::fs::write(landing.path().join("a.json"), "{\"n\": 1}\n{\"n\": 2}\n").unwrap();
///
/// let schema = Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, true)]));
/// let mut source = JsonFileSource::new(landing.path(), schema);
/// let ctx = SourceContext { metadata_dir: checkpoint.path().join("sources/0"), clock: Arc::new(ManualClock::new(0)), index: 0 };
/// source.open(&ctx).unwrap();
/// let end = source.latest_offset(None, ReadLimit::All).unwrap().unwrap();
/// assert_eq!(end.json(), r#"{"logOffset":0}"#);
/// assert_eq!(source.read(None, &end).unwrap()[0].num_rows(), 2);
/// // nothing new: the same offset again
/// assert_eq!(source.latest_offset(Some(&end), ReadLimit::All).unwrap(), Some(end));
/// ```
#[derive(Debug)]
pub struct JsonFileSource {
    dir: PathBuf,
    schema: SchemaRef,
    max_files_per_trigger: Option<usize>,
    state: Option<Opened>,
}

/// What the source knows once opened.
#[derive(Debug)]
struct Opened {
    log: MetadataLog,
    /// The highest entry of the log.
    latest_entry: Option<u64>,
    /// Every file listed in the log.
    seen: HashSet<PathBuf>,
    /// For `Trigger::AvailableNow`: the unseen files present when it was prepared.
    available_now: Option<Vec<Candidate>>,
}

/// The offset: an entry of the source's log.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct LogOffset {
    #[serde(rename = "logOffset")]
    log_offset: u64,
}

/// One file of a log entry (Spark's `FileEntry`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct FileEntry {
    path: String,
    timestamp: i64,
    batch_id: u64,
}

/// A file found by listing the folder.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Candidate {
    path: PathBuf,
    mtime_ms: i64,
}

impl JsonFileSource {
    /// A source over the files landing in `dir`, decoded with `schema`.
    ///
    /// A relative `dir` is made absolute against the current folder now.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arrow_schema::{DataType, Field, Schema};
    /// use stream_core::{JsonFileSource, Source};
    ///
    /// let schema = Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, true)]));
    /// let source = JsonFileSource::new("/data/landing", schema);
    /// assert_eq!(source.description(), "FileStreamSource[file:/data/landing]");
    /// ```
    pub fn new(dir: impl Into<PathBuf>, schema: SchemaRef) -> Self {
        let dir = dir.into();
        JsonFileSource {
            dir: std::path::absolute(&dir).unwrap_or(dir),
            schema,
            max_files_per_trigger: None,
            state: None,
        }
    }

    /// Takes at most `n` new files per micro-batch (Spark's `maxFilesPerTrigger`).
    /// Without it, a batch takes every new file. `0` is rejected by [`Source::open`]
    /// with [`StreamError::InvalidOption`].
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arrow_schema::{DataType, Field, Schema};
    /// use stream_core::{JsonFileSource, ReadLimit, Source};
    ///
    /// let schema = Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, true)]));
    /// let source = JsonFileSource::new("in", schema).max_files_per_trigger(2);
    /// assert_eq!(source.default_read_limit(), ReadLimit::MaxFiles(2));
    /// ```
    pub fn max_files_per_trigger(mut self, n: usize) -> Self {
        self.max_files_per_trigger = Some(n);
        self
    }

    fn opened(&self) -> Result<&Opened> {
        self.state
            .as_ref()
            .ok_or_else(|| self.error("the source was not opened".into()))
    }

    fn opened_mut(&mut self) -> Result<&mut Opened> {
        let error = self.error("the source was not opened".into());
        self.state.as_mut().ok_or(error)
    }

    fn error(&self, message: String) -> StreamError {
        StreamError::Source {
            source_name: self.description(),
            message,
        }
    }

    /// Reads an offset written by [`JsonFileSource::latest_offset`].
    fn entry_of(&self, offset: &Offset) -> Result<u64> {
        offset
            .to_value::<LogOffset>()
            .map(|o| o.log_offset)
            .map_err(|_| self.error(format!("offset {offset} is not a `logOffset`")))
    }

    /// The most files one batch may take under `limit`. The limit the engine passes is
    /// authoritative, as in Spark: it is [`Source::default_read_limit`] (which carries
    /// `max_files_per_trigger`) unless the trigger overrides it (`Trigger::Once` passes
    /// [`ReadLimit::All`]).
    fn file_cap(limit: ReadLimit) -> Option<usize> {
        match limit {
            ReadLimit::MaxFiles(n) => Some(usize::try_from(n).unwrap_or(usize::MAX).max(1)),
            ReadLimit::All | ReadLimit::MaxRows(_) => None,
        }
    }

    /// The unseen files, in order: from the available-now snapshot if there is one,
    /// else from a fresh listing.
    fn unseen(&self, state: &Opened) -> Result<Vec<Candidate>> {
        let all = match &state.available_now {
            Some(snapshot) => snapshot.clone(),
            None => list_files(&self.dir)?,
        };
        Ok(all
            .into_iter()
            .filter(|c| !state.seen.contains(&c.path))
            .collect())
    }

    /// Writes the next log entry with `files`; returns its id.
    fn log_new_entry(&mut self, files: Vec<Candidate>) -> Result<u64> {
        let description = self.description();
        let state = self.opened_mut()?;
        let id = state.latest_entry.map_or(0, |l| l + 1);
        let entries = files
            .iter()
            .map(|c| file_entry(c, id, &description))
            .collect::<Result<Vec<_>>>()?;
        let lines = entries
            .iter()
            .map(serde_json::to_string)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| StreamError::InvalidQuery(format!("file entry cannot be written: {e}")))?;
        state.log.add(id, &lines)?;
        state.latest_entry = Some(id);
        state.seen.extend(files.into_iter().map(|c| c.path));
        tracing::debug!(
            entry = id,
            files = lines.len(),
            "file source logged new files"
        );
        Ok(id)
    }

    /// Decodes every file of log entry `id`.
    fn read_entry(&self, state: &Opened, id: u64) -> Result<Vec<RecordBatch>> {
        let path = state.log.path(id);
        let lines = state.log.get(id)?.ok_or_else(|| {
            StreamError::corrupt(&path, "is missing but the offset log refers to it")
        })?;
        let mut batches = Vec::new();
        for entry in parse_entry(&path, &lines)? {
            batches.extend(self.read_file(Path::new(&entry.path), id)?);
        }
        Ok(batches)
    }

    /// Decodes one file; `id` is the log entry that took it.
    fn read_file(&self, path: &Path, id: u64) -> Result<Vec<RecordBatch>> {
        let gone = |e: std::io::Error| {
            self.error(format!(
                "file `{}` of batch {id} cannot be read: {e}; a file must stay in the folder \
                 until the batch that reads it is committed",
                path.display()
            ))
        };
        let file = File::open(path).map_err(gone)?;
        match decode_all(&self.schema, BufReader::new(file)) {
            Ok(batches) => Ok(batches),
            Err(error) => {
                let bytes = fs::read(path).map_err(gone)?;
                Err(match find_bad_record(&self.schema, &bytes) {
                    Some(bad) => StreamError::MalformedRecord {
                        path: path.to_path_buf(),
                        line: bad.line,
                        message: bad.message,
                    },
                    None => self.error(format!(
                        "file `{}` of batch {id} cannot be decoded: {error}",
                        path.display()
                    )),
                })
            }
        }
    }
}

/// The log entry recording that `candidate` was taken by entry `id`; `source` names the
/// source in the error for a file name that is not UTF-8.
fn file_entry(candidate: &Candidate, id: u64, source: &str) -> Result<FileEntry> {
    let path = candidate.path.to_str().ok_or_else(|| StreamError::Source {
        source_name: source.to_string(),
        message: format!(
            "file name `{}` is not valid UTF-8; rename the file",
            candidate.path.display()
        ),
    })?;
    Ok(FileEntry {
        path: path.to_string(),
        timestamp: candidate.mtime_ms,
        batch_id: id,
    })
}

/// Parses the lines of a log entry (the file `path`).
fn parse_entry(path: &Path, lines: &[String]) -> Result<Vec<FileEntry>> {
    lines
        .iter()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(i, line)| {
            serde_json::from_str(line).map_err(|e| {
                StreamError::corrupt(
                    path,
                    format!("file entry on line {} cannot be parsed: {e}", i + 2),
                )
            })
        })
        .collect()
}

/// The files directly in `dir` whose names do not start with `.` or `_`, ordered by
/// modification time then name.
fn list_files(dir: &Path) -> Result<Vec<Candidate>> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).map_err(|e| StreamError::io(dir, e))? {
        let entry = entry.map_err(|e| StreamError::io(dir, e))?;
        let name = entry.file_name();
        if matches!(name.as_encoded_bytes().first(), Some(b'.' | b'_')) {
            continue;
        }
        let path = entry.path();
        // follows symbolic links; a file removed since the listing is skipped
        let meta = match fs::metadata(&path) {
            Ok(meta) => meta,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(StreamError::io(&path, e)),
        };
        if !meta.is_file() {
            continue;
        }
        let mtime = meta.modified().map_err(|e| StreamError::io(&path, e))?;
        files.push(Candidate {
            path,
            mtime_ms: epoch_ms(mtime),
        });
    }
    files.sort_by(|a, b| (a.mtime_ms, &a.path).cmp(&(b.mtime_ms, &b.path)));
    Ok(files)
}

/// Milliseconds since the Unix epoch (negative before it).
fn epoch_ms(t: SystemTime) -> i64 {
    let ms = |d: std::time::Duration| i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
    match t.duration_since(UNIX_EPOCH) {
        Ok(after) => ms(after),
        Err(before) => -ms(before.duration()),
    }
}

/// Decodes newline-delimited JSON from `reader` (a file, or bytes in memory) against
/// `schema`.
pub(crate) fn decode_all<R: BufRead>(
    schema: &SchemaRef,
    reader: R,
) -> Result<Vec<RecordBatch>, ArrowError> {
    ReaderBuilder::new(schema.clone()).build(reader)?.collect()
}

/// A record that does not decode: its 1-based line and the decoder's message.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct BadRecord {
    pub(crate) line: u64,
    pub(crate) message: String,
}

/// Finds the first record of `bytes` that does not decode against `schema`, by decoding
/// line by line (only used once a decode has failed). A record spanning several lines
/// is reported at its last line; an unfinished record at the end, at the last line.
pub(crate) fn find_bad_record(schema: &SchemaRef, bytes: &[u8]) -> Option<BadRecord> {
    let bad = |line: usize, e: ArrowError| BadRecord {
        line: line as u64,
        message: e.to_string(),
    };
    let mut decoder = match ReaderBuilder::new(schema.clone()).build_decoder() {
        Ok(d) => d,
        Err(e) => return Some(bad(1, e)),
    };
    let mut last = 0;
    for (i, line) in bytes.split_inclusive(|&b| b == b'\n').enumerate() {
        last = i + 1;
        let mut rest = line;
        while !rest.is_empty() {
            match decoder.decode(rest) {
                Ok(0) => {
                    // the decoder holds a full batch: make room
                    if let Err(e) = decoder.flush() {
                        return Some(bad(last, e));
                    }
                }
                Ok(n) => rest = &rest[n..],
                Err(e) => return Some(bad(last, e)),
            }
        }
        if !decoder.has_partial_record()
            && let Err(e) = decoder.flush()
        {
            return Some(bad(last, e));
        }
    }
    if decoder.has_partial_record() {
        let message = "the file ends in the middle of a record".to_string();
        return Some(BadRecord {
            line: last.max(1) as u64,
            message,
        });
    }
    None
}

impl Source for JsonFileSource {
    fn description(&self) -> String {
        format!("FileStreamSource[file:{}]", self.dir.display())
    }

    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    /// Checks the options and the folder, then rebuilds the set of seen files from the
    /// source's log.
    fn open(&mut self, ctx: &SourceContext) -> Result<()> {
        if self.max_files_per_trigger == Some(0) {
            return Err(StreamError::InvalidOption {
                name: "max_files_per_trigger".into(),
                message: "must be at least 1, got 0".into(),
            });
        }
        let meta = fs::metadata(&self.dir).map_err(|e| StreamError::io(&self.dir, e))?;
        if !meta.is_dir() {
            return Err(self.error(format!("`{}` is not a folder", self.dir.display())));
        }
        let log = MetadataLog::open(&ctx.metadata_dir)?;
        let mut seen = HashSet::new();
        let ids = log.ids()?;
        for &id in &ids {
            let path = log.path(id);
            let lines = log
                .get(id)?
                .ok_or_else(|| StreamError::corrupt(&path, "vanished while being read"))?;
            seen.extend(
                parse_entry(&path, &lines)?
                    .into_iter()
                    .map(|e| PathBuf::from(e.path)),
            );
        }
        self.state = Some(Opened {
            log,
            latest_entry: ids.last().copied(),
            seen,
            available_now: None,
        });
        Ok(())
    }

    fn default_read_limit(&self) -> ReadLimit {
        match self.max_files_per_trigger {
            Some(n) if n > 0 => ReadLimit::MaxFiles(n as u64),
            _ => ReadLimit::All,
        }
    }

    /// Fixes the set of files this run reads: the unseen files present now.
    fn prepare_for_available_now(&mut self) -> Result<()> {
        let snapshot = {
            let state = self.opened()?;
            // list afresh, even if a snapshot was taken before
            let listed = list_files(&self.dir)?;
            listed
                .into_iter()
                .filter(|c| !state.seen.contains(&c.path))
                .collect()
        };
        self.opened_mut()?.available_now = Some(snapshot);
        Ok(())
    }

    /// Returns a log entry after `start` written before a restart, if any (one entry at a
    /// time, so the per-trigger limit still holds); else logs the next new files as a new
    /// entry; else returns `start`.
    ///
    /// A new entry takes at most `n` files under [`ReadLimit::MaxFiles`]`(n)` and every
    /// new file under [`ReadLimit::All`]: `limit` is authoritative, and the engine passes
    /// [`Source::default_read_limit`] (so `max_files_per_trigger`) unless the trigger
    /// overrides it. [`ReadLimit::MaxRows`] does not apply to files and means no limit.
    fn latest_offset(
        &mut self,
        start: Option<&Offset>,
        limit: ReadLimit,
    ) -> Result<Option<Offset>> {
        let start_entry = start.map(|s| self.entry_of(s)).transpose()?;
        let state = self.opened()?;
        let next = start_entry.map_or(0, |s| s.saturating_add(1));
        match state.latest_entry {
            Some(latest) if latest >= next => {
                return Offset::from_value(&LogOffset { log_offset: next }).map(Some);
            }
            latest if start_entry > latest => {
                let path = state.log.path(next - 1);
                return Err(StreamError::corrupt(
                    path,
                    "is missing but the offset log refers to it",
                ));
            }
            _ => {}
        }
        let mut files = self.unseen(state)?;
        if let Some(cap) = Self::file_cap(limit) {
            files.truncate(cap);
        }
        if files.is_empty() {
            return Ok(start.cloned());
        }
        let id = self.log_new_entry(files)?;
        Offset::from_value(&LogOffset { log_offset: id }).map(Some)
    }

    fn read(&mut self, start: Option<&Offset>, end: &Offset) -> Result<Vec<RecordBatch>> {
        let first = match start {
            Some(s) => self.entry_of(s)?.saturating_add(1),
            None => 0,
        };
        let last = self.entry_of(end)?;
        let state = self.opened()?;
        let mut batches = Vec::new();
        for id in first..=last {
            batches.extend(self.read_entry(state, id)?);
        }
        Ok(batches)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use arrow_array::cast::AsArray;
    use arrow_array::types::{Int64Type, TimestampMicrosecondType};
    use arrow_schema::{DataType, Field, Schema, TimeUnit};

    use super::*;
    use crate::ManualClock;

    struct Fixture {
        landing: tempfile::TempDir,
        checkpoint: tempfile::TempDir,
    }

    impl Fixture {
        fn new() -> Self {
            Fixture {
                landing: tempfile::tempdir().unwrap(),
                checkpoint: tempfile::tempdir().unwrap(),
            }
        }

        /// Writes `name` with rows `{"id": v}` and the given mtime (seconds).
        fn file(&self, name: &str, ids: &[i64], mtime_s: u64) -> PathBuf {
            let text: String = ids.iter().map(|i| format!("{{\"id\": {i}}}\n")).collect();
            self.raw(name, &text, mtime_s)
        }

        fn raw(&self, name: &str, text: &str, mtime_s: u64) -> PathBuf {
            let path = self.landing.path().join(name);
            fs::write(&path, text).unwrap();
            let f = File::options().write(true).open(&path).unwrap();
            f.set_modified(UNIX_EPOCH + Duration::from_secs(mtime_s))
                .unwrap();
            path
        }

        fn source(&self) -> JsonFileSource {
            JsonFileSource::new(self.landing.path(), schema())
        }

        fn open(&self, mut source: JsonFileSource) -> JsonFileSource {
            source.open(&self.ctx()).unwrap();
            source
        }

        fn ctx(&self) -> SourceContext {
            SourceContext {
                metadata_dir: self.checkpoint.path().join("sources/0"),
                clock: Arc::new(ManualClock::new(0)),
                index: 0,
            }
        }
    }

    fn schema() -> SchemaRef {
        Arc::new(Schema::new(vec![Field::new("id", DataType::Int64, true)]))
    }

    fn log_offset(n: u64) -> Offset {
        Offset::from_value(&LogOffset { log_offset: n }).unwrap()
    }

    fn ids(batches: &[RecordBatch]) -> Vec<i64> {
        batches
            .iter()
            .flat_map(|b| b.column(0).as_primitive::<Int64Type>().values().to_vec())
            .collect()
    }

    /// Runs the engine's loop until nothing is new: the ids of each batch.
    fn drain(source: &mut JsonFileSource, mut start: Option<Offset>) -> Vec<Vec<i64>> {
        let mut out = Vec::new();
        loop {
            let limit = source.default_read_limit();
            let end = source.latest_offset(start.as_ref(), limit).unwrap();
            if end.is_none() || end == start {
                return out;
            }
            let end = end.unwrap();
            out.push(ids(&source.read(start.as_ref(), &end).unwrap()));
            start = Some(end);
        }
    }

    #[test]
    fn files_are_taken_by_mtime_then_name() {
        let fx = Fixture::new();
        fx.file("c.json", &[3], 100);
        fx.file("a.json", &[1], 200);
        fx.file("b.json", &[2], 100);
        let mut source = fx.open(fx.source().max_files_per_trigger(1));
        assert_eq!(drain(&mut source, None), vec![vec![2], vec![3], vec![1]]);
    }

    #[test]
    fn max_files_per_trigger_splits_batches() {
        let fx = Fixture::new();
        for i in 0..5 {
            fx.file(&format!("f{i}.json"), &[i], 100 + i as u64);
        }
        let mut source = fx.open(fx.source().max_files_per_trigger(2));
        assert_eq!(
            drain(&mut source, None),
            vec![vec![0, 1], vec![2, 3], vec![4]]
        );
    }

    #[test]
    fn the_read_limit_passed_in_is_authoritative() {
        let fx = Fixture::new();
        for i in 0..7 {
            fx.file(&format!("f{i}.json"), &[i], 100 + i as u64);
        }
        let mut source = fx.open(fx.source().max_files_per_trigger(2));
        let end = source
            .latest_offset(None, ReadLimit::MaxFiles(1))
            .unwrap()
            .unwrap();
        assert_eq!(ids(&source.read(None, &end).unwrap()), vec![0]);
        let next = source
            .latest_offset(Some(&end), ReadLimit::MaxFiles(3))
            .unwrap()
            .unwrap();
        assert_eq!(ids(&source.read(Some(&end), &next).unwrap()), vec![1, 2, 3]);
        // Trigger::Once passes All: every new file, whatever max_files_per_trigger says
        let last = source
            .latest_offset(Some(&next), ReadLimit::All)
            .unwrap()
            .unwrap();
        assert_eq!(
            ids(&source.read(Some(&next), &last).unwrap()),
            vec![4, 5, 6]
        );
    }

    #[test]
    fn without_a_limit_every_new_file_is_taken() {
        let fx = Fixture::new();
        fx.file("a.json", &[1, 2], 100);
        fx.file("b.json", &[3], 101);
        let mut source = fx.open(fx.source());
        assert_eq!(source.default_read_limit(), ReadLimit::All);
        assert_eq!(drain(&mut source, None), vec![vec![1, 2, 3]]);
    }

    #[test]
    fn hidden_underscore_files_and_folders_are_ignored() {
        let fx = Fixture::new();
        fx.file(".a.json", &[1], 100);
        fx.file("_b.json", &[2], 100);
        fx.file("c.json", &[3], 100);
        fs::create_dir(fx.landing.path().join("sub")).unwrap();
        fs::write(fx.landing.path().join("sub/d.json"), "{\"id\": 4}\n").unwrap();
        let mut source = fx.open(fx.source());
        assert_eq!(drain(&mut source, None), vec![vec![3]]);
    }

    #[test]
    fn nothing_yet_is_none_and_nothing_new_is_start() {
        let fx = Fixture::new();
        let mut source = fx.open(fx.source());
        assert_eq!(source.latest_offset(None, ReadLimit::All).unwrap(), None);
        fx.file("a.json", &[1], 100);
        let end = source.latest_offset(None, ReadLimit::All).unwrap();
        assert_eq!(end, Some(log_offset(0)));
        let again = source.latest_offset(end.as_ref(), ReadLimit::All).unwrap();
        assert_eq!(again, end);
    }

    #[test]
    fn new_files_arriving_later_are_taken_in_later_batches() {
        let fx = Fixture::new();
        fx.file("a.json", &[1], 100);
        let mut source = fx.open(fx.source());
        let first = drain(&mut source, None);
        fx.file("b.json", &[2], 50); // older mtime than a file already taken
        let end = Some(log_offset(0));
        assert_eq!(first, vec![vec![1]]);
        assert_eq!(drain(&mut source, end), vec![vec![2]]);
    }

    #[test]
    fn log_entries_are_sparks_file_entries() {
        let fx = Fixture::new();
        let path = fx.file("a.json", &[1], 100);
        let mut source = fx.open(fx.source());
        source.latest_offset(None, ReadLimit::All).unwrap();
        let log = MetadataLog::open(fx.checkpoint.path().join("sources/0")).unwrap();
        let lines = log.get(0).unwrap().unwrap();
        let entry: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
        assert_eq!(entry["path"], path.to_str().unwrap());
        assert_eq!(entry["timestamp"], 100_000);
        assert_eq!(entry["batchId"], 0);
    }

    #[test]
    fn restart_neither_rereads_nor_skips_files() {
        let fx = Fixture::new();
        fx.file("a.json", &[1], 100);
        fx.file("b.json", &[2], 101);
        let mut first = fx.open(fx.source().max_files_per_trigger(1));
        let end = first
            .latest_offset(None, first.default_read_limit())
            .unwrap()
            .unwrap();
        assert_eq!(ids(&first.read(None, &end).unwrap()), vec![1]);
        let end = first
            .latest_offset(Some(&end), first.default_read_limit())
            .unwrap()
            .unwrap();
        assert_eq!(
            ids(&first.read(Some(&log_offset(0)), &end).unwrap()),
            vec![2]
        );
        drop(first);

        fx.file("c.json", &[3], 102);
        let mut second = fx.open(fx.source().max_files_per_trigger(1));
        assert_eq!(drain(&mut second, Some(end)), vec![vec![3]]);
    }

    #[test]
    fn pending_entry_is_replayed_before_listing() {
        let fx = Fixture::new();
        fx.file("a.json", &[1], 100);
        fx.file("b.json", &[2], 101);
        let mut first = fx.open(fx.source());
        // entries 0 and 1 logged, then a crash before batch 1 was written to offsets/
        first.latest_offset(None, ReadLimit::MaxFiles(1)).unwrap();
        first
            .latest_offset(Some(&log_offset(0)), ReadLimit::MaxFiles(1))
            .unwrap();
        drop(first);

        fx.file("c.json", &[3], 102);
        let mut second = fx.open(fx.source());
        let next = second
            .latest_offset(Some(&log_offset(0)), ReadLimit::All)
            .unwrap();
        assert_eq!(
            next,
            Some(log_offset(1)),
            "the pending entry, not merged with c.json"
        );
        assert_eq!(
            ids(&second.read(Some(&log_offset(0)), &log_offset(1)).unwrap()),
            vec![2]
        );
        assert_eq!(drain(&mut second, Some(log_offset(1))), vec![vec![3]]);
    }

    #[test]
    fn pending_entry_is_replayed_from_the_very_start() {
        let fx = Fixture::new();
        fx.file("a.json", &[1], 100);
        fx.open(fx.source())
            .latest_offset(None, ReadLimit::All)
            .unwrap();
        let mut second = fx.open(fx.source());
        assert_eq!(
            second.latest_offset(None, ReadLimit::All).unwrap(),
            Some(log_offset(0))
        );
    }

    #[test]
    fn start_beyond_the_log_is_a_corrupt_checkpoint() {
        let fx = Fixture::new();
        let mut source = fx.open(fx.source());
        let err = source
            .latest_offset(Some(&log_offset(3)), ReadLimit::All)
            .unwrap_err();
        assert!(
            matches!(err, StreamError::CorruptCheckpoint { .. }),
            "{err}"
        );
    }

    #[test]
    fn available_now_only_takes_the_files_present_when_prepared() {
        let fx = Fixture::new();
        fx.file("a.json", &[1], 100);
        fx.file("b.json", &[2], 101);
        let mut source = fx.open(fx.source().max_files_per_trigger(1));
        source.prepare_for_available_now().unwrap();
        fx.file("c.json", &[3], 99);
        assert_eq!(drain(&mut source, None), vec![vec![1], vec![2]]);

        // the next run takes the file that arrived during this one
        let mut next_run = fx.open(fx.source());
        next_run.prepare_for_available_now().unwrap();
        assert_eq!(drain(&mut next_run, Some(log_offset(1))), vec![vec![3]]);
    }

    #[test]
    fn reading_the_same_range_twice_gives_the_same_rows() {
        let fx = Fixture::new();
        fx.file("a.json", &[1, 2], 100);
        fx.file("b.json", &[3], 101);
        let mut source = fx.open(fx.source());
        let end = source.latest_offset(None, ReadLimit::All).unwrap().unwrap();
        let first = source.read(None, &end).unwrap();
        let second = source.read(None, &end).unwrap();
        assert_eq!(first, second);
        let mut restarted = fx.open(fx.source());
        assert_eq!(restarted.read(None, &end).unwrap(), first);
    }

    #[test]
    fn malformed_line_error_names_file_and_line() {
        let fx = Fixture::new();
        let path = fx.raw(
            "bad.json",
            "{\"id\": 1}\n\n{\"id\": 2}\n{\"id\": \"two\"}\n{\"id\": 4}\n",
            100,
        );
        let mut source = fx.open(fx.source());
        let end = source.latest_offset(None, ReadLimit::All).unwrap().unwrap();
        match source.read(None, &end).unwrap_err() {
            StreamError::MalformedRecord { path: p, line, .. } => {
                assert_eq!(p, path);
                assert_eq!(line, 4);
            }
            other => panic!("expected a malformed record, got {other}"),
        }
    }

    #[test]
    fn broken_json_syntax_names_the_line() {
        let fx = Fixture::new();
        fx.raw("bad.json", "{\"id\": 1}\n{\"id\": 2\n{\"id\": 3}\n", 100);
        let mut source = fx.open(fx.source());
        let end = source.latest_offset(None, ReadLimit::All).unwrap().unwrap();
        match source.read(None, &end).unwrap_err() {
            StreamError::MalformedRecord { line, .. } => assert_eq!(line, 3),
            other => panic!("expected a malformed record, got {other}"),
        }
    }

    #[test]
    fn find_bad_record_reports_an_unfinished_last_record() {
        let bad = find_bad_record(&schema(), b"{\"id\": 1}\n{\"id\":").unwrap();
        assert_eq!(bad.line, 2);
        assert_eq!(
            find_bad_record(&schema(), b"{\"id\": 1}\n{\"id\": 2}\n"),
            None
        );
    }

    #[test]
    fn missing_logged_file_names_file_and_batch() {
        let fx = Fixture::new();
        let path = fx.file("a.json", &[1], 100);
        let mut source = fx.open(fx.source());
        let end = source.latest_offset(None, ReadLimit::All).unwrap().unwrap();
        fs::remove_file(&path).unwrap();
        let err = source.read(None, &end).unwrap_err().to_string();
        assert!(err.contains(path.to_str().unwrap()), "{err}");
        assert!(err.contains("batch 0"), "{err}");
    }

    #[test]
    fn iso_8601_strings_decode_into_timestamps() {
        let fx = Fixture::new();
        fx.raw(
            "t.json",
            "{\"ts\": \"2024-03-01T12:00:00Z\"}\n{\"ts\": \"2024-03-01T12:00:01.5+01:00\"}\n",
            100,
        );
        let tz = DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()));
        let schema = Arc::new(Schema::new(vec![Field::new("ts", tz, true)]));
        let mut source = JsonFileSource::new(fx.landing.path(), schema);
        source.open(&fx.ctx()).unwrap();
        let end = source.latest_offset(None, ReadLimit::All).unwrap().unwrap();
        let batches = source.read(None, &end).unwrap();
        let ts = batches[0]
            .column(0)
            .as_primitive::<TimestampMicrosecondType>();
        let noon = chrono::DateTime::parse_from_rfc3339("2024-03-01T12:00:00Z").unwrap();
        assert_eq!(ts.value(0), noon.timestamp_micros());
        assert_eq!(
            ts.value(1),
            noon.timestamp_micros() - 3_600_000_000 + 1_500_000
        );
    }

    #[test]
    fn invalid_max_files_and_missing_folder_fail_at_open() {
        let fx = Fixture::new();
        let mut zero = fx.source().max_files_per_trigger(0);
        match zero.open(&fx.ctx()) {
            Err(StreamError::InvalidOption { name, .. }) => {
                assert_eq!(name, "max_files_per_trigger")
            }
            other => panic!("expected an invalid option, got {other:?}"),
        }
        let missing = fx.landing.path().join("nope");
        let err = JsonFileSource::new(&missing, schema())
            .open(&fx.ctx())
            .unwrap_err();
        assert!(err.to_string().contains("nope"), "{err}");
    }

    #[test]
    fn use_before_open_is_an_error() {
        let fx = Fixture::new();
        let mut source = fx.source();
        assert!(source.latest_offset(None, ReadLimit::All).is_err());
        assert!(source.prepare_for_available_now().is_err());
    }

    #[test]
    fn description_names_the_folder() {
        let fx = Fixture::new();
        let expected = format!("FileStreamSource[file:{}]", fx.landing.path().display());
        assert_eq!(fx.source().description(), expected);
    }
}
