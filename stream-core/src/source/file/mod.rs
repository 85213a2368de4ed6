//! [`FileSource`]: the files that land in a folder, in JSON lines, CSV, Parquet or text
//! (Spark's `FileStreamSource`).

mod clean;
pub(crate) mod decode;
mod listing;
mod log;
mod seen;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use arrow_array::RecordBatch;
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use serde::{Deserialize, Serialize};

pub use clean::CleanSource;
use decode::{FileDecoder, ReadCounts};
use listing::{Candidate, PathPattern, Settle, sort_files};
use log::{DEFAULT_COMPACT_INTERVAL, FileEntry, FileSourceLog, Keep};
use seen::SeenFiles;

use super::{ReadLimit, Source, SourceContext};
use crate::clock::Clock;
use crate::{Offset, Result, StreamError};

/// Spark's default `maxFileAge`: a week.
const DEFAULT_MAX_FILE_AGE: Duration = Duration::from_secs(7 * 24 * 3600);

/// Spark's default name of the corrupt-record column.
const DEFAULT_CORRUPT_COLUMN: &str = "_corrupt_record";

/// The format of the files of a [`FileSource`] (the argument of Spark's
/// `readStream.format(..)`). JSON, CSV and Parquet need the stream-core features of
/// the same names (`json` is on by default); text needs none.
///
/// ```
/// use stream_core::FileFormat;
/// assert_eq!(FileFormat::Text.name(), "text");
/// assert_eq!(FileFormat::Json.name(), "json");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FileFormat {
    /// Newline-delimited JSON, one record per line (arrow-json). Fields not in the
    /// schema are ignored, missing nullable fields are null, ISO-8601 strings decode
    /// into timestamp columns.
    #[cfg(feature = "json")]
    Json,
    /// CSV (arrow-csv), with the options [`FileSource::header`],
    /// [`FileSource::delimiter`], [`FileSource::quote`], [`FileSource::escape`] and
    /// [`FileSource::null_value`].
    #[cfg(feature = "csv")]
    Csv,
    /// Parquet (the `parquet` crate): only the schema's columns are decoded, matched by
    /// name.
    #[cfg(feature = "parquet")]
    Parquet,
    /// Text: one row per line, in one non-null `value: Utf8` column.
    Text,
}

impl FileFormat {
    /// Spark's name of the format.
    ///
    /// ```
    /// assert_eq!(stream_core::FileFormat::Text.name(), "text");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            #[cfg(feature = "json")]
            FileFormat::Json => "json",
            #[cfg(feature = "csv")]
            FileFormat::Csv => "csv",
            #[cfg(feature = "parquet")]
            FileFormat::Parquet => "parquet",
            FileFormat::Text => "text",
        }
    }

    fn is_csv(self) -> bool {
        self.name() == "csv"
    }

    fn is_parquet(self) -> bool {
        self.name() == "parquet"
    }

    /// Whether the format has records that can be malformed one by one, so that
    /// [`ParseMode`] and the corrupt-record column apply to it.
    fn has_records(self) -> bool {
        match self {
            #[cfg(feature = "json")]
            FileFormat::Json => true,
            #[cfg(feature = "csv")]
            FileFormat::Csv => true,
            #[cfg(feature = "parquet")]
            FileFormat::Parquet => false,
            FileFormat::Text => false,
        }
    }
}

/// What a file source does with a record that does not parse (Spark's `mode` option).
///
/// The default is [`ParseMode::FailFast`]; Spark's default is `PERMISSIVE`. We stop by
/// default so that bad input is never silently turned into nulls; choose
/// [`ParseMode::Permissive`] to get Spark's behaviour.
///
/// ```
/// use stream_core::ParseMode;
/// assert_eq!(ParseMode::default(), ParseMode::FailFast);
/// assert_eq!(ParseMode::DropMalformed.name(), "DROPMALFORMED");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ParseMode {
    /// A record that does not parse becomes a row whose columns are all null, except
    /// the corrupt-record column (`_corrupt_record: Utf8`, if the schema declares it),
    /// which holds the raw record. Columns that come from partition folders keep their
    /// values. Spark keeps the fields that did parse; we null them all. Every data
    /// column must be nullable for this (a malformed record meeting a non-nullable
    /// column is an error). The count of such rows is the source metric
    /// [`FileSource::METRIC_CORRUPT_RECORDS`].
    Permissive,
    /// A record that does not parse is dropped and counted: the count of the batch is
    /// the source metric [`FileSource::METRIC_MALFORMED_ROWS_DROPPED`] in the progress
    /// record.
    DropMalformed,
    /// A record that does not parse stops the query with
    /// [`StreamError::MalformedRecord`], naming the file, the line, and the column
    /// with its declared type and the value found. To go on, fix the file in place, or
    /// remove it (or move it elsewhere) with [`FileSource::ignore_missing_files`] on:
    /// the batch then runs again without it.
    #[default]
    FailFast,
}

impl ParseMode {
    /// Spark's name of the mode.
    ///
    /// ```
    /// assert_eq!(stream_core::ParseMode::Permissive.name(), "PERMISSIVE");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            ParseMode::Permissive => "PERMISSIVE",
            ParseMode::DropMalformed => "DROPMALFORMED",
            ParseMode::FailFast => "FAILFAST",
        }
    }
}

/// Reads the files that land in a folder, each file once, in one of several formats
/// (Spark's file stream source: `spark.readStream.format(..).load(path)`).
///
/// **Which files.** The path is a folder, or a glob whose wildcards (`*`, `?`, `[..]`,
/// `{a,b}`) stand for whole folder or file names: `landing/*/2024-*/*.json`. A folder
/// is read with the files directly in it and in its `key=value` partition folders (at
/// any depth); other sub-folders are not read. A glob reads the files it matches and
/// the folders it matches (as folders). The folder (for a glob, the part before the
/// first wildcard) must exist when the query starts.
///
/// **Files still being written are never read half.** The rule:
/// - Names starting with `.` or `_` (except `_key=value` partition folders) and names
///   ending in `._COPYING_` are never read (Spark's rule). Write a file under such a
///   name and rename it when it is complete: a rename within one file system is atomic,
///   so the source sees the whole file or nothing. This is the contract, as in Spark.
/// - For writers that cannot rename, [`FileSource::settle_time`] adds a wait: a file is
///   only taken once its size and modification time have stayed the same across
///   listings for the settle time on the query's clock, or once its modification time
///   is at least the settle time in the past.
///
/// **Order and limits.** New files are taken in order of modification time
/// (milliseconds), then path, oldest first ([`FileSource::latest_first`] reverses it),
/// at most [`FileSource::max_files_per_trigger`] files or
/// [`FileSource::max_bytes_per_trigger`] bytes per micro-batch. Files older than
/// [`FileSource::max_file_age`] before the newest file taken are ignored.
///
/// **Exactly once.** Each offset, `{"logOffset": n}`, is entry `n` of the source's log
/// in the checkpoint (`sources/<i>/n`), which lists the files it took, one JSON line per
/// file (`{"path": .., "timestamp": <mtime ms>, "batchId": n}`, Spark's `FileEntry`).
/// Every [`FileSource::compact_interval`] entries (10) the entry is written as
/// `sources/<i>/n.compact`, holding the files of the entries before it that still
/// matter, and the older entries are deleted, so the log stays small. A restarted query
/// rebuilds the set of files it has seen from that log (the newest compact and the
/// entries after it), so no file is read twice or skipped. A logged file must stay
/// until the batch that reads it is committed; [`FileSource::clean_source`] can then
/// archive or delete it.
///
/// **Columns.** The schema is what the pipeline reads. Columns named by a `key=value`
/// folder of a file's path (`landing/date=2024-01-01/country=DE/f.json`) take that
/// value, parsed into the column's type (a value that does not parse is a
/// [`StreamError::BadInputFile`] naming the path; `__HIVE_DEFAULT_PARTITION__` is
/// null); the other columns come from the file, by name (CSV without a header: by
/// position). Compressed JSON, CSV and text files are read by extension: `.gz` (feature
/// `gzip`) and `.zst` (feature `zstd`).
///
/// **Bad input.** [`FileSource::mode`] decides what a record that does not parse does
/// (default: stop with [`StreamError::MalformedRecord`], naming the file and line). A
/// file that cannot be read as a whole (truncated compression, a damaged Parquet file,
/// a Parquet column of the wrong type) stops the query with
/// [`StreamError::BadInputFile`] naming the file (and the column). Nothing in a file
/// makes the source panic.
///
/// ```
/// use std::sync::Arc;
/// use arrow_schema::{DataType, Field, Schema};
/// use stream_core::{FileSource, ManualClock, ReadLimit, Source, SourceContext};
///
/// let landing = tempfile::tempdir().unwrap();
/// let checkpoint = tempfile::tempdir().unwrap();
/// std::fs::create_dir(landing.path().join("day=2024-01-01")).unwrap();
/// std::fs::write(landing.path().join("day=2024-01-01/a.txt"), "hello\nworld\n").unwrap();
///
/// let schema = Arc::new(Schema::new(vec![
///     Field::new("value", DataType::Utf8, false),
///     Field::new("day", DataType::Date32, true),
/// ]));
/// let mut source = FileSource::with_format(landing.path(), schema, stream_core::FileFormat::Text);
/// let ctx = SourceContext { metadata_dir: checkpoint.path().join("sources/0"), clock: Arc::new(ManualClock::new(0)), index: 0 };
/// source.open(&ctx).unwrap();
/// let end = source.latest_offset(None, ReadLimit::All).unwrap().unwrap();
/// let batches = source.read(None, &end).unwrap();
/// assert_eq!(batches[0].num_rows(), 2);
/// assert_eq!(batches[0].schema().field(1).name(), "day");
/// ```
#[derive(Debug)]
pub struct FileSource {
    path: PathBuf,
    schema: SchemaRef,
    format: FileFormat,
    options: FileOptions,
    state: Option<Opened>,
}

