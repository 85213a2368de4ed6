//! The Delta Lake sink (cargo feature `delta`): one Delta commit per micro-batch, made
//! idempotent by a `txn` action, as the Delta Lake connector for Spark does it.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use deltalake_core::kernel::engine::arrow_conversion::{TryIntoArrow as _, TryIntoKernel as _};
use deltalake_core::kernel::transaction::{CommitBuilder, CommitProperties};
use deltalake_core::kernel::{Action, StructType, Transaction};
use deltalake_core::protocol::{DeltaOperation, OutputMode as DeltaOutputMode, SaveMode};
use deltalake_core::writer::{DeltaWriter as _, RecordBatchWriter};
use deltalake_core::{DeltaTable, DeltaTableBuilder, DeltaTableError};

use super::{Sink, SinkBatch, SinkContext};
use crate::{OutputMode, Result, StreamError};

/// Writes each micro-batch to a Delta Lake table as one Delta commit, exactly once.
///
/// - **Table**: created at the first start from the stream's schema if the folder holds
///   no table (every timestamp becomes Delta's `timestamp`: microseconds, UTC); an
///   existing table must have the stream's columns and partition columns.
/// - **Exactly once**: each commit carries a `txn` action with the application id (the
///   query id, or [`DeltaSink::app_id`]) and the batch id as version, in the same
///   commit as the batch's files. A batch handed over again after a crash is found in
///   the table's transaction log (its latest version for the app id is at least the batch
///   id) and skipped. Files written by an attempt that crashed before its commit are not
///   part of the table; Delta's `VACUUM` removes them.
/// - **Output modes**: append (the batch's rows are added) and complete (each batch
///   replaces the whole table, in one commit).
/// - **Partitioning**: [`DeltaSink::partition_by`] sets the table's partition columns
///   when the sink creates it.
///
/// The sink owns a small tokio runtime for deltalake's async API; it may be created,
/// opened and dropped inside or outside an async context.
///
/// ```
/// use stream_core::{DeltaSink, OutputMode, Sink};
///
/// let sink = DeltaSink::new("/data/tables/events").partition_by(["country"]);
/// assert_eq!(sink.description(), "DeltaSink[/data/tables/events]");
/// assert!(sink.supports(OutputMode::Append));
/// assert!(sink.supports(OutputMode::Complete));
/// assert!(!sink.supports(OutputMode::Update));
/// ```
#[derive(Debug)]
pub struct DeltaSink {
    path: PathBuf,
    partition_by: Vec<String>,
    app_id: Option<String>,
    target_file_size: Option<u64>,
    opened: Option<Opened>,
}

/// What the sink holds once open.
struct Opened {
    runtime: OwnedRuntime,
    table: DeltaTable,
    app_id: String,
    /// The table's schema as arrow sees it (timestamps in microseconds, UTC).
    table_schema: SchemaRef,
    input_schema: SchemaRef,
}

impl std::fmt::Debug for Opened {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Opened")
            .field("app_id", &self.app_id)
            .field("version", &self.table.version())
            .finish_non_exhaustive()
    }
}

/// A tokio runtime that is shut down without blocking when dropped, so that dropping
/// the sink inside an async context does not panic.
struct OwnedRuntime(Option<tokio::runtime::Runtime>);

impl Drop for OwnedRuntime {
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}

impl OwnedRuntime {
    fn new() -> Result<Self> {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("delta-sink")
            .enable_all()
            .build()
            .map(|rt| OwnedRuntime(Some(rt)))
            .map_err(|e| {
                StreamError::InvalidQuery(format!(
                    "cannot start the Delta sink's tokio runtime: {e}"
                ))
            })
    }

