//! The file sink: each batch's rows as Parquet, JSON-lines or CSV files in a folder,
//! exactly once through a manifest, like Spark's file sink and its `_spark_metadata`.
//!
//! Per batch N: if the manifest already holds N (a replay after a crash), nothing is
//! written. Otherwise the rows are split by partition folder and written to data files
//! named `part-<N>-<seq>-<uuid>.<ext>`, each under a temp name (`.part-….tmp`), fsynced
//! and renamed; then `_stream_metadata/N` lists them, written atomically. The batch's
//! files become visible to readers that honour the manifest at that moment, all at once.
//! A crash before it leaves files that no manifest lists; the next start of the query
//! deletes them (data files of batches after the newest one in the manifest, and temp
//! files), and the re-run of N writes new ones.

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;

use super::{Sink, SinkBatch, SinkContext};
use crate::checkpoint::atomic::{create_dir_synced, sync_dir};
use crate::clock::{Clock, SystemClock};
use crate::{OutputMode, Result, StreamError};

mod manifest;
mod partition;
mod reader;
mod writer;

use manifest::{CompactionPolicy, Layout, METADATA_DIR, Manifest, ManifestEntry};
#[cfg(feature = "fuzz")]
pub(crate) use manifest::{parse_entries as parse_manifest, parse_layout as parse_manifest_layout};
use partition::PartitionSpec;
use writer::{FolderWriter, WriteOptions, batch_of_data_file, is_temp_data_file};

/// Spark's `spark.sql.streaming.fileSink.log.compactInterval`.
const DEFAULT_COMPACT_INTERVAL: u64 = 10;

/// The format of a [`FileSink`]'s data files (the sources' formats are
/// [`FileFormat`](crate::FileFormat), which also has text).
///
/// Each format needs the cargo feature of the same name (`parquet`, `json`, `csv`; all
/// three are on by default).
///
/// ```
/// use stream_core::FileSinkFormat;
/// assert_eq!(FileSinkFormat::default(), FileSinkFormat::Parquet);
/// assert_eq!("csv".parse::<FileSinkFormat>().unwrap(), FileSinkFormat::Csv);
/// assert_eq!(FileSinkFormat::Json.to_string(), "json");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum FileSinkFormat {
    /// Apache Parquet (snappy-compressed by default, as Spark), the arrow schema kept in
    /// the file's metadata.
    #[default]
    Parquet,
    /// JSON lines: one object per row, null fields left out (as Spark writes them).
    Json,
    /// CSV with a header line.
    Csv,
}

impl FileSinkFormat {
    /// All formats.
    pub const ALL: [FileSinkFormat; 3] = [
        FileSinkFormat::Parquet,
        FileSinkFormat::Json,
        FileSinkFormat::Csv,
    ];

    /// The lowercase name, as Spark spells it.
    ///
    /// ```
    /// assert_eq!(stream_core::FileSinkFormat::Parquet.as_str(), "parquet");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            FileSinkFormat::Parquet => "parquet",
            FileSinkFormat::Json => "json",
            FileSinkFormat::Csv => "csv",
        }
    }

    /// Whether this build of the library can write (and read) the format: its cargo
    /// feature is on.
    ///
    /// ```
    /// // the default features include every format
    /// assert!(stream_core::FileSinkFormat::ALL.iter().all(|f| f.is_available()));
    /// ```
    pub fn is_available(self) -> bool {
        match self {
            FileSinkFormat::Parquet => cfg!(feature = "parquet"),
            FileSinkFormat::Json => cfg!(feature = "json"),
            FileSinkFormat::Csv => cfg!(feature = "csv"),
        }
    }
}

impl fmt::Display for FileSinkFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for FileSinkFormat {
    type Err = StreamError;

    fn from_str(s: &str) -> Result<Self> {
        FileSinkFormat::ALL
            .into_iter()
            .find(|f| f.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| StreamError::InvalidOption {
                name: "format".into(),
                message: format!("unknown file format `{s}`; expected `parquet`, `json` or `csv`"),
            })
    }
}

/// The message for a format whose cargo feature is off.
fn missing_feature(format: FileSinkFormat) -> String {
    format!(
        "format `{format}` needs the `{format}` cargo feature of stream-core, which this build lacks"
    )
}