/// The options as given, checked by [`FileSource::validate`].
#[derive(Clone, Debug, Default)]
struct FileOptions {
    max_files_per_trigger: Option<usize>,
    max_bytes_per_trigger: Option<u64>,
    latest_first: bool,
    max_file_age: Option<Duration>,
    clean_source: CleanSource,
    file_name_only: bool,
    ignore_missing_files: bool,
    ignore_corrupt_files: bool,
    settle_time: Duration,
    mode: Option<ParseMode>,
    corrupt_column: Option<String>,
    header: Option<bool>,
    delimiter: Option<char>,
    quote: Option<char>,
    escape: Option<char>,
    null_value: Option<String>,
    compact_interval: Option<u64>,
}

/// What the source knows once opened.
#[derive(Debug)]
struct Opened {
    log: FileSourceLog,
    /// The highest entry of the log.
    latest_entry: Option<u64>,
    /// The files of the log (those not purged by `max_file_age`).
    seen: SeenFiles,
    /// For `Trigger::AvailableNow`: the unseen files present when it was prepared.
    available_now: Option<Vec<Candidate>>,
    pattern: PathPattern,
    settle: Settle,
    clock: Arc<dyn Clock>,
    decoder: FileDecoder,
    /// The first log entry whose files may still need cleaning, once known (the end of
    /// the last committed batch, learnt from the first call after opening).
    clean_from: Option<u64>,
    /// Counts of the last read.
    last_counts: ReadCounts,
    /// The files of the last read.
    last_files_read: u64,
    /// The new files the last [`Source::latest_offset`] saw but did not take, if it
    /// listed.
    backlog: Option<Backlog>,
}

/// The files a listing found that no batch has taken yet: Spark's backlog metrics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Backlog {
    files: u64,
    bytes: u64,
}

impl Backlog {
    fn of(files: &[Candidate]) -> Self {
        Backlog {
            files: files.len() as u64,
            bytes: files.iter().fold(0u64, |sum, c| sum.saturating_add(c.size)),
        }
    }
}

/// The offset: an entry of the source's log.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct LogOffset {
    #[serde(rename = "logOffset")]
    pub(crate) log_offset: u64,
}

/// The schema of the text format: one non-null `value: Utf8` column.
fn text_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![Field::new(
        decode::TEXT_VALUE,
        DataType::Utf8,
        false,
    )]))
}

impl FileSource {
    /// The name of the source metric with the number of records dropped by
    /// [`ParseMode::DropMalformed`] in a batch (in the progress record's
    /// `sources[i].metrics`).
    pub const METRIC_MALFORMED_ROWS_DROPPED: &'static str = "numMalformedRowsDropped";

    /// The name of the source metric with the number of records kept as corrupt rows by
    /// [`ParseMode::Permissive`] in a batch.
    pub const METRIC_CORRUPT_RECORDS: &'static str = "numCorruptRecords";
    /// The name of the source metric with the number of files of a batch skipped
    /// because they were gone ([`FileSource::ignore_missing_files`]).
    pub const METRIC_MISSING_FILES_SKIPPED: &'static str = "numMissingFilesSkipped";
    /// The name of the source metric with the number of files of a batch skipped
    /// because they could not be read ([`FileSource::ignore_corrupt_files`]).
    pub const METRIC_CORRUPT_FILES_SKIPPED: &'static str = "numCorruptFilesSkipped";
    /// The name of the source metric with the number of files the listing of the batch
    /// found that no batch has taken yet: the backlog left after this batch, as under
    /// [`FileSource::max_files_per_trigger`] (the name of Databricks' Auto Loader and
    /// Delta sources; Spark's own `FileStreamSource` reports no metrics).
    ///
    /// ```
    /// assert_eq!(stream_core::FileSource::METRIC_FILES_OUTSTANDING, "numFilesOutstanding");
    /// ```
    pub const METRIC_FILES_OUTSTANDING: &'static str = "numFilesOutstanding";
    /// The name of the source metric with the bytes of the files of
    /// [`FileSource::METRIC_FILES_OUTSTANDING`] (on disk, so compressed for `.gz`).
    ///
    /// ```
    /// assert_eq!(stream_core::FileSource::METRIC_BYTES_OUTSTANDING, "numBytesOutstanding");
    /// ```
    pub const METRIC_BYTES_OUTSTANDING: &'static str = "numBytesOutstanding";
    /// The name of the source metric with the number of files of the batch, skipped
    /// ones included (our own name: Spark has no such metric). With
    /// [`FileSource::METRIC_FILES_OUTSTANDING`] it gives how far a bounded run is.
    ///
    /// ```
    /// assert_eq!(stream_core::FileSource::METRIC_FILES_READ, "numFilesRead");
    /// ```
    pub const METRIC_FILES_READ: &'static str = "numFilesRead";

    /// A source over the files at `path` (a folder or a glob) in `format`, decoded with
    /// `schema`. A relative `path` is made absolute against the current folder now.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arrow_schema::{DataType, Field, Schema};
    /// use stream_core::{FileFormat, FileSource, Source};
    ///
    /// let schema = Arc::new(Schema::new(vec![Field::new("value", DataType::Utf8, false)]));
    /// let source = FileSource::with_format("/data/logs", schema, FileFormat::Text);
    /// assert_eq!(source.format(), FileFormat::Text);
    /// assert_eq!(source.description(), "FileStreamSource[file:/data/logs]");
    /// ```
    pub fn with_format(path: impl Into<PathBuf>, schema: SchemaRef, format: FileFormat) -> Self {
        let path = path.into();
        FileSource {
            path: std::path::absolute(&path).unwrap_or(path),
            schema,
            format,
            options: FileOptions::default(),
            state: None,
        }
    }

    /// A JSON-lines source over the files in `dir` (the same as
    /// [`FileSource::json`]; [`crate::JsonFileSource`] is this type).
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
    #[cfg(feature = "json")]
    pub fn new(dir: impl Into<PathBuf>, schema: SchemaRef) -> Self {
        Self::json(dir, schema)
    }