    /// Runs `future` to completion. Inside an async context (a query started from
    /// `#[tokio::main]`) it runs on a scoped thread, since a runtime cannot block there.
    fn block_on<F>(&self, future: F) -> F::Output
    where
        F: Future + Send,
        F::Output: Send,
    {
        let Some(runtime) = self.0.as_ref() else {
            unreachable!("the runtime is only taken on drop");
        };
        if tokio::runtime::Handle::try_current().is_ok() {
            std::thread::scope(|scope| {
                scope
                    .spawn(|| runtime.block_on(future))
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
        } else {
            runtime.block_on(future)
        }
    }
}

impl DeltaSink {
    /// A sink writing the Delta table in the folder `path` (created with the table if
    /// missing).
    ///
    /// ```
    /// let sink = stream_core::DeltaSink::new("tables/events");
    /// assert_eq!(sink.path(), std::path::Path::new("tables/events"));
    /// ```
    pub fn new(path: impl Into<PathBuf>) -> DeltaSink {
        DeltaSink {
            path: path.into(),
            partition_by: Vec::new(),
            app_id: None,
            target_file_size: None,
            opened: None,
        }
    }

    /// The table's partition columns, used when the sink creates the table; an existing
    /// table must have these.
    ///
    /// ```
    /// let sink = stream_core::DeltaSink::new("tables/events").partition_by(["country"]);
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

    /// The application id of the `txn` actions (default: the query id, as Spark's Delta
    /// sink). Two queries writing one table need distinct ids; a query restarted on its
    /// checkpoint keeps its id.
    ///
    /// ```
    /// let sink = stream_core::DeltaSink::new("tables/events").app_id("events-ingest");
    /// # drop(sink);
    /// ```
    pub fn app_id(mut self, app_id: impl Into<String>) -> Self {
        self.app_id = Some(app_id.into());
        self
    }

    /// Starts a new data file once the current one reaches about this many bytes.
    /// Default: one file per partition per batch.
    ///
    /// ```
    /// let sink = stream_core::DeltaSink::new("tables/events").target_file_size(128 << 20);
    /// # drop(sink);
    /// ```
    pub fn target_file_size(mut self, bytes: u64) -> Self {
        self.target_file_size = Some(bytes);
        self
    }

    /// The table's folder.
    ///
    /// ```
    /// assert_eq!(stream_core::DeltaSink::new("t").path().to_str(), Some("t"));
    /// ```
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The newest batch id the table holds a commit of for `app_id` (the query id, unless
    /// the sink was given another), read from the table's log.
    ///
    /// ```
    /// let dir = tempfile::tempdir().unwrap();
    /// // no table there yet
    /// assert_eq!(stream_core::DeltaSink::committed_batch(dir.path(), "some-query").unwrap(), None);
    /// ```
    pub fn committed_batch(path: impl AsRef<Path>, app_id: &str) -> Result<Option<u64>> {
        let path = path.as_ref();
        let runtime = OwnedRuntime::new()?;
        runtime.block_on(async {
            let Some(table) = load(path).await? else {
                return Ok(None);
            };
            txn_version(path, &table, app_id).await
        })
    }

    fn delta_error(&self, batch: Option<u64>, e: DeltaTableError) -> StreamError {
        table_error(&self.path, batch, e)
    }
}

fn table_error(path: &Path, batch: Option<u64>, e: DeltaTableError) -> StreamError {
    let message = match batch {
        Some(id) => format!("Delta table: batch {id}: {e}"),
        None => format!("Delta table: {e}"),
    };
    StreamError::SinkFile {
        path: path.to_path_buf(),
        message,
    }
}

/// The table at `path`, or `None` if the folder holds none.
async fn load(path: &Path) -> Result<Option<DeltaTable>> {
    if !path.join("_delta_log").is_dir() {
        return Ok(None);
    }
    let url = table_url(path)?;
    let mut table = DeltaTableBuilder::from_url(url)
        .and_then(|b| b.build())
        .map_err(|e| table_error(path, None, e))?;
    match table.load().await {
        Ok(()) => Ok(Some(table)),
        Err(DeltaTableError::NotATable(_)) => Ok(None),
        Err(e) => Err(match unreadable_log_line(path) {
            Some((file, line, why)) => StreamError::SinkFile {
                path: file,
                message: format!(
                    "line {line} of the Delta table's log is not JSON ({why}); the table cannot be read"
                ),
            },
            None => table_error(path, None, e),
        }),
    }
}

/// The first line of a `_delta_log/<version>.json` commit file of the table at `path`
/// that is not JSON, with its 1-based number and the parser's reason: which file a
/// table that does not load holds damaged (deltalake's error does not say).
fn unreadable_log_line(path: &Path) -> Option<(PathBuf, usize, String)> {
    let log = path.join("_delta_log");
    let mut commits: Vec<PathBuf> = std::fs::read_dir(&log)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension().is_some_and(|x| x == "json")
                && p.file_stem()
                    .and_then(|s| s.to_str())
                    .is_some_and(|s| s.bytes().all(|b| b.is_ascii_digit()))
        })
        .collect();
    commits.sort();
    for file in commits.into_iter().rev() {
        let text = std::fs::read_to_string(&file).ok()?;
        for (i, line) in text.lines().enumerate() {
            if let Err(e) = serde_json::from_str::<serde_json::Value>(line) {
                return Some((file, i + 1, e.to_string()));
            }
        }
    }
    None
}

/// The latest `txn` version of `app_id` in `table`, as a batch id.
async fn txn_version(path: &Path, table: &DeltaTable, app_id: &str) -> Result<Option<u64>> {
    let snapshot = table.snapshot().map_err(|e| table_error(path, None, e))?;
    let version = snapshot
        .transaction_version(table.log_store().as_ref(), app_id)
        .await
        .map_err(|e| table_error(path, None, e))?;
    Ok(version.and_then(|v| u64::try_from(v).ok()))
}

fn table_url(path: &Path) -> Result<url::Url> {
    std::fs::create_dir_all(path).map_err(|e| StreamError::io(path, e))?;
    let absolute = path.canonicalize().map_err(|e| StreamError::io(path, e))?;
    url::Url::from_directory_path(&absolute).map_err(|()| StreamError::SinkFile {
        path: path.to_path_buf(),
        message: "cannot be made a file URL".into(),
    })
}

/// The type a column has in the table: every timestamp is Delta's `timestamp`
/// (microseconds since the epoch, UTC).
fn delta_type(data_type: &DataType) -> DataType {
    match data_type {
        DataType::Timestamp(_, _) => DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
        other => other.clone(),
    }
}

/// The stream's schema as the table stores it.
fn delta_schema(schema: &Schema) -> Schema {
    Schema::new(
        schema
            .fields()
            .iter()
            .map(|f| Field::new(f.name(), delta_type(f.data_type()), f.is_nullable()))
            .collect::<Vec<_>>(),
    )
}

/// `batch` with the table's column types, columns in the table's order.
fn conform(batch: &RecordBatch, table_schema: &SchemaRef) -> Result<RecordBatch> {
    let columns = table_schema
        .fields()
        .iter()
        .map(|field| {
            let column =
                batch
                    .column_by_name(field.name())
                    .ok_or_else(|| StreamError::SchemaMismatch {
                        context: "Delta sink".into(),
                        message: format!("the batch has no column `{}`", field.name()),
                    })?;
            if column.data_type() == field.data_type() {
                Ok(column.clone())
            } else {
                Ok(arrow_cast::cast(column, field.data_type())?)
            }
        })
        .collect::<Result<Vec<ArrayRef>>>()?;
    Ok(RecordBatch::try_new(table_schema.clone(), columns)?)
}

/// Describes columns for messages: `a Int64, b Utf8`.
fn describe(schema: &Schema) -> String {
    schema
        .fields()
        .iter()
        .map(|f| format!("{} {}", f.name(), f.data_type()))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Sink for DeltaSink {
    fn description(&self) -> String {
        format!("DeltaSink[{}]", self.path.display())
    }

    fn supports(&self, mode: OutputMode) -> bool {
        matches!(mode, OutputMode::Append | OutputMode::Complete)
    }

    /// Loads the table, or creates it from the stream's schema, and checks that its
    /// columns and partition columns are the stream's.
    fn open(&mut self, ctx: &SinkContext) -> Result<()> {
        self.open_with(ctx.schema.clone(), ctx.query_id.clone())
    }

    fn add_batch(&mut self, batch: SinkBatch<'_>) -> Result<()> {
        if self.opened.is_none() {
            let app_id = self.app_id.clone().ok_or_else(|| {
                StreamError::InvalidQuery(format!(
                    "{} was not opened by a query; give it an `app_id` to use it alone",
                    self.description()
                ))
            })?;
            self.open_with(batch.schema.clone(), app_id)?;
        }
        let path = self.path.clone();
        let target_file_size = self.target_file_size;
        let Some(opened) = self.opened.as_mut() else {
            return Err(StreamError::InvalidQuery(
                "the Delta sink is not open".into(),
            ));
        };
        let batch_id = batch.batch_id;
        let version = i64::try_from(batch_id).map_err(|_| {
            StreamError::InvalidQuery(format!(
                "batch id {batch_id} does not fit a Delta txn version"
            ))
        })?;
        if let Some(bad) = batch
            .batches
            .iter()
            .find(|b| b.schema().fields() != opened.input_schema.fields())
        {
            return Err(StreamError::SchemaMismatch {
                context: format!("batch {batch_id} handed to DeltaSink[{}]", path.display()),
                message: format!(
                    "got {} but the sink was opened for {}",
                    bad.schema(),
                    opened.input_schema
                ),
            });
        }
        let rows = batch
            .batches
            .iter()
            .filter(|b| b.num_rows() > 0)
            .map(|b| conform(b, &opened.table_schema))
            .collect::<Result<Vec<_>>>()?;
        let error = |e: DeltaTableError| table_error(&path, Some(batch_id), e);
        let Opened {
            runtime,
            table,
            app_id,
            ..
        } = opened;

        // 1. Has the table got this batch already? Then this is a replay: skip it.
        let adds = runtime.block_on(async {
            table.update_state().await.map_err(error)?;
            if txn_version(&path, table, app_id)
                .await?
                .is_some_and(|done| done >= batch_id)
            {
                return Ok(None);
            }
            // 2. Write the batch's data files (not yet part of the table).
            let mut writer = RecordBatchWriter::for_table(table).map_err(error)?;
            if let Some(bytes) = target_file_size {
                writer = writer.with_target_file_size(bytes);
            }
            for rows in rows {
                writer.write(rows).await.map_err(error)?;
            }
            Ok::<_, StreamError>(Some(writer.flush().await.map_err(error)?))
        })?;
        let Some(adds) = adds else {
            tracing::info!(sink = %format!("DeltaSink[{}]", path.display()), batch = batch_id, "batch already committed; skipped");
            return Ok(());
        };
        // the crash tests fail here: data files written, no commit
        batch.fault_point_mid_write()?;

        // 3. One commit: the files (replacing every file in complete mode) and the txn.
        let complete = batch.output_mode == OutputMode::Complete;
        runtime.block_on(async {
            let snapshot = table.snapshot().map_err(error)?;
            let mut actions: Vec<Action> = Vec::new();
            if complete {
                actions.extend(
                    snapshot
                        .log_data()
                        .iter()
                        .map(|file| Action::Remove(file.remove_action(true))),
                );
            }
            actions.extend(adds.into_iter().map(Action::Add));
            let operation = DeltaOperation::StreamingUpdate {
                output_mode: if complete {
                    DeltaOutputMode::Complete
                } else {
                    DeltaOutputMode::Append
                },
                query_id: app_id.clone(),
                epoch_id: version,
            };
            let properties = CommitProperties::default()
                .with_application_transaction(Transaction::new(app_id.as_str(), version));
            let finalized = CommitBuilder::from(properties)
                .with_actions(actions)
                .build(Some(snapshot), table.log_store(), operation)
                .await
                .map_err(error)?;
            table.state = Some(finalized.snapshot());
            Ok(())
        })
    }
}

impl DeltaSink {
    fn open_with(&mut self, schema: SchemaRef, query_id: String) -> Result<()> {
        for name in &self.partition_by {
            if schema.field_with_name(name).is_err() {
                return Err(StreamError::InvalidOption {
                    name: "partition_by".into(),
                    message: format!(
                        "no column `{name}` in the output; the columns are: {}",
                        describe(&schema)
                    ),
                });
            }
        }
        if !self.partition_by.is_empty() && self.partition_by.len() >= schema.fields().len() {
            return Err(StreamError::InvalidOption {
                name: "partition_by".into(),
                message:
                    "every column is a partition column; at least one must be left for the files"
                        .into(),
            });
        }
        let wanted = Arc::new(delta_schema(&schema));
        let runtime = OwnedRuntime::new()?;
        let path = self.path.clone();
        let partition_by = self.partition_by.clone();
        let table = runtime.block_on(async {
            if let Some(table) = load(&path).await? {
                return Ok(table);
            }
            let kernel: StructType = wanted
                .as_ref()
                .try_into_kernel()
                .map_err(|e| table_error(&path, None, e.into()))?;
            let url = table_url(&path)?;
            let table = DeltaTableBuilder::from_url(url)
                .and_then(|b| b.build())
                .map_err(|e| table_error(&path, None, e))?;
            table
                .create()
                .with_columns(kernel.fields().cloned())
                .with_partition_columns(partition_by)
                .with_save_mode(SaveMode::ErrorIfExists)
                .await
                .map_err(|e| table_error(&path, None, e))
        })?;
        let snapshot = table.snapshot().map_err(|e| self.delta_error(None, e))?;
        let metadata = snapshot.metadata();
        let kernel_schema = metadata
            .parse_schema()
            .map_err(|e| self.delta_error(None, DeltaTableError::KernelError(e)))?;
        let table_schema: Schema = (&kernel_schema)
            .try_into_arrow()
            .map_err(|e| self.delta_error(None, e.into()))?;
        let same_columns = table_schema.fields().len() == wanted.fields().len()
            && wanted.fields().iter().all(|f| {
                table_schema
                    .field_with_name(f.name())
                    .is_ok_and(|t| t.data_type() == f.data_type())
            });
        if !same_columns {
            return Err(StreamError::SinkFile {
                path: self.path.clone(),
                message: format!(
                    "the Delta table has columns ({}) but the query writes ({}); write to a new table",
                    describe(&table_schema),
                    describe(&wanted)
                ),
            });
        }
        let table_partitions: Vec<String> = metadata.partition_columns().to_vec();
        if table_partitions != self.partition_by {
            return Err(StreamError::SinkFile {
                path: self.path.clone(),
                message: format!(
                    "the Delta table is partitioned by [{}] but the sink by [{}]",
                    table_partitions.join(", "),
                    self.partition_by.join(", ")
                ),
            });
        }
        self.opened = Some(Opened {
            runtime,
            table,
            app_id: self.app_id.clone().unwrap_or(query_id),
            table_schema: Arc::new(table_schema),
            input_schema: schema,
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use arrow_array::{Int64Array, StringArray, TimestampMillisecondArray};

    use super::*;
    use crate::ManualClock;
    use crate::fault::Faults;

    fn schema() -> SchemaRef {
        Arc::new(Schema::new(vec![
            Field::new(
                "ts",
                DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
                true,
            ),
            Field::new(
                "local",
                DataType::Timestamp(TimeUnit::Millisecond, None),
                true,
            ),
            Field::new("n", DataType::Int64, false),
            Field::new("country", DataType::Utf8, true),
        ]))
    }

    fn rows(from: i64, to: i64) -> RecordBatch {
        let n: Vec<i64> = (from..to).collect();
        RecordBatch::try_new(
            schema(),
            vec![
                Arc::new(TimestampMillisecondArray::from(n.clone()).with_timezone("UTC")),
                Arc::new(TimestampMillisecondArray::from(n.clone())),
                Arc::new(Int64Array::from(n.clone())),
                Arc::new(StringArray::from(
                    n.iter()
                        .map(|i| if i % 2 == 0 { "DE" } else { "US" })
                        .collect::<Vec<_>>(),
                )),
            ],
        )
        .unwrap()
    }

    fn context(mode: OutputMode) -> SinkContext {
        SinkContext {
            query_id: "query-1".into(),
            query_name: None,
            checkpoint_dir: PathBuf::from("/nonexistent"),
            output_mode: mode,
            schema: schema(),
            clock: Arc::new(ManualClock::new(0)),
        }
    }

    fn add(sink: &mut DeltaSink, id: u64, mode: OutputMode, batches: Vec<RecordBatch>) {
        sink.add_batch(SinkBatch {
            batch_id: id,
            output_mode: mode,
            schema: schema(),
            batches,
            faults: &Faults::default(),
        })
        .unwrap();
    }

    fn log_entries(table: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(table.join("_delta_log"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".json"))
            .collect();
        names.sort();
        names
            .iter()
            .map(|n| std::fs::read_to_string(table.join("_delta_log").join(n)).unwrap())
            .collect()
    }

    #[test]
    fn the_table_is_created_with_utc_timestamps_and_a_replay_is_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let mut sink = DeltaSink::new(dir.path()).partition_by(["country"]);
        sink.open(&context(OutputMode::Append)).unwrap();
        add(&mut sink, 0, OutputMode::Append, vec![rows(0, 4)]);
        add(&mut sink, 0, OutputMode::Append, vec![rows(0, 4)]);
        // a restarted sink reads the txn from the log
        let mut restarted = DeltaSink::new(dir.path()).partition_by(["country"]);
        restarted.open(&context(OutputMode::Append)).unwrap();
        add(&mut restarted, 0, OutputMode::Append, vec![rows(0, 4)]);
        add(&mut restarted, 1, OutputMode::Append, vec![]);
        let log = log_entries(dir.path());
        assert_eq!(log.len(), 3, "create, batch 0, batch 1: {log:?}");
        assert!(
            log[0].contains(r#"\"name\":\"local\",\"type\":\"timestamp\""#),
            "{}",
            log[0]
        );
        assert!(
            log[0].contains(r#"\"name\":\"ts\",\"type\":\"timestamp\""#),
            "{}",
            log[0]
        );
        assert!(
            log[0].contains(r#""partitionColumns":["country"]"#),
            "{}",
            log[0]
        );
        assert!(
            log[1].contains(r#""txn":{"appId":"query-1","version":0"#),
            "{}",
            log[1]
        );
        assert_eq!(
            log[1].matches(r#""add":"#).count(),
            2,
            "one file per partition"
        );
        assert!(
            log[2].contains(r#""txn":{"appId":"query-1","version":1"#),
            "{}",
            log[2]
        );
        assert_eq!(
            DeltaSink::committed_batch(dir.path(), "query-1").unwrap(),
            Some(1)
        );
        assert_eq!(
            DeltaSink::committed_batch(dir.path(), "other").unwrap(),
            None
        );
    }

    #[test]
    fn complete_mode_removes_every_earlier_file_in_the_same_commit() {
        let dir = tempfile::tempdir().unwrap();
        let mut sink = DeltaSink::new(dir.path());
        sink.open(&context(OutputMode::Complete)).unwrap();
        add(&mut sink, 0, OutputMode::Complete, vec![rows(0, 2)]);
        add(&mut sink, 1, OutputMode::Complete, vec![rows(0, 3)]);
        let log = log_entries(dir.path());
        assert_eq!(log[2].matches(r#""remove":"#).count(), 1, "{}", log[2]);
        assert_eq!(log[2].matches(r#""add":"#).count(), 1, "{}", log[2]);
        assert!(log[2].contains(r#""outputMode":"Complete""#), "{}", log[2]);
    }

    #[test]
    fn a_sink_opened_and_dropped_inside_an_async_context_does_not_panic() {
        let dir = tempfile::tempdir().unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let mut sink = DeltaSink::new(dir.path());
            sink.open(&context(OutputMode::Append)).unwrap();
            add(&mut sink, 0, OutputMode::Append, vec![rows(0, 1)]);
            drop(sink);
        });
        assert_eq!(
            DeltaSink::committed_batch(dir.path(), "query-1").unwrap(),
            Some(0)
        );
    }

    #[test]
    fn bad_partition_columns_and_other_tables_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let e = DeltaSink::new(dir.path())
            .partition_by(["nope"])
            .open(&context(OutputMode::Append))
            .unwrap_err()
            .to_string();
        assert!(e.contains("no column `nope`"), "{e}");
        DeltaSink::new(dir.path())
            .open(&context(OutputMode::Append))
            .unwrap();
        let e = DeltaSink::new(dir.path())
            .partition_by(["country"])
            .open(&context(OutputMode::Append))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("partitioned by [] but the sink by [country]"),
            "{e}"
        );
        assert!(e.contains(&*dir.path().to_string_lossy()), "{e}");
    }

    #[test]
    fn without_a_query_an_app_id_is_needed() {
        let dir = tempfile::tempdir().unwrap();
        let mut sink = DeltaSink::new(dir.path());
        let e = sink
            .add_batch(SinkBatch {
                batch_id: 0,
                output_mode: OutputMode::Append,
                schema: schema(),
                batches: vec![],
                faults: &Faults::default(),
            })
            .unwrap_err()
            .to_string();
        assert!(e.contains("app_id"), "{e}");
        let mut sink = DeltaSink::new(dir.path()).app_id("by-hand");
        add(&mut sink, 7, OutputMode::Append, vec![rows(0, 1)]);
        assert_eq!(
            DeltaSink::committed_batch(dir.path(), "by-hand").unwrap(),
            Some(7)
        );
    }
}