/// The compression codec of Parquet data files.
///
/// ```
/// use stream_core::ParquetCompression;
/// assert_eq!(ParquetCompression::default(), ParquetCompression::Snappy);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ParquetCompression {
    /// Snappy, Spark's default (`.snappy.parquet`).
    #[default]
    Snappy,
    /// Zstandard at its default level (`.zstd.parquet`).
    Zstd,
    /// No compression (`.parquet`).
    Uncompressed,
}

/// Writes each micro-batch into files in a folder, exactly once: Spark's file sink.
///
/// - **Formats**: Parquet (default), JSON lines, CSV ([`FileSinkFormat`]).
/// - **Partitioning**: [`FileSink::partition_by`] writes Hive-style `col=value/`
///   folders (values escaped as Spark escapes them, nulls as
///   `__HIVE_DEFAULT_PARTITION__`); the partition columns are not repeated inside the
///   files.
/// - **Exactly once**: every batch's files are listed in the manifest
///   `<path>/_stream_metadata/<batch id>`, written atomically once the files are complete.
///   A batch the manifest already holds is skipped when it is handed over again, and a
///   batch that crashed mid-write leaves files that no manifest lists: readers that honour
///   the manifest ([`read_file_sink`], [`FileSink::committed_files`]) never see them, and
///   the next start deletes them.
/// - **File size**: [`FileSink::max_rows_per_file`] and [`FileSink::target_file_size`]
///   start a new file when the current one is full.
/// - **Manifest size**: every [`FileSink::compact_interval`]-th batch (default 10, as
///   Spark) writes a `.compact` file with every live file, and older manifest files are
///   deleted; [`FileSink::retention`] drops files committed longer ago than the retention
///   from the compacted manifest (the files stay on disk, unlisted).
/// - **Output modes**: append only, as Spark's file sink; a query in another mode is
///   refused when it starts.
///
/// One query writes a folder at a time.
///
/// ```
/// use stream_core::{FileSinkFormat, FileSink, OutputMode, Sink};
///
/// let sink = FileSink::new("/data/events")
///     .format(FileSinkFormat::Parquet)
///     .partition_by(["country"])
///     .max_rows_per_file(1_000_000);
/// assert_eq!(sink.description(), "FileSink[/data/events]");
/// assert!(sink.supports(OutputMode::Append));
/// assert!(!sink.supports(OutputMode::Complete));
/// ```
#[derive(Debug)]
pub struct FileSink {
    path: PathBuf,
    format: FileSinkFormat,
    compression: ParquetCompression,
    partition_by: Vec<String>,
    max_rows_per_file: Option<usize>,
    target_file_size: Option<u64>,
    compact_interval: u64,
    retention: Option<Duration>,
    opened: Option<Opened>,
}

/// What the sink knows once open.
#[derive(Debug)]
struct Opened {
    schema: SchemaRef,
    spec: PartitionSpec,
    manifest: Manifest,
    options: WriteOptions,
    policy: CompactionPolicy,
    /// The newest batch id in the manifest.
    latest: Option<u64>,
    clock: Arc<dyn Clock>,
}

impl FileSink {
    /// A sink writing Parquet files into the folder `path` (created if missing).
    ///
    /// ```
    /// let sink = stream_core::FileSink::new("out/events");
    /// assert_eq!(sink.path(), std::path::Path::new("out/events"));
    /// ```
    pub fn new(path: impl Into<PathBuf>) -> FileSink {
        FileSink {
            path: path.into(),
            format: FileSinkFormat::default(),
            compression: ParquetCompression::default(),
            partition_by: Vec::new(),
            max_rows_per_file: None,
            target_file_size: None,
            compact_interval: DEFAULT_COMPACT_INTERVAL,
            retention: None,
            opened: None,
        }
    }

    /// The format of the data files (default Parquet).
    ///
    /// ```
    /// use stream_core::{FileSinkFormat, FileSink};
    /// let sink = FileSink::new("out/events").format(FileSinkFormat::Json);
    /// # drop(sink);
    /// ```
    pub fn format(mut self, format: FileSinkFormat) -> Self {
        self.format = format;
        self
    }