    /// A source over JSON-lines files.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use arrow_schema::{DataType, Field, Schema};
    /// use stream_core::{FileFormat, FileSource};
    /// # let schema = Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, true)]));
    /// assert_eq!(FileSource::json("in", schema).format(), FileFormat::Json);
    /// ```
    #[cfg(feature = "json")]
    pub fn json(path: impl Into<PathBuf>, schema: SchemaRef) -> Self {
        Self::with_format(path, schema, FileFormat::Json)
    }

    /// A source over CSV files (feature `csv`).
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use arrow_schema::{DataType, Field, Schema};
    /// use stream_core::{FileFormat, FileSource};
    /// # let schema = Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, true)]));
    /// let source = FileSource::csv("in", schema).header(true).delimiter(';');
    /// assert_eq!(source.format(), FileFormat::Csv);
    /// ```
    #[cfg(feature = "csv")]
    pub fn csv(path: impl Into<PathBuf>, schema: SchemaRef) -> Self {
        Self::with_format(path, schema, FileFormat::Csv)
    }

    /// A source over Parquet files (feature `parquet`).
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use arrow_schema::{DataType, Field, Schema};
    /// use stream_core::{FileFormat, FileSource};
    /// # let schema = Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, true)]));
    /// assert_eq!(FileSource::parquet("in", schema).format(), FileFormat::Parquet);
    /// ```
    #[cfg(feature = "parquet")]
    pub fn parquet(path: impl Into<PathBuf>, schema: SchemaRef) -> Self {
        Self::with_format(path, schema, FileFormat::Parquet)
    }

    /// A source over text files, with the text format's schema: one non-null
    /// `value: Utf8` column. For partition columns besides `value`, use
    /// [`FileSource::with_format`] with a schema that adds them.
    ///
    /// ```
    /// use stream_core::{FileSource, Source};
    /// let source = FileSource::text("logs");
    /// assert_eq!(source.schema().field(0).name(), "value");
    /// ```
    pub fn text(path: impl Into<PathBuf>) -> Self {
        Self::with_format(path, text_schema(), FileFormat::Text)
    }

    /// The format of the files.
    ///
    /// ```
    /// assert_eq!(stream_core::FileSource::text("in").format(), stream_core::FileFormat::Text);
    /// ```
    pub fn format(&self) -> FileFormat {
        self.format
    }

