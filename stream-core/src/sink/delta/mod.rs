//! The Delta Lake sink (cargo feature `delta`): one Delta commit per micro-batch, made
//! idempotent by a `txn` action, as the Delta Lake connector for Spark does it.

mod checkpoint;
mod log;
mod runtime;
mod schema;
mod state;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::{Schema, SchemaRef};
use deltalake_core::kernel::engine::arrow_conversion::{TryIntoArrow as _, TryIntoKernel as _};
use deltalake_core::kernel::transaction::{CommitBuilder, CommitProperties};
use deltalake_core::kernel::{Action, Add, StructType, Transaction};
use deltalake_core::protocol::{DeltaOperation, OutputMode as DeltaOutputMode, SaveMode};
use deltalake_core::table::config::TableProperty;
use deltalake_core::writer::{DeltaWriter as _, RecordBatchWriter};
use deltalake_core::{DeltaTable, DeltaTableBuilder, DeltaTableError};

use self::checkpoint::LogCheckpoints;
use self::log::{load, table_error, table_url, txn_version};
use self::runtime::OwnedRuntime;
use self::schema::{conform, delta_schema, describe};
use super::{Sink, SinkBatch, SinkContext};
use crate::fault::FaultPoint;
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
/// - **Log checkpoints**: one is due at every multiple of the table's
///   `delta.checkpointInterval` (default 100; [`DeltaSink::checkpoint_interval`] sets it
///   when the sink creates the table). The sink writes it after the commit, and when it
///   opens the table or after a later commit if a crash came between the two, so that
///   reading the table never replays more than one interval of commits.
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
    checkpoint_interval: Option<u64>,
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
    checkpoints: LogCheckpoints,
}

impl std::fmt::Debug for Opened {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Opened")
            .field("app_id", &self.app_id)
            .field("version", &self.table.version())
            .finish_non_exhaustive()
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
            checkpoint_interval: None,
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

    /// The table's log checkpoint interval, `delta.checkpointInterval`, set when the sink
    /// creates the table (default: Delta's, 100 versions). A reader of the table loads
    /// its newest log checkpoint and replays the commits after it, so a smaller interval
    /// makes reads cheaper and writes a checkpoint more often. An existing table keeps
    /// its own setting.
    ///
    /// ```
    /// let sink = stream_core::DeltaSink::new("tables/events").checkpoint_interval(10);
    /// # drop(sink);
    /// ```
    pub fn checkpoint_interval(mut self, versions: u64) -> Self {
        self.checkpoint_interval = Some(versions.max(1));
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

impl Sink for DeltaSink {
    fn description(&self) -> String {
        format!("DeltaSink[{}]", self.path.display())
    }

    fn supports(&self, mode: OutputMode) -> bool {
        matches!(mode, OutputMode::Append | OutputMode::Complete)
    }

    /// Loads the table, or creates it from the stream's schema, and checks that its
    /// columns and partition columns are the stream's; writes the log checkpoint due at
    /// the table's version if a crash left it unwritten.
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
        let rows = opened.conform(&batch, &path)?;

        // 1. and 2.: the batch's data files, unless the table has the batch already
        let Some(adds) = opened.write_files(&path, batch_id, rows, target_file_size)? else {
            tracing::info!(sink = %format!("DeltaSink[{}]", path.display()), batch = batch_id, "batch already committed; skipped");
            return Ok(());
        };
        // the crash tests fail here: data files written, no commit
        batch.fault_point_mid_write()?;

        // 3. One commit: the files (replacing every file in complete mode) and the txn.
        let complete = batch.output_mode == OutputMode::Complete;
        opened.commit(&path, batch_id, version, adds, complete)?;
        // the crash tests fail here: the batch committed, its log checkpoint not written
        batch.faults.check(FaultPoint::AfterDeltaCommit, batch_id)?;

        // 4. The log checkpoint, if one is due.
        opened.write_due_checkpoint(&path, Some(batch_id))
    }
}

impl Opened {
    /// The batch's rows with the table's column types, empty batches left out; a batch
    /// of another schema than the sink was opened for is refused.
    fn conform(&self, batch: &SinkBatch<'_>, path: &Path) -> Result<Vec<RecordBatch>> {
        if let Some(bad) = batch
            .batches
            .iter()
            .find(|b| b.schema().fields() != self.input_schema.fields())
        {
            return Err(StreamError::SchemaMismatch {
                context: format!(
                    "batch {} handed to DeltaSink[{}]",
                    batch.batch_id,
                    path.display()
                ),
                message: format!(
                    "got {} but the sink was opened for {}",
                    bad.schema(),
                    self.input_schema
                ),
            });
        }
        batch
            .batches
            .iter()
            .filter(|b| b.num_rows() > 0)
            .map(|b| conform(b, &self.table_schema))
            .collect()
    }

