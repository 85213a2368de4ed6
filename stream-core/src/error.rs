//! The one error type of the engine.

use std::path::PathBuf;

use crate::output_mode::OutputMode;

/// Everything that can stop a streaming query.
///
/// Each variant names what it is about (a file, a column, an option) so that the
/// message alone tells a user where to look.
///
/// ```
/// use stream_core::StreamError;
/// let e = StreamError::InvalidOption { name: "max_files_per_trigger".into(), message: "must be at least 1".into() };
/// assert_eq!(e.to_string(), "invalid option `max_files_per_trigger`: must be at least 1");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StreamError {
    /// A checkpoint file could not be parsed or is inconsistent with its neighbours. The
    /// message ends with what was written: nothing, when it was found as the query
    /// started; or the batch that was running, which is not committed and runs again
    /// when the query restarts.
    #[error("corrupt checkpoint file `{path}`: {message}")]
    CorruptCheckpoint {
        /// The file that is wrong.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// A checkpoint file was written by a newer (or unknown) format version.
    #[error(
        "checkpoint file `{path}` has format version `{found}` but this build reads only v{supported}; \
         run the query with the version of this library that wrote it, or use a new checkpoint location"
    )]
    UnsupportedCheckpointVersion {
        /// The file with the unknown version line.
        path: PathBuf,
        /// The version line found.
        found: String,
        /// The newest version this build understands.
        supported: u32,
    },
    /// The checkpoint belongs to a query of another shape.
    #[error(
        "checkpoint `{path}` was written by a different query: {reason}; \
         use a new checkpoint location for a changed query"
    )]
    CheckpointMismatch {
        /// The checkpoint folder.
        path: PathBuf,
        /// What differs.
        reason: String,
    },
    /// The state of a stateful operator was written with other key or value columns
    /// than the query's: reading it with the new ones would misread it.
    #[error(
        "the state of operator `{operator}` in `{path}` was written with other columns: {message}; \
         state cannot be carried over to changed columns: use a new checkpoint location"
    )]
    StateSchemaMismatch {
        /// The operator whose state it is.
        operator: String,
        /// The file that records the state's schema (`state/<operator>/_metadata/schema`).
        path: PathBuf,
        /// Each column that differs: added, removed, of another type or nullability.
        message: String,
    },
    /// An I/O operation on a named path failed.
    #[error("i/o error on `{path}`: {source}")]
    Io {
        /// The path the operation was about.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A record in an input file could not be decoded.
    #[error("malformed record in `{path}` at line {line}: {message}")]
    MalformedRecord {
        /// The input file.
        path: PathBuf,
        /// 1-based line number.
        line: u64,
        /// What the decoder said.
        message: String,
    },
    /// A Kafka record's value could not be decoded into the declared columns.
    ///
    /// ```
    /// use stream_core::StreamError;
    /// let e = StreamError::MalformedKafkaRecord { topic: "events".into(), partition: 0, offset: 17, message: "expected value at line 1 column 1".into() };
    /// assert_eq!(e.to_string(), "malformed record in Kafka topic `events` partition 0 at offset 17: expected value at line 1 column 1");
    /// ```
    #[error(
        "malformed record in Kafka topic `{topic}` partition {partition} at offset {offset}: {message}"
    )]
    MalformedKafkaRecord {
        /// The record's topic.
        topic: String,
        /// The record's partition.
        partition: i32,
        /// The record's offset.
        offset: i64,
        /// What the decoder said.
        message: String,
    },
    /// An input file cannot be read as a whole: a truncated or corrupt compressed stream,
    /// a Parquet file that is damaged or whose columns do not match the schema, a
    /// partition folder whose value does not parse into its column's type.
    ///
    /// ```
    /// use stream_core::StreamError;
    /// let e = StreamError::BadInputFile { path: "in/a.parquet".into(), message: "column `n` is missing".into() };
    /// assert_eq!(e.to_string(), "cannot read input file `in/a.parquet`: column `n` is missing");
    /// ```
    #[error("cannot read input file `{path}`: {message}")]
    BadInputFile {
        /// The input file.
        path: PathBuf,
        /// What is wrong with it, naming the column or folder concerned.
        message: String,
    },
    /// An option has a value the engine cannot use.
    #[error("invalid option `{name}`: {message}")]
    InvalidOption {
        /// The option's name.
        name: String,
        /// Why the value is rejected.
        message: String,
    },
    /// The sink cannot take the query's output mode.
    #[error("sink `{sink}` does not support output mode `{mode}`; it supports: {supported}")]
    UnsupportedOutputMode {
        /// The sink's description.
        sink: String,
        /// The requested mode.
        mode: OutputMode,
        /// The modes it does take, comma separated.
        supported: String,
    },
    /// A batch does not have the schema the pipeline declared.
    #[error("schema mismatch in {context}: {message}")]
    SchemaMismatch {
        /// Where the mismatch was seen.
        context: String,
        /// The difference.
        message: String,
    },
    /// An error raised by a source.
    #[error("source `{source_name}`: {message}")]
    Source {
        /// The source's description.
        source_name: String,
        /// What went wrong.
        message: String,
    },
    /// An error raised by a sink or by user code called from a sink.
    #[error("sink `{sink}` failed on batch {batch_id}: {message}")]
    Sink {
        /// The sink's description.
        sink: String,
        /// The batch being written.
        batch_id: u64,
        /// What went wrong.
        message: String,
    },
    /// A file of a sink's output (a data file, or the sink's own manifest or log) could
    /// not be written, read or understood.
    #[error("sink file `{path}`: {message}")]
    SinkFile {
        /// The file (or table folder) the error is about.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// An error from arrow while processing data.
    #[error("arrow: {0}")]
    Arrow(#[from] arrow_schema::ArrowError),
    /// The query was configured inconsistently.
    #[error("invalid query: {0}")]
    InvalidQuery(String),
    /// A setter of the builder a `stream!` block returned asked for something else than
    /// what the block was checked and compiled for: its output mode, its sink, its
    /// sources, its pipeline or its late-rows sink. [`crate::QueryBuilder::start`]
    /// returns it before anything runs; the fix is in the block.
    ///
    /// ```
    /// use stream_core::StreamError;
    /// let e = StreamError::FixedByStream {
    ///     setting: "output_mode".into(),
    ///     compiled: "`update` mode".into(),
    ///     asked: "`complete` mode".into(),
    ///     change: "`.output_mode(..)`".into(),
    /// };
    /// assert_eq!(
    ///     e.to_string(),
    ///     "`output_mode` is fixed by the `stream!` block, which was checked and compiled for \
    ///      `update` mode, but the builder was asked for `complete` mode; change \
    ///      `.output_mode(..)` in the `stream!` block"
    /// );
    /// ```
    #[error(
        "`{setting}` is fixed by the `stream!` block, which was checked and compiled for {compiled}, \
         but the builder was asked for {asked}; change {change} in the `stream!` block"
    )]
    FixedByStream {
        /// The builder's setting (`output_mode`, `sink`, `source`, `pipeline`,
        /// `late_rows_sink`).
        setting: String,
        /// What the block compiled.
        compiled: String,
        /// What the builder's setter asked for.
        asked: String,
        /// What to change in the block (`.output_mode(..)`, `.write(..)`, ...).
        change: String,
    },
    /// A failure injected by the test-only fault-injection hook.
    #[error("injected fault at {point} of batch {batch_id}")]
    InjectedFault {
        /// Where in the protocol the fault fired.
        point: crate::fault::FaultPoint,
        /// The batch it fired in.
        batch_id: u64,
    },
    /// The error that stopped a query, as [`crate::StreamingQuery::await_termination`]
    /// returns it (shared, since every handle of the query sees the same error); lets
    /// `?` carry it into a function returning [`Result`].
    #[error(transparent)]
    QueryTerminated(#[from] std::sync::Arc<StreamError>),
    /// The query's own thread panicked outside a pipeline task: in a source, the sink
    /// (for example a `foreach_batch` closure) or a listener.
    #[error("the query panicked in a source, the sink or a listener: {message}")]
    QueryPanicked {
        /// The panic payload, if it was a string.
        message: String,
    },
    /// A worker thread panicked while processing a batch.
    #[error("a task of batch {batch_id} panicked: {message}")]
    TaskPanicked {
        /// The batch being processed.
        batch_id: u64,
        /// The panic payload, if it was a string.
        message: String,
    },
}