    /// The path (absolute; a folder or a glob).
    ///
    /// ```
    /// assert!(stream_core::FileSource::text("in").path().is_absolute());
    /// ```
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Every row of the files the path covers, read once with the source's format,
    /// schema and options, as Spark's `spark.read` reads a table: the static side of a
    /// join, `join(read(parquet, path = .., schema = ..), ..)` in `stream!`. The path is a
    /// file, a folder (its files and `key=value` partition folders, hidden names
    /// skipped) or a glob; files are read in path order. A file that does not decode as
    /// the schema is an error naming it.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arrow_schema::{DataType, Field, Schema};
    /// use stream_core::FileSource;
    ///
    /// let dir = tempfile::tempdir()?;
    /// std::fs::write(dir.path().join("regions.json"), "{\"country\":\"DE\"}\n{\"country\":\"JP\"}\n")?;
    /// let schema = Arc::new(Schema::new(vec![Field::new("country", DataType::Utf8, false)]));
    /// let rows: usize = FileSource::json(dir.path(), schema.clone())
    ///     .read_all()?
    ///     .iter()
    ///     .map(|b| b.num_rows())
    ///     .sum();
    /// assert_eq!(rows, 2);
    /// // one file by its name
    /// let one = FileSource::json(dir.path().join("regions.json"), schema).read_all()?;
    /// assert_eq!(one[0].num_rows(), 2);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn read_all(&self) -> Result<Vec<RecordBatch>> {
        let (pattern, decoder) = self.check()?;
        let single = fs::metadata(&self.path).is_ok_and(|m| m.is_file());
        let mut files: Vec<PathBuf> = if single {
            vec![self.path.clone()]
        } else {
            pattern.list()?.into_iter().map(|c| c.path).collect()
        };
        files.sort();
        let mut batches = Vec::new();
        for file in &files {
            let gone = |e: std::io::Error| StreamError::io(file, e);
            // a single file is the pattern's base: it has no partition folders
            let partitions = pattern.partition_segments(file);
            let mut counts = ReadCounts::default();
            batches.extend(decoder.read(file, &partitions, &mut counts, &gone)?);
        }
        Ok(batches)
    }

    /// Takes at most `n` new files per micro-batch (Spark's `maxFilesPerTrigger`).
    /// Without it (and without [`FileSource::max_bytes_per_trigger`]), a batch takes
    /// every new file. `0` is rejected by [`FileSource::validate`] with
    /// [`StreamError::InvalidOption`].
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
        self.options.max_files_per_trigger = Some(n);
        self
    }

    /// Takes new files per micro-batch until their total size (on disk) would pass
    /// `bytes`, but always at least one file, so a large file cannot stall the stream
    /// (Spark's `maxBytesPerTrigger`). It cannot be combined with
    /// [`FileSource::max_files_per_trigger`]: [`FileSource::validate`] refuses the two
    /// together, and `0`, with [`StreamError::InvalidOption`].
    ///
    /// ```
    /// use stream_core::{FileSource, ReadLimit, Source};
    /// let source = FileSource::text("in").max_bytes_per_trigger(1 << 20);
    /// assert_eq!(source.default_read_limit(), ReadLimit::MaxBytes(1 << 20));
    /// assert!(source.max_files_per_trigger(10).validate().is_err());
    /// ```
    pub fn max_bytes_per_trigger(mut self, bytes: u64) -> Self {
        self.options.max_bytes_per_trigger = Some(bytes);
        self
    }

    /// Takes the newest files first (Spark's `latestFirst`), useful to catch up on a
    /// large backlog where recent data matters most. With
    /// [`FileSource::max_files_per_trigger`] also set, [`FileSource::max_file_age`] is
    /// ignored (as in Spark: old files must not be skipped when they are only late
    /// because newer ones went first).
    ///
    /// ```
    /// let source = stream_core::FileSource::text("in").latest_first(true);
    /// # let _ = source;
    /// ```
    pub fn latest_first(mut self, yes: bool) -> Self {
        self.options.latest_first = yes;
        self
    }

    /// The maximum age of a file, relative to the newest file taken (not to the clock),
    /// beyond which it is ignored (Spark's `maxFileAge`, default a week). If the newest
    /// file taken has modification time `T`, a file modified before `T - age` is not new
    /// any more, and the record of older taken files is forgotten, which keeps the
    /// source's memory bounded. Every file is new in the first batch. Ignored when
    /// [`FileSource::latest_first`] and [`FileSource::max_files_per_trigger`] are both
    /// set.
    ///
    /// ```
    /// use std::time::Duration;
    /// let source = stream_core::FileSource::text("in").max_file_age(Duration::from_secs(3600));
    /// # let _ = source;
    /// ```
    pub fn max_file_age(mut self, age: Duration) -> Self {
        self.options.max_file_age = Some(age);
        self
    }

    /// Archives or deletes the files of each batch once the batch is committed (Spark's
    /// `cleanSource`, with `sourceArchiveDir`). An archive folder that the source's path
    /// could match is refused by [`FileSource::validate`]: the archive folder must
    /// differ from the path in one of the first *d* folder names, *d* being the smaller
    /// depth of the two (Spark's rule), so `/data/archive` is fine for `/data/in` but
    /// `/data/in/archive` and `/data` are not.
    ///
    /// ```
    /// use stream_core::{CleanSource, FileSource};
    /// let ok = FileSource::text("/data/in").clean_source(CleanSource::Archive { dir: "/data/archive".into() });
    /// assert!(ok.validate().is_ok());
    /// let inside = FileSource::text("/data/in").clean_source(CleanSource::Archive { dir: "/data/in/done".into() });
    /// assert!(inside.validate().is_err());
    /// ```
    pub fn clean_source(mut self, clean: CleanSource) -> Self {
        self.options.clean_source = match clean {
            CleanSource::Archive { dir } => CleanSource::Archive {
                dir: std::path::absolute(&dir).unwrap_or(dir),
            },
            other => other,
        };
        self
    }

    /// Compares files by name only, not by path, when deciding whether a file was seen
    /// (Spark's `fileNameOnly`): `/in/a/part-1.json` and `/in/b/part-1.json` are then the
    /// same file. Use it when the same files can appear under several paths; make sure
    /// names are unique (a UUID in each), or files are lost.
    ///
    /// ```
    /// let source = stream_core::FileSource::text("in").file_name_only(true);
    /// # let _ = source;
    /// ```
    pub fn file_name_only(mut self, yes: bool) -> Self {
        self.options.file_name_only = yes;
        self
    }

    /// Every how many entries the source's log in the checkpoint is compacted (Spark's
    /// `spark.sql.streaming.fileSource.log.compactInterval`, default 10, at least 1).
    /// The log keeps the files each batch took, one entry a batch (`sources/<i>/<n>`);
    /// every `n`-th entry is written as `<n>.compact`, which holds the files of every
    /// entry before it that still matters (those of batches not committed or not yet
    /// cleaned by [`FileSource::clean_source`], and those not older than
    /// [`FileSource::max_file_age`] before the newest file), and the older entries are
    /// then deleted. So the folder holds about `n` files however long the query runs,
    /// and a restart reads one compact and the entries after it. The interval may
    /// change between runs.
    ///
    /// ```
    /// let source = stream_core::FileSource::text("in").compact_interval(100);
    /// assert!(source.validate().is_ok());
    /// assert!(stream_core::FileSource::text("in").compact_interval(0).validate().is_err());
    /// ```
    pub fn compact_interval(mut self, entries: u64) -> Self {
        self.options.compact_interval = Some(entries);
        self
    }

    /// Skips a file of a batch that is gone when the batch reads it (Spark's
    /// `ignoreMissingFiles`), instead of stopping the query. The way forward when a bad
    /// file stopped a query (see [`ParseMode::FailFast`]): remove the file, or move it
    /// elsewhere, and restart; the batch runs again without it. Each skip is logged as a
    /// warning and counted in the progress record's source metric
    /// [`FileSource::METRIC_MISSING_FILES_SKIPPED`]. Off by default: a file must stay
    /// until the batch that reads it is committed.
    ///
    /// ```
    /// let source = stream_core::FileSource::text("in").ignore_missing_files(true);
    /// # let _ = source;
    /// ```
    pub fn ignore_missing_files(mut self, yes: bool) -> Self {
        self.options.ignore_missing_files = yes;
        self
    }

    /// Skips a file of a batch that cannot be read as its format (Spark's
    /// `ignoreCorruptFiles`): a damaged or cut-short Parquet or compressed file, a CSV
    /// header that lacks a declared column, a file that cannot be opened for another
    /// reason than being gone. The whole file is skipped (Spark keeps the rows it read
    /// before the damage), logged as a warning with the reason and counted in the
    /// source metric [`FileSource::METRIC_CORRUPT_FILES_SKIPPED`]. A record that does
    /// not parse is not a corrupt file: [`FileSource::mode`] decides about it.
    ///
    /// ```
    /// let source = stream_core::FileSource::text("in").ignore_corrupt_files(true);
    /// # let _ = source;
    /// ```
    pub fn ignore_corrupt_files(mut self, yes: bool) -> Self {
        self.options.ignore_corrupt_files = yes;
        self
    }

    /// Waits until a file is settled before taking it, for writers that cannot write
    /// under a hidden name and rename: a file is taken once its size and modification
    /// time have stayed the same across listings for `time` on the query's clock, or
    /// once its modification time is at least `time` in the past. Zero (the default)
    /// takes files when first listed. Under `Trigger::AvailableNow` only files settled
    /// when the run starts are taken; the others wait for the next run.
    ///
    /// ```
    /// use std::time::Duration;
    /// let source = stream_core::FileSource::text("in").settle_time(Duration::from_secs(30));
    /// # let _ = source;
    /// ```
    pub fn settle_time(mut self, time: Duration) -> Self {
        self.options.settle_time = time;
        self
    }

    /// What a record that does not parse does (Spark's `mode`): see [`ParseMode`].
    /// Applies to JSON, CSV and text (a line that is not UTF-8); a Parquet file is read
    /// whole or not at all, and [`FileSource::validate`] refuses a mode for it.
    ///
    /// ```
    /// use stream_core::{FileSource, ParseMode};
    /// let source = FileSource::text("in").mode(ParseMode::DropMalformed);
    /// # let _ = source;
    /// ```
    pub fn mode(mut self, mode: ParseMode) -> Self {
        self.options.mode = Some(mode);
        self
    }

    /// The name of the corrupt-record column (Spark's `columnNameOfCorruptRecord`,
    /// default `_corrupt_record`). If the schema declares a `Utf8` column of that name,
    /// it is never read from the files: it holds the raw record of rows kept by
    /// [`ParseMode::Permissive`] and is null otherwise. JSON and CSV only.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use arrow_schema::{DataType, Field, Schema};
    /// use stream_core::{FileSource, ParseMode};
    /// let schema = Arc::new(Schema::new(vec![
    ///     Field::new("n", DataType::Int64, true),
    ///     Field::new("bad", DataType::Utf8, true),
    /// ]));
    /// let source = FileSource::json("in", schema)
    ///     .mode(ParseMode::Permissive)
    ///     .column_name_of_corrupt_record("bad");
    /// assert!(source.validate().is_ok());
    /// ```
    pub fn column_name_of_corrupt_record(mut self, name: impl Into<String>) -> Self {
        self.options.corrupt_column = Some(name.into());
        self
    }

    /// CSV: whether the first line of each file names the columns (Spark's `header`,
    /// default false). With a header, columns are matched to the schema by name (in any
    /// order, other columns skipped without being parsed); without, the schema lists the
    /// file's columns in order.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use arrow_schema::{DataType, Field, Schema};
    /// # let schema = Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, true)]));
    /// let source = stream_core::FileSource::csv("in", schema).header(true);
    /// # let _ = source;
    /// ```
    #[cfg(feature = "csv")]
    pub fn header(mut self, yes: bool) -> Self {
        self.options.header = Some(yes);
        self
    }

    /// CSV: the field separator, one ASCII character (Spark's `sep` / `delimiter`,
    /// default `,`).
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use arrow_schema::{DataType, Field, Schema};
    /// # let schema = Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, true)]));
    /// let source = stream_core::FileSource::csv("in", schema).delimiter('\t');
    /// # let _ = source;
    /// ```
    #[cfg(feature = "csv")]
    pub fn delimiter(mut self, c: char) -> Self {
        self.options.delimiter = Some(c);
        self
    }

    /// CSV: the same as [`FileSource::delimiter`] (Spark's other name for it).
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use arrow_schema::{DataType, Field, Schema};
    /// # let schema = Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, true)]));
    /// let source = stream_core::FileSource::csv("in", schema).sep(';');
    /// # let _ = source;
    /// ```
    #[cfg(feature = "csv")]
    pub fn sep(self, c: char) -> Self {
        self.delimiter(c)
    }

    /// CSV: the quote character, one ASCII character (Spark's `quote`, default `"`).
    /// A quote inside a quoted value is written doubled or escaped.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use arrow_schema::{DataType, Field, Schema};
    /// # let schema = Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, true)]));
    /// let source = stream_core::FileSource::csv("in", schema).quote('\'');
    /// # let _ = source;
    /// ```
    #[cfg(feature = "csv")]
    pub fn quote(mut self, c: char) -> Self {
        self.options.quote = Some(c);
        self
    }

    /// CSV: the character that escapes a quote inside a quoted value, one ASCII
    /// character (Spark's `escape`, default `\`); `'\0'` turns escaping off.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use arrow_schema::{DataType, Field, Schema};
    /// # let schema = Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, true)]));
    /// let source = stream_core::FileSource::csv("in", schema).escape('"');
    /// # let _ = source;
    /// ```
    #[cfg(feature = "csv")]
    pub fn escape(mut self, c: char) -> Self {
        self.options.escape = Some(c);
        self
    }

    /// CSV: the text of a null value (Spark's `nullValue`); empty values are null too,
    /// as they are by default.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use arrow_schema::{DataType, Field, Schema};
    /// # let schema = Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, true)]));
    /// let source = stream_core::FileSource::csv("in", schema).null_value("NA");
    /// # let _ = source;
    /// ```
    #[cfg(feature = "csv")]
    pub fn null_value(mut self, text: impl Into<String>) -> Self {
        self.options.null_value = Some(text.into());
        self
    }

    /// Checks the options against each other, the format and the schema; [`Source::open`]
    /// calls it when the query starts. Every problem is a [`StreamError::InvalidOption`]
    /// naming the option.
    ///
    /// ```
    /// use stream_core::{FileSource, StreamError};
    /// let both = FileSource::text("in").max_files_per_trigger(5).max_bytes_per_trigger(1024);
    /// match both.validate() {
    ///     Err(StreamError::InvalidOption { name, .. }) => assert_eq!(name, "max_bytes_per_trigger"),
    ///     other => panic!("{other:?}"),
    /// }
    /// ```
    pub fn validate(&self) -> Result<()> {
        self.check().map(|_| ())
    }

    /// Checks the options and builds what reading needs.
    fn check(&self) -> Result<(PathPattern, FileDecoder)> {
        let o = &self.options;
        let invalid = |name: &str, message: String| StreamError::InvalidOption {
            name: name.into(),
            message,
        };
        if o.compact_interval == Some(0) {
            return Err(invalid(
                "compact_interval",
                "must be at least 1, got 0".into(),
            ));
        }
        if o.max_files_per_trigger == Some(0) {
            return Err(invalid(
                "max_files_per_trigger",
                "must be at least 1, got 0".into(),
            ));
        }
        if o.max_bytes_per_trigger == Some(0) {
            return Err(invalid(
                "max_bytes_per_trigger",
                "must be at least 1, got 0".into(),
            ));
        }
        if o.max_files_per_trigger.is_some() && o.max_bytes_per_trigger.is_some() {
            return Err(invalid(
                "max_bytes_per_trigger",
                "cannot be combined with `max_files_per_trigger`; set only one of them".into(),
            ));
        }
        let format = self.format;
        let csv_options = [
            ("header", o.header.is_some()),
            ("delimiter", o.delimiter.is_some()),
            ("quote", o.quote.is_some()),
            ("escape", o.escape.is_some()),
            ("null_value", o.null_value.is_some()),
        ];
        if !format.is_csv()
            && let Some((name, _)) = csv_options.iter().find(|(_, set)| *set)
        {
            return Err(invalid(
                name,
                format!("applies to the csv format only, not to `{}`", format.name()),
            ));
        }
        if format.is_parquet() && o.mode.is_some() {
            return Err(invalid(
                "mode",
                "applies to the json, csv and text formats; a Parquet file is read whole or \
                 not at all"
                    .into(),
            ));
        }
        let corrupt_name = o
            .corrupt_column
            .clone()
            .unwrap_or_else(|| DEFAULT_CORRUPT_COLUMN.to_string());
        let corrupt_column = match self.schema.field_with_name(&corrupt_name) {
            Ok(field) if format.has_records() => {
                if field.data_type() != &DataType::Utf8 {
                    return Err(invalid(
                        "column_name_of_corrupt_record",
                        format!(
                            "the corrupt-record column `{corrupt_name}` must be Utf8, but the \
                             schema declares {}",
                            field.data_type()
                        ),
                    ));
                }
                Some(corrupt_name)
            }
            _ if o.corrupt_column.is_some() && !format.has_records() => {
                return Err(invalid(
                    "column_name_of_corrupt_record",
                    format!(
                        "applies to the json and csv formats only, not to `{}`",
                        format.name()
                    ),
                ));
            }
            _ => None,
        };
        if format == FileFormat::Text {
            let value = decode::TEXT_VALUE;
            match self.schema.field_with_name(value) {
                Ok(field) if field.data_type() == &DataType::Utf8 => {}
                _ => {
                    return Err(invalid(
                        "schema",
                        format!(
                            "the text format needs a `{value}: Utf8` column; other columns \
                             can only come from `key=value` partition folders"
                        ),
                    ));
                }
            }
        }
        let pattern = PathPattern::parse(&self.path)?;
        if let CleanSource::Archive { dir } = &o.clean_source {
            clean::check_archive_dir(&self.path, dir)?;
        }
        let decoder = FileDecoder {
            schema: self.schema.clone(),
            format,
            mode: o.mode.unwrap_or_default(),
            corrupt_column,
            #[cfg(feature = "csv")]
            csv: self.csv_settings()?,
        };
        Ok((pattern, decoder))
    }

    #[cfg(feature = "csv")]
    fn csv_settings(&self) -> Result<decode::csv::CsvSettings> {
        let o = &self.options;
        let byte = |name: &str, c: char| -> Result<u8> {
            u8::try_from(c)
                .ok()
                .filter(u8::is_ascii)
                .ok_or_else(|| StreamError::InvalidOption {
                    name: name.into(),
                    message: format!("must be one ASCII character, got `{c}`"),
                })
        };
        let mut settings = decode::csv::CsvSettings::default();
        if let Some(header) = o.header {
            settings.header = header;
        }
        if let Some(c) = o.delimiter {
            settings.delimiter = byte("delimiter", c)?;
        }
        if let Some(c) = o.quote {
            settings.quote = byte("quote", c)?;
        }
        if let Some(c) = o.escape {
            settings.escape = Some(byte("escape", c)?).filter(|&b| b != 0);
        }
        if settings.delimiter == settings.quote {
            return Err(StreamError::InvalidOption {
                name: "quote".into(),
                message: format!(
                    "the quote `{}` is also the delimiter",
                    char::from(settings.quote)
                ),
            });
        }
        if let Some(text) = &o.null_value {
            settings.null_regex = Some(decode::csv::CsvSettings::null_value_regex(text)?);
        }
        Ok(settings)
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

    /// Reads an offset written by [`FileSource::latest_offset`].
    fn entry_of(&self, offset: &Offset) -> Result<u64> {
        offset
            .to_value::<LogOffset>()
            .map(|o| o.log_offset)
            .map_err(|_| self.error(format!("offset {offset} is not a `logOffset`")))
    }

    /// The age limit in milliseconds, `i64::MAX` when it does not apply.
    fn max_file_age_ms(&self) -> i64 {
        let o = &self.options;
        if o.latest_first && o.max_files_per_trigger.is_some() {
            return i64::MAX;
        }
        let age = o.max_file_age.unwrap_or(DEFAULT_MAX_FILE_AGE);
        i64::try_from(age.as_millis()).unwrap_or(i64::MAX)
    }

    /// Writes the next log entry with `files`; returns its id. `committed` is the entry
    /// of the last committed batch: a compaction keeps every file of the entries after
    /// it (and of those not cleaned yet).
    fn log_new_entry(&mut self, files: Vec<Candidate>, committed: Option<u64>) -> Result<u64> {
        let description = self.description();
        let cleaning = self.options.clean_source != CleanSource::Off;
        let state = self.opened_mut()?;
        let id = state.latest_entry.map_or(0, |l| l + 1);
        let entries = files
            .iter()
            .map(|c| file_entry(c, id, &description))
            .collect::<Result<Vec<_>>>()?;
        let count = entries.len();
        let mut needed_from = committed.map_or(0, |c| c.saturating_add(1));
        if cleaning {
            needed_from = needed_from.min(state.clean_from.unwrap_or(0));
        }
        let keep = Keep {
            needed_from,
            forget_before: state.seen.threshold(),
        };
        state.log.add(id, entries, keep)?;
        state.latest_entry = Some(id);
        for c in &files {
            state.seen.add(&c.path, c.mtime_ms);
        }
        let purged = state.seen.purge();
        tracing::debug!(
            entry = id,
            files = count,
            purged,
            "file source logged new files"
        );
        Ok(id)
    }

    /// The files of log entry `id` (from its own file or the compact it is folded into).
    fn entry_files(&self, state: &Opened, id: u64) -> Result<Vec<String>> {
        let files = state.log.get(id)?.ok_or_else(|| {
            StreamError::corrupt(
                state.log.path(id),
                "is missing but the offset log refers to it (and no compact holds it)",
            )
        })?;
        Ok(files.into_iter().map(|entry| entry.path).collect())
    }

    /// Decodes the files of a batch (each with the id of its log entry), on the cores
    /// in parallel, one file per core at a time; the batches come back in file order.
    fn decode_files(
        &self,
        state: &Opened,
        files: &[(u64, String)],
    ) -> Result<(Vec<RecordBatch>, ReadCounts)> {
        use rayon::prelude::*;
        let decode = |(id, file): &(u64, String)| {
            let file = Path::new(file);
            let gone = |e: std::io::Error| {
                self.error(format!(
                    "file `{}` of batch {id} cannot be read: {e}; a file must stay in the \
                     folder until the batch that reads it is committed",
                    file.display()
                ))
            };
            let partitions = state.pattern.partition_segments(file);
            let mut counts = ReadCounts::default();
            match state.decoder.read(file, &partitions, &mut counts, &gone) {
                Ok(batches) => Ok((batches, counts)),
                Err(e) => self.skip_or_fail(*id, file, e),
            }
        };
        let decoded: Vec<Result<(Vec<RecordBatch>, ReadCounts)>> = if files.len() > 1 {
            files.par_iter().map(decode).collect()
        } else {
            files.iter().map(decode).collect()
        };
        let mut batches = Vec::new();
        let mut counts = ReadCounts::default();
        // the first failing file in file order, whichever core saw its error first
        for file in decoded {
            let (file_batches, file_counts) = file?;
            batches.extend(file_batches);
            counts.add(file_counts);
        }
        Ok((batches, counts))
    }

    /// The outcome of a file of batch `id` whose read failed with `error`: skipped (no
    /// rows, counted) if it is gone and [`FileSource::ignore_missing_files`] is on, or
    /// cannot be read and [`FileSource::ignore_corrupt_files`] is on; else the error.
    fn skip_or_fail(
        &self,
        id: u64,
        file: &Path,
        error: StreamError,
    ) -> Result<(Vec<RecordBatch>, ReadCounts)> {
        let gone = matches!(fs::symlink_metadata(file), Err(e) if e.kind() == std::io::ErrorKind::NotFound);
        let mut counts = ReadCounts::default();
        if gone && self.options.ignore_missing_files {
            tracing::warn!(source = %self.description(), file = %file.display(), batch = id, "skipped a file that is gone (ignore_missing_files)");
            counts.missing_files = 1;
            return Ok((Vec::new(), counts));
        }
        let unreadable = !gone
            && matches!(
                error,
                StreamError::BadInputFile { .. } | StreamError::Source { .. }
            );
        if unreadable && self.options.ignore_corrupt_files {
            tracing::warn!(source = %self.description(), file = %file.display(), batch = id, "skipped a file that cannot be read (ignore_corrupt_files): {error}");
            counts.corrupt_files = 1;
            return Ok((Vec::new(), counts));
        }
        Err(error)
    }

    /// Notes, on the first call after opening, which log entries may hold files still
    /// to clean: from the last committed one (`start`) on, so that files of a batch
    /// committed just before a crash are cleaned too.
    fn note_committed(&mut self, start_entry: Option<u64>) -> Result<()> {
        let state = self.opened_mut()?;
        if state.clean_from.is_none() {
            state.clean_from = Some(start_entry.unwrap_or(0));
        }
        Ok(())
    }
}