    /// Steps 1 and 2 of a batch: `None` if the table's log has the batch already (a
    /// replay, skipped), else its data files, written but not yet part of the table.
    fn write_files(
        &mut self,
        path: &Path,
        batch_id: u64,
        rows: Vec<RecordBatch>,
        target_file_size: Option<u64>,
    ) -> Result<Option<Vec<Add>>> {
        let error = |e: DeltaTableError| table_error(path, Some(batch_id), e);
        let Opened {
            runtime,
            table,
            app_id,
            ..
        } = self;
        runtime.block_on(async {
            table.update_state().await.map_err(error)?;
            if txn_version(path, table, app_id)
                .await?
                .is_some_and(|done| done >= batch_id)
            {
                return Ok(None);
            }
            let mut writer = RecordBatchWriter::for_table(table).map_err(error)?;
            if let Some(bytes) = target_file_size {
                writer = writer.with_target_file_size(bytes);
            }
            for rows in rows {
                writer.write(rows).await.map_err(error)?;
            }
            Ok(Some(writer.flush().await.map_err(error)?))
        })
    }

    /// Step 3: one commit of the files `adds` (replacing every file of the table if
    /// `complete`) and the `txn` action of `version`. deltalake's post-commit hook writes
    /// no log checkpoint and deletes no expired log files (it would list the whole log at
    /// every commit): [`Opened::write_due_checkpoint`] does both.
    fn commit(
        &mut self,
        path: &Path,
        batch_id: u64,
        version: i64,
        adds: Vec<Add>,
        complete: bool,
    ) -> Result<()> {
        let error = |e: DeltaTableError| table_error(path, Some(batch_id), e);
        let Opened {
            runtime,
            table,
            app_id,
            ..
        } = self;
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
                .with_application_transaction(Transaction::new(app_id.as_str(), version))
                .with_create_checkpoint(false)
                .with_cleanup_expired_logs(Some(false));
            let finalized = CommitBuilder::from(properties)
                .with_actions(actions)
                .build(Some(snapshot), table.log_store(), operation)
                .await
                .map_err(error)?;
            table.state = Some(finalized.snapshot());
            Ok(())
        })
    }

    /// Writes the log checkpoint due at the table's version if the log has none (see
    /// `checkpoint.rs`): after the commit of `batch`, or at open (`None`), then reloads
    /// the table's state from it (see `state.rs`). One written for an earlier version, or
    /// at open, was missed by a crash, and is logged at info.
    fn write_due_checkpoint(&mut self, path: &Path, batch: Option<u64>) -> Result<()> {
        let Opened {
            runtime,
            table,
            checkpoints,
            ..
        } = self;
        let written = runtime
            .block_on(async {
                let written = checkpoints.write_due(table, path).await?;
                if written.is_some() {
                    state::reload(table).await?;
                }
                Ok(written)
            })
            .map_err(|e| table_error(path, batch, e))?;
        let Some(version) = written else {
            return Ok(());
        };
        let sink = format!("DeltaSink[{}]", path.display());
        if batch.is_some() && table.version() == Some(version) {
            tracing::debug!(sink, version, "log checkpoint written");
        } else {
            tracing::info!(
                sink,
                version,
                "the log checkpoint due at version {version} was missing (the query stopped after that commit, before its checkpoint); written now"
            );
        }
        Ok(())
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
        let checkpoint_interval = self.checkpoint_interval;
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
            let mut create = table
                .create()
                .with_columns(kernel.fields().cloned())
                .with_partition_columns(partition_by)
                .with_save_mode(SaveMode::ErrorIfExists);
            if let Some(versions) = checkpoint_interval {
                create = create.with_configuration_property(
                    TableProperty::CheckpointInterval,
                    Some(versions.to_string()),
                );
            }
            create.await.map_err(|e| table_error(&path, None, e))
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
        let mut opened = Opened {
            runtime,
            table,
            app_id: self.app_id.clone().unwrap_or(query_id),
            table_schema: Arc::new(table_schema),
            input_schema: schema,
            checkpoints: LogCheckpoints::default(),
        };
        opened.write_due_checkpoint(&self.path, None)?;
        self.opened = Some(opened);
        Ok(())
    }
}