impl StreamError {
    /// An I/O error about `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        StreamError::Io {
            path: path.into(),
            source,
        }
    }

    /// A corrupt checkpoint file.
    pub fn corrupt(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        StreamError::CorruptCheckpoint {
            path: path.into(),
            message: message.into(),
        }
    }

    /// This error, found as a query started and before it wrote anything: a corrupt
    /// checkpoint file's message then says that the checkpoint was left as it is.
    pub(crate) fn found_at_start(self) -> Self {
        self.with_checkpoint_note(
            "found at start, before anything was written: the checkpoint was left as it is",
        )
    }

    /// This error, found while batch `batch_id` ran: a corrupt checkpoint file's
    /// message then says what that means for the checkpoint.
    pub(crate) fn found_in_batch(self, batch_id: u64) -> Self {
        self.with_checkpoint_note(&format!(
            "found while batch {batch_id} ran: the batch is not committed (what it wrote \
             stays uncommitted) and runs again when the query restarts"
        ))
    }

    fn with_checkpoint_note(self, note: &str) -> Self {
        match self {
            StreamError::CorruptCheckpoint { path, message } => StreamError::CorruptCheckpoint {
                path,
                message: format!("{message}; {note}"),
            },
            other => other,
        }
    }
}

/// Result alias used across the engine.
pub type Result<T, E = StreamError> = std::result::Result<T, E>;