/// The files of a fresh listing that may be taken now: new and settled, in order.
fn list_new(state: &mut Opened, latest_first: bool) -> Result<Vec<Candidate>> {
    let mut files = state.pattern.list()?;
    sort_files(&mut files, latest_first);
    let new: Vec<Candidate> = files
        .into_iter()
        .filter(|c| state.seen.is_new(&c.path, c.mtime_ms))
        .collect();
    let now = state.clock.now_ms();
    Ok(state.settle.settled(new, now))
}

/// The files no batch has taken yet: those of the `Trigger::AvailableNow` snapshot, or
/// of a fresh listing.
fn new_files(state: &mut Opened, latest_first: bool) -> Result<Vec<Candidate>> {
    match &state.available_now {
        Some(snapshot) => Ok(snapshot
            .iter()
            .filter(|c| state.seen.is_new(&c.path, c.mtime_ms))
            .cloned()
            .collect()),
        None => list_new(state, latest_first),
    }
}

/// Takes from the front of `files` what one batch may take under `limit`, in order;
/// `files` keeps the rest. The limit the engine passes is authoritative, as in Spark: it
/// is [`Source::default_read_limit`] unless the trigger overrides it (`Trigger::Once`
/// passes [`ReadLimit::All`]).
fn take_within(files: &mut Vec<Candidate>, limit: ReadLimit) -> Vec<Candidate> {
    let count = match limit {
        ReadLimit::MaxFiles(n) => usize::try_from(n).unwrap_or(usize::MAX).max(1),
        ReadLimit::MaxBytes(max) => {
            let mut total = 0u64;
            let mut count = 0;
            for file in files.iter() {
                let sum = total.saturating_add(file.size);
                if count > 0 && sum > max {
                    break;
                }
                total = sum;
                count += 1;
            }
            count
        }
        ReadLimit::All | ReadLimit::MaxRows(_) => files.len(),
    };
    let rest = files.split_off(count.min(files.len()));
    std::mem::replace(files, rest)
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

impl Source for FileSource {
    fn description(&self) -> String {
        format!("FileStreamSource[file:{}]", self.path.display())
    }

    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    /// Checks the options ([`FileSource::validate`]) and the folder, then rebuilds the
    /// set of seen files from the source's log.
    fn open(&mut self, ctx: &SourceContext) -> Result<()> {
        let (pattern, decoder) = self.check()?;
        let base = pattern.base();
        let meta = fs::metadata(base).map_err(|e| StreamError::io(base, e))?;
        if !meta.is_dir() {
            return Err(self.error(format!("`{}` is not a folder", base.display())));
        }
        let interval = self
            .options
            .compact_interval
            .unwrap_or(DEFAULT_COMPACT_INTERVAL);
        let (log, loaded) = FileSourceLog::open(&ctx.metadata_dir, interval)?;
        let mut seen = SeenFiles::new(self.max_file_age_ms(), self.options.file_name_only);
        seen.forget_before(loaded.forget_before);
        for entry in &loaded.files {
            seen.add(Path::new(&entry.path), entry.timestamp);
        }
        seen.purge();
        let latest_entry = log.latest_id();
        let settle_ms = i64::try_from(self.options.settle_time.as_millis()).unwrap_or(i64::MAX);
        self.state = Some(Opened {
            log,
            latest_entry,
            seen,
            available_now: None,
            pattern,
            settle: Settle::new(settle_ms),
            clock: ctx.clock.clone(),
            decoder,
            clean_from: None,
            last_counts: ReadCounts::default(),
            last_files_read: 0,
            backlog: None,
        });
        Ok(())
    }

    fn default_read_limit(&self) -> ReadLimit {
        match (
            self.options.max_files_per_trigger,
            self.options.max_bytes_per_trigger,
        ) {
            (Some(n), _) if n > 0 => ReadLimit::MaxFiles(n as u64),
            (_, Some(b)) if b > 0 => ReadLimit::MaxBytes(b),
            _ => ReadLimit::All,
        }
    }

    /// Fixes the set of files this run reads: the unseen (and settled) files present now.
    fn prepare_for_available_now(&mut self) -> Result<()> {
        let latest_first = self.options.latest_first;
        let state = self.opened_mut()?;
        // list afresh, even if a snapshot was taken before
        let snapshot = list_new(state, latest_first)?;
        state.available_now = Some(snapshot);
        Ok(())
    }

    /// Returns a log entry after `start` written before a restart, if any (one entry at a
    /// time, so the per-trigger limit still holds); else logs the next new files as a new
    /// entry; else returns `start`.
    ///
    /// A new entry takes at most `n` files under [`ReadLimit::MaxFiles`]`(n)`, files up to
    /// `n` bytes (at least one) under [`ReadLimit::MaxBytes`]`(n)`, and every new file
    /// under [`ReadLimit::All`]: `limit` is authoritative, and the engine passes
    /// [`Source::default_read_limit`] unless the trigger overrides it.
    /// [`ReadLimit::MaxRows`] does not apply to files and means no limit.
    fn latest_offset(
        &mut self,
        start: Option<&Offset>,
        limit: ReadLimit,
    ) -> Result<Option<Offset>> {
        let start_entry = start.map(|s| self.entry_of(s)).transpose()?;
        self.note_committed(start_entry)?;
        let state = self.opened()?;
        let next = start_entry.map_or(0, |s| s.saturating_add(1));
        match state.latest_entry {
            Some(latest) if latest >= next => {
                // an entry logged before a restart: the new files all wait
                let latest_first = self.options.latest_first;
                let state = self.opened_mut()?;
                let waiting = new_files(state, latest_first)?;
                state.backlog = Some(Backlog::of(&waiting));
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
        let latest_first = self.options.latest_first;
        let state = self.opened_mut()?;
        let mut files = new_files(state, latest_first)?;
        let taken = take_within(&mut files, limit);
        state.backlog = Some(Backlog::of(&files));
        let files = taken;
        if files.is_empty() {
            return Ok(start.cloned());
        }
        let id = self.log_new_entry(files, start_entry)?;
        Offset::from_value(&LogOffset { log_offset: id }).map(Some)
    }

    fn read(&mut self, start: Option<&Offset>, end: &Offset) -> Result<Vec<RecordBatch>> {
        let start_entry = start.map(|s| self.entry_of(s)).transpose()?;
        self.note_committed(start_entry)?;
        let first = start_entry.map_or(0, |s| s.saturating_add(1));
        let last = self.entry_of(end)?;
        let state = self.opened()?;
        let mut files = Vec::new();
        for id in first..=last {
            files.extend(self.entry_files(state, id)?.into_iter().map(|f| (id, f)));
        }
        let (batches, counts) = self.decode_files(state, &files)?;
        let state = self.opened_mut()?;
        state.last_counts = counts;
        state.last_files_read = files.len() as u64;
        Ok(batches)
    }

    /// [`FileSource::METRIC_MALFORMED_ROWS_DROPPED`] under [`ParseMode::DropMalformed`],
    /// [`FileSource::METRIC_CORRUPT_RECORDS`] under [`ParseMode::Permissive`], the
    /// skipped files under their options; after every read
    /// [`FileSource::METRIC_FILES_READ`], and the backlog
    /// ([`FileSource::METRIC_FILES_OUTSTANDING`], [`FileSource::METRIC_BYTES_OUTSTANDING`])
    /// when the batch listed the folder (not for a batch re-run after a restart).
    fn metrics(&self) -> BTreeMap<String, String> {
        let mut metrics = BTreeMap::new();
        let Some(state) = &self.state else {
            return metrics;
        };
        if state.last_files_read > 0 {
            metrics.insert(
                Self::METRIC_FILES_READ.to_string(),
                state.last_files_read.to_string(),
            );
        }
        if let Some(backlog) = state.backlog {
            metrics.insert(
                Self::METRIC_FILES_OUTSTANDING.to_string(),
                backlog.files.to_string(),
            );
            metrics.insert(
                Self::METRIC_BYTES_OUTSTANDING.to_string(),
                backlog.bytes.to_string(),
            );
        }
        match state.decoder.mode {
            ParseMode::DropMalformed => {
                metrics.insert(
                    Self::METRIC_MALFORMED_ROWS_DROPPED.to_string(),
                    state.last_counts.dropped.to_string(),
                );
            }
            ParseMode::Permissive => {
                metrics.insert(
                    Self::METRIC_CORRUPT_RECORDS.to_string(),
                    state.last_counts.corrupt.to_string(),
                );
            }
            ParseMode::FailFast => {}
        }
        if self.options.ignore_missing_files {
            metrics.insert(
                Self::METRIC_MISSING_FILES_SKIPPED.to_string(),
                state.last_counts.missing_files.to_string(),
            );
        }
        if self.options.ignore_corrupt_files {
            metrics.insert(
                Self::METRIC_CORRUPT_FILES_SKIPPED.to_string(),
                state.last_counts.corrupt_files.to_string(),
            );
        }
        metrics
    }

    /// Cleans ([`FileSource::clean_source`]) the files of the committed entries not
    /// cleaned yet.
    fn commit(&mut self, end: &Offset) -> Result<()> {
        if self.options.clean_source == CleanSource::Off {
            return Ok(());
        }
        let end_entry = self.entry_of(end)?;
        let mode = self.options.clean_source.clone();
        let state = self.opened_mut()?;
        let from = state.clean_from.unwrap_or(end_entry);
        for id in from..=end_entry {
            let Some(files) = state.log.get(id)? else {
                continue;
            };
            for entry in files {
                clean::clean_file(&mode, Path::new(&entry.path), entry.timestamp);
            }
        }
        state.clean_from = Some(end_entry.saturating_add(1).max(from));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::time::UNIX_EPOCH;

    use super::*;
    use crate::ManualClock;
    use crate::checkpoint::MetadataLog;

    fn candidate(name: &str, size: u64) -> Candidate {
        Candidate {
            path: name.into(),
            mtime_ms: 0,
            size,
        }
    }

    fn names(files: &[Candidate]) -> Vec<String> {
        files.iter().map(|c| c.path.display().to_string()).collect()
    }

    fn invalid_option(result: Result<()>) -> String {
        match result {
            Err(StreamError::InvalidOption { name, .. }) => name,
            other => panic!("expected an invalid option, got {other:?}"),
        }
    }

    fn n_schema() -> SchemaRef {
        Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, true)]))
    }

    #[test]
    fn limits_take_files_bytes_or_everything() {
        let files = vec![
            candidate("a", 10),
            candidate("b", 10),
            candidate("c", 30),
            candidate("d", 1),
        ];
        let mut rest = files.clone();
        assert_eq!(
            names(&take_within(&mut rest, ReadLimit::MaxFiles(3))),
            ["a", "b", "c"]
        );
        // what is not taken stays, in order: the backlog
        assert_eq!(names(&rest), ["d"]);
        let mut rest = files.clone();
        assert_eq!(
            names(&take_within(&mut rest, ReadLimit::MaxBytes(25))),
            ["a", "b"]
        );
        assert_eq!(names(&rest), ["c", "d"]);
        // at least one file, and never a later file past one that does not fit
        assert_eq!(
            names(&take_within(
                &mut files[2..].to_vec(),
                ReadLimit::MaxBytes(5)
            )),
            ["c"]
        );
        let mut rest = files.clone();
        assert_eq!(take_within(&mut rest, ReadLimit::All).len(), 4);
        assert!(rest.is_empty());
        assert_eq!(
            take_within(&mut files.clone(), ReadLimit::MaxRows(1)).len(),
            4
        );
    }

    #[test]
    fn the_backlog_is_what_the_listing_saw_and_no_batch_took() {
        let landing = tempfile::tempdir().unwrap();
        let checkpoint = tempfile::tempdir().unwrap();
        let files: Vec<PathBuf> = ["a", "bb", "ccc"]
            .iter()
            .enumerate()
            .map(|(i, text)| {
                let path = landing.path().join(format!("{i}.txt"));
                std::fs::write(&path, format!("{text}\n")).unwrap();
                std::fs::File::options()
                    .write(true)
                    .open(&path)
                    .unwrap()
                    .set_modified(UNIX_EPOCH + Duration::from_secs(100 + i as u64))
                    .unwrap();
                path
            })
            .collect();
        let size = |p: &PathBuf| std::fs::metadata(p).unwrap().len();
        let mut source = FileSource::text(landing.path()).max_files_per_trigger(1);
        source
            .open(&SourceContext {
                metadata_dir: checkpoint.path().join("sources/0"),
                clock: Arc::new(ManualClock::new(1_000_000)),
                index: 0,
            })
            .unwrap();
        let mut start: Option<Offset> = None;
        let mut seen = Vec::new();
        for batch in 0..files.len() {
            let limit = source.default_read_limit();
            let end = source
                .latest_offset(start.as_ref(), limit)
                .unwrap()
                .unwrap();
            source.read(start.as_ref(), &end).unwrap();
            let metrics = source.metrics();
            let metric = |name: &str| metrics.get(name).map(|v| v.parse::<u64>().unwrap());
            let waiting = &files[batch + 1..];
            assert_eq!(
                metric(FileSource::METRIC_BYTES_OUTSTANDING),
                Some(waiting.iter().map(size).sum::<u64>()),
                "batch {batch}"
            );
            assert_eq!(metric(FileSource::METRIC_FILES_READ), Some(1));
            seen.push(metric(FileSource::METRIC_FILES_OUTSTANDING).unwrap());
            start = Some(end);
        }
        assert_eq!(seen, [2, 1, 0]);
    }

    #[test]
    fn default_read_limit_follows_the_options() {
        let text = || FileSource::text("in");
        assert_eq!(text().default_read_limit(), ReadLimit::All);
        assert_eq!(
            text().max_files_per_trigger(3).default_read_limit(),
            ReadLimit::MaxFiles(3)
        );
        assert_eq!(
            text().max_bytes_per_trigger(9).default_read_limit(),
            ReadLimit::MaxBytes(9)
        );
    }

    #[test]
    fn options_are_checked_against_each_other_and_the_format() {
        let text = || FileSource::text("/in");
        assert_eq!(
            invalid_option(text().max_files_per_trigger(0).validate()),
            "max_files_per_trigger"
        );
        assert_eq!(
            invalid_option(
                text()
                    .max_files_per_trigger(1)
                    .max_bytes_per_trigger(1)
                    .validate()
            ),
            "max_bytes_per_trigger"
        );
        assert_eq!(
            invalid_option(
                text()
                    .column_name_of_corrupt_record("_corrupt_record")
                    .validate()
            ),
            "column_name_of_corrupt_record"
        );
        let no_value = FileSource::with_format("/in", n_schema(), FileFormat::Text);
        assert_eq!(invalid_option(no_value.validate()), "schema");
        assert_eq!(
            invalid_option(FileSource::text("/in/{a,b").validate()),
            "path"
        );
        text().mode(ParseMode::Permissive).validate().unwrap();
    }

    #[cfg(feature = "json")]
    #[test]
    fn the_corrupt_record_column_must_be_utf8() {
        let schema = Arc::new(Schema::new(vec![Field::new(
            "_corrupt_record",
            DataType::Int64,
            true,
        )]));
        assert_eq!(
            invalid_option(FileSource::json("/in", schema).validate()),
            "column_name_of_corrupt_record"
        );
    }

    #[cfg(feature = "csv")]
    #[test]
    fn csv_options_apply_to_csv_only_and_must_be_ascii() {
        #[cfg(feature = "json")]
        assert_eq!(
            invalid_option(FileSource::json("/in", n_schema()).header(true).validate()),
            "header"
        );
        assert_eq!(
            invalid_option(FileSource::text("/in").null_value("NA").validate()),
            "null_value"
        );
        let csv = || FileSource::csv("/in", n_schema());
        assert_eq!(invalid_option(csv().delimiter('§').validate()), "delimiter");
        assert_eq!(
            invalid_option(csv().delimiter('\'').quote('\'').validate()),
            "quote"
        );
        csv()
            .header(true)
            .sep('\t')
            .quote('\'')
            .escape('\0')
            .null_value("(null)")
            .validate()
            .unwrap();
    }

    #[cfg(feature = "parquet")]
    #[test]
    fn mode_does_not_apply_to_parquet() {
        assert_eq!(
            invalid_option(
                FileSource::parquet("/in", n_schema())
                    .mode(ParseMode::DropMalformed)
                    .validate()
            ),
            "mode"
        );
        FileSource::parquet("/in", n_schema()).validate().unwrap();
    }

    #[test]
    fn no_metrics_before_a_read_and_only_the_counts_of_files_in_fail_fast() {
        assert!(FileSource::text("/in").metrics().is_empty());
        let landing = tempfile::tempdir().unwrap();
        let checkpoint = tempfile::tempdir().unwrap();
        std::fs::write(landing.path().join("a.txt"), "x\n").unwrap();
        let ctx = SourceContext {
            metadata_dir: checkpoint.path().join("sources/0"),
            clock: Arc::new(ManualClock::new(0)),
            index: 0,
        };
        let mut strict = FileSource::text(landing.path());
        strict.open(&ctx).unwrap();
        let end = strict.latest_offset(None, ReadLimit::All).unwrap().unwrap();
        strict.read(None, &end).unwrap();
        let files = |read: &str| {
            BTreeMap::from([
                (FileSource::METRIC_FILES_READ.to_string(), read.to_string()),
                (FileSource::METRIC_FILES_OUTSTANDING.to_string(), "0".into()),
                (FileSource::METRIC_BYTES_OUTSTANDING.to_string(), "0".into()),
            ])
        };
        assert_eq!(strict.metrics(), files("1"));

        let checkpoint = tempfile::tempdir().unwrap();
        let ctx = SourceContext {
            metadata_dir: checkpoint.path().join("sources/0"),
            ..ctx
        };
        let mut dropping = FileSource::text(landing.path()).mode(ParseMode::DropMalformed);
        dropping.open(&ctx).unwrap();
        let end = dropping
            .latest_offset(None, ReadLimit::All)
            .unwrap()
            .unwrap();
        dropping.read(None, &end).unwrap();
        let mut expected = files("1");
        expected.insert(
            FileSource::METRIC_MALFORMED_ROWS_DROPPED.to_string(),
            "0".to_string(),
        );
        assert_eq!(dropping.metrics(), expected);
    }

    #[test]
    fn the_log_keeps_sparks_file_entries_whatever_the_format() {
        let landing = tempfile::tempdir().unwrap();
        let checkpoint = tempfile::tempdir().unwrap();
        let file = landing.path().join("a.txt");
        std::fs::write(&file, "x\n").unwrap();
        std::fs::File::options()
            .write(true)
            .open(&file)
            .unwrap()
            .set_modified(UNIX_EPOCH + Duration::from_secs(100))
            .unwrap();
        let mut source = FileSource::text(landing.path());
        source
            .open(&SourceContext {
                metadata_dir: checkpoint.path().join("sources/0"),
                clock: Arc::new(ManualClock::new(0)),
                index: 0,
            })
            .unwrap();
        source.latest_offset(None, ReadLimit::All).unwrap();
        let log = MetadataLog::open(checkpoint.path().join("sources/0")).unwrap();
        assert_eq!(
            log.get(0).unwrap().unwrap(),
            [format!(
                "{{\"path\":\"{}\",\"timestamp\":100000,\"batchId\":0}}",
                file.display()
            )]
        );
    }
}