    /// The Parquet codec (default snappy, as Spark). Ignored by the other formats.
    ///
    /// ```
    /// use stream_core::{FileSink, ParquetCompression};
    /// let sink = FileSink::new("out/events").parquet_compression(ParquetCompression::Zstd);
    /// # drop(sink);
    /// ```
    pub fn parquet_compression(mut self, compression: ParquetCompression) -> Self {
        self.compression = compression;
        self
    }

    /// Partitions the output into `col=value/` folders by these columns, in this order
    /// (Spark's `partitionBy`). They must be string, integer, boolean or date columns,
    /// and at least one column must be left for the files.
    ///
    /// ```
    /// let sink = stream_core::FileSink::new("out/events").partition_by(["country", "page"]);
    /// # drop(sink);
    /// ```
    pub fn partition_by<I, S>(mut self, columns: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.partition_by = columns.into_iter().map(Into::into).collect();
        self
    }

    /// At most this many rows per data file (Spark's `maxRecordsPerFile`); a batch
    /// with more rows in a folder writes several files. Default: no limit.
    ///
    /// ```
    /// let sink = stream_core::FileSink::new("out/events").max_rows_per_file(100_000);
    /// # drop(sink);
    /// ```
    pub fn max_rows_per_file(mut self, rows: usize) -> Self {
        self.max_rows_per_file = Some(rows);
        self
    }

    /// Starts a new data file once the current one holds about this many bytes (checked
    /// every 1024 rows; for Parquet the open row group counts at its encoded size so
    /// far). Default: no limit.
    ///
    /// ```
    /// let sink = stream_core::FileSink::new("out/events").target_file_size(128 << 20);
    /// # drop(sink);
    /// ```
    pub fn target_file_size(mut self, bytes: u64) -> Self {
        self.target_file_size = Some(bytes);
        self
    }

    /// Every this many batches the manifest is compacted into one `<N>.compact` file
    /// (default 10, Spark's `compactInterval`).
    ///
    /// ```
    /// let sink = stream_core::FileSink::new("out/events").compact_interval(100);
    /// # drop(sink);
    /// ```
    pub fn compact_interval(mut self, batches: u64) -> Self {
        self.compact_interval = batches;
        self
    }

    /// Files committed longer ago than this (by the query's clock) leave the manifest at
    /// the next compaction, so the manifest does not grow forever (Spark's file sink
    /// `retention` option). The files stay on disk but readers that honour the manifest
    /// no longer see them. Default: kept forever.
    ///
    /// ```
    /// use std::time::Duration;
    /// let sink = stream_core::FileSink::new("out/events").retention(Duration::from_secs(7 * 86_400));
    /// # drop(sink);
    /// ```
    pub fn retention(mut self, retention: Duration) -> Self {
        self.retention = Some(retention);
        self
    }

    /// The sink's folder.
    ///
    /// ```
    /// assert_eq!(stream_core::FileSink::new("a/b").path().to_str(), Some("a/b"));
    /// ```
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The data files committed to the folder `path` (written by a `FileSink`), as the
    /// manifest lists them, in batch order. Files of failed attempts are not among them.
    ///
    /// ```
    /// use stream_core::FileSink;
    /// let dir = tempfile::tempdir().unwrap();
    /// // not (yet) a file sink folder
    /// assert!(FileSink::committed_files(dir.path()).is_err());
    /// ```
    pub fn committed_files(path: impl AsRef<Path>) -> Result<Vec<PathBuf>> {
        reader::committed_paths(path.as_ref())
    }

    /// The newest batch id the manifest of the folder `path` holds, if any.
    ///
    /// ```
    /// let dir = tempfile::tempdir().unwrap();
    /// assert_eq!(stream_core::FileSink::latest_batch_id(dir.path()).unwrap(), None);
    /// ```
    pub fn latest_batch_id(path: impl AsRef<Path>) -> Result<Option<u64>> {
        Manifest::new(path.as_ref()).latest_batch_id()
    }

    fn check_options(&self) -> Result<()> {
        let invalid = |name: &str, message: String| StreamError::InvalidOption {
            name: name.into(),
            message,
        };
        if !self.format.is_available() {
            return Err(invalid("format", missing_feature(self.format)));
        }
        if self.compact_interval == 0 {
            return Err(invalid("compact_interval", "must be at least 1".into()));
        }
        if self.max_rows_per_file == Some(0) {
            return Err(invalid("max_rows_per_file", "must be at least 1".into()));
        }
        if self.target_file_size == Some(0) {
            return Err(invalid(
                "target_file_size",
                "must be at least 1 byte".into(),
            ));
        }
        Ok(())
    }

    fn open_with(&mut self, schema: SchemaRef, clock: Arc<dyn Clock>) -> Result<()> {
        self.check_options()?;
        let spec = PartitionSpec::new(&schema, &self.partition_by)?;
        create_dir_synced(&self.path)?;
        let manifest = Manifest::new(&self.path);
        manifest.ensure_layout(&Layout {
            format: self.format.as_str().into(),
            partition_by: self.partition_by.clone(),
            schema: (*schema).clone(),
        })?;
        // every entry a later compaction or a reader of the folder reads, checked now,
        // before the query writes anything: a damaged or foreign manifest file is an
        // error naming it and its line
        manifest.live_entries()?;
        let latest = manifest.latest_batch_id()?;
        let removed = remove_orphans(&self.path, latest)?;
        if removed > 0 {
            tracing::info!(
                sink = %self.description(),
                "removed {removed} data file(s) of uncommitted batches (after batch {latest:?})"
            );
        }
        let retention_ms = self
            .retention
            .map(|r| i64::try_from(r.as_millis()).unwrap_or(i64::MAX));
        self.opened = Some(Opened {
            schema,
            spec,
            manifest,
            options: WriteOptions {
                format: self.format,
                compression: self.compression,
                max_rows_per_file: self.max_rows_per_file,
                target_file_size: self.target_file_size,
            },
            policy: CompactionPolicy {
                interval: self.compact_interval,
                retention_ms,
            },
            latest,
            clock,
        });
        Ok(())
    }
}

impl Sink for FileSink {
    fn description(&self) -> String {
        format!("FileSink[{}]", self.path.display())
    }

    fn supports(&self, mode: OutputMode) -> bool {
        mode == OutputMode::Append
    }

    /// Checks the options and partition columns, creates the folder and its manifest
    /// (or checks that an existing one has this format, partitioning and schema), and
    /// deletes the files of attempts that never committed.
    fn open(&mut self, ctx: &SinkContext) -> Result<()> {
        self.open_with(ctx.schema.clone(), ctx.clock.clone())
    }

    fn add_batch(&mut self, batch: SinkBatch<'_>) -> Result<()> {
        if self.opened.is_none() {
            self.open_with(batch.schema.clone(), Arc::new(SystemClock::new()))?;
        }
        let description = self.description();
        let Some(opened) = self.opened.as_mut() else {
            return Err(StreamError::InvalidQuery(format!(
                "{description} is not open"
            )));
        };
        if opened.latest.is_some_and(|latest| batch.batch_id <= latest) {
            tracing::info!(sink = %description, batch = batch.batch_id, "batch already committed; skipped");
            return Ok(());
        }
        if let Some(bad) = batch
            .batches
            .iter()
            .find(|b| b.schema().fields() != opened.schema.fields())
        {
            return Err(StreamError::SchemaMismatch {
                context: format!("batch {} handed to {description}", batch.batch_id),
                message: format!(
                    "got {} but the sink was opened for {}",
                    bad.schema(),
                    opened.schema
                ),
            });
        }
        let folders = opened.spec.split(&batch.batches)?;
        let mut written = Vec::new();
        let mut seq = 0;
        for (folder, rows) in &folders {
            let writer = FolderWriter {
                root: &self.path,
                folder,
                schema: opened.spec.data_schema().clone(),
                options: &opened.options,
                batch_id: batch.batch_id,
            };
            writer.write(rows, &mut seq, &mut |file| {
                written.push(file);
                // the crash tests fail here: a complete data file, no manifest entry
                if written.len() == 1 {
                    batch.fault_point_mid_write()?;
                }
                Ok(())
            })?;
        }
        if written.is_empty() {
            batch.fault_point_mid_write()?;
        }
        // the renames must be durable before the manifest names the files
        let folders_written: BTreeSet<&str> = folders.keys().map(String::as_str).collect();
        for folder in folders_written {
            sync_dir(&self.path.join(folder))?;
        }
        let now_ms = opened.clock.now_ms();
        let entries = written
            .into_iter()
            .map(|f| ManifestEntry {
                path: f.relative_path,
                size: f.size,
                rows: f.rows,
                batch_id: batch.batch_id,
                commit_ms: now_ms,
                action: "add".into(),
            })
            .collect();
        opened
            .manifest
            .commit(batch.batch_id, entries, opened.policy, now_ms)?;
        opened.latest = Some(batch.batch_id);
        Ok(())
    }
}

/// Every committed row of the file sink folder `path`, read through its manifest: the
/// files of failed attempts are not read, the partition columns are rebuilt from the
/// folder names and put back in their place, and the batches come in batch order.
///
/// ```
/// use std::sync::Arc;
/// use arrow_array::{Int64Array, RecordBatch, StringArray};
/// use arrow_schema::{DataType, Field, Schema};
/// use stream_core::{FileSink, MapPipeline, MemoryStream, StreamingQuery, Trigger};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> stream_core::Result<()> {
/// let schema = Arc::new(Schema::new(vec![
///     Field::new("n", DataType::Int64, false),
///     Field::new("country", DataType::Utf8, true),
/// ]));
/// let input = MemoryStream::new(schema.clone());
/// input.add_batch(RecordBatch::try_new(schema.clone(), vec![
///     Arc::new(Int64Array::from(vec![1, 2, 3])),
///     Arc::new(StringArray::from(vec!["DE", "US", "DE"])),
/// ])?)?;
/// let out = tempfile::tempdir().unwrap();
/// let checkpoint = tempfile::tempdir().unwrap();
/// let query = StreamingQuery::builder()
///     .source(input)
///     .pipeline(MapPipeline::identity(schema.clone()))
///     .sink(FileSink::new(out.path()).partition_by(["country"]))
///     .trigger(Trigger::AvailableNow)
///     .checkpoint_location(checkpoint.path())
///     .start()?;
/// query.await_termination().await?;
///
/// assert!(out.path().join("country=DE").is_dir());
/// let rows: usize = stream_core::read_file_sink(out.path())?.iter().map(|b| b.num_rows()).sum();
/// assert_eq!(rows, 3);
/// assert_eq!(FileSink::committed_files(out.path())?.len(), 2);
/// # Ok(()) }
/// ```
pub fn read_file_sink(path: impl AsRef<Path>) -> Result<Vec<RecordBatch>> {
    reader::read(path.as_ref())
}

/// Deletes what failed attempts left in the sink folder `root`: temp files, and data
/// files of batches after `latest` (the newest batch in the manifest), which no manifest
/// lists and none will, since a re-run writes new files. Returns how many data files
/// went.
fn remove_orphans(root: &Path, latest: Option<u64>) -> Result<usize> {
    let mut removed = 0;
    let mut folders = vec![root.to_path_buf()];
    while let Some(dir) = folders.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|e| StreamError::io(&dir, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| StreamError::io(&dir, e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = entry.path();
            let file_type = entry.file_type().map_err(|e| StreamError::io(&path, e))?;
            if file_type.is_dir() {
                // only partition folders (`col=value`) hold data files; anything else
                // in the folder is not ours
                if name.contains('=') {
                    folders.push(path);
                } else if dir == root && name == METADATA_DIR {
                    remove_manifest_temps(&path)?;
                }
                continue;
            }
            let orphan = if is_temp_data_file(&name) {
                true
            } else if let Some(batch) = batch_of_data_file(&name) {
                latest.is_none_or(|latest| batch > latest)
            } else {
                false
            };
            if orphan {
                std::fs::remove_file(&path).map_err(|e| StreamError::io(&path, e))?;
                removed += 1;
            }
        }
    }
    Ok(removed)
}

/// Deletes the temp files of manifest writes that never finished.
fn remove_manifest_temps(dir: &Path) -> Result<()> {
    let entries = std::fs::read_dir(dir).map_err(|e| StreamError::io(dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| StreamError::io(dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') && name.ends_with(".tmp") {
            let path = entry.path();
            std::fs::remove_file(&path).map_err(|e| StreamError::io(&path, e))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
