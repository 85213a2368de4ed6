//! The runtime of the streaming library: Spark Structured Streaming's micro-batch model
//! over Arrow record batches.
//!
//! A query reads from [`Source`]s, runs a compiled [`Pipeline`] on each micro-batch and
//! hands the result to a [`Sink`]. Before a batch runs, the range it will read is written
//! to the checkpoint's offset log; after the sink has it, the commit log records it. A
//! query restarted on the same checkpoint re-runs an uncommitted batch with the same
//! ranges, so every input row reaches an idempotent sink exactly once.
//!
//! ```
//! use std::sync::Arc;
//! use arrow_array::{Int64Array, RecordBatch};
//! use arrow_schema::{DataType, Field, Schema};
//! use stream_core::{MapPipeline, MemorySink, MemoryStream, OutputMode, StreamingQuery, Trigger};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> stream_core::Result<()> {
//! let schema = Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, false)]));
//! let input = MemoryStream::new(schema.clone());
//! input.add_batch(RecordBatch::try_new(schema.clone(), vec![Arc::new(Int64Array::from(vec![1, 2, 3]))])?)?;
//!
//! let out = MemorySink::new("numbers");
//! let checkpoint = tempfile::tempdir().unwrap();
//! let query = StreamingQuery::builder()
//!     .source(input.clone())
//!     .pipeline(MapPipeline::identity(schema))
//!     .sink(out.clone())
//!     .output_mode(OutputMode::Append)
//!     .trigger(Trigger::AvailableNow)
//!     .checkpoint_location(checkpoint.path())
//!     .start()?;
//! query.await_termination().await?;
//! assert_eq!(out.table().num_rows(), 3);
//! # Ok(()) }
//! ```

#![cfg_attr(not(test), warn(clippy::unwrap_used))]

// `#[derive(Schema)]` names `::stream_core`: lets the unit tests use it on their own rows
#[cfg(test)]
extern crate self as stream_core;

pub mod checkpoint;
pub mod clock;
mod engine;
mod error;
pub mod fault;
mod features;
mod hash;
mod join;
#[cfg(feature = "kafka")]
pub mod kafka;
mod metrics;
mod offset;
mod output_mode;
pub mod pipeline;
pub mod progress;
pub mod query;
pub mod sink;
pub mod source;
pub mod state;
mod trigger;
pub mod types;
#[cfg(feature = "ui")]
pub mod ui;

pub use checkpoint::MetadataLog;
pub use clock::{Clock, ManualClock, SystemClock};
pub use error::{Result, StreamError};
pub use fault::FaultPoint;
pub use join::StaticTable;
#[cfg(feature = "kafka")]
pub use kafka::{KafkaSink, KafkaSource};
pub use metrics::{BatchMetrics, EventTimeStats, WatermarkPolicy};
pub use offset::Offset;
pub use output_mode::OutputMode;
pub use pipeline::{
    InputChunk, MapPipeline, Pipeline, PipelineInfo, StateContext, TaskContext, TaskOutput,
};
pub use progress::{
    QueryProgressEvent, QueryStartedEvent, QueryTerminatedEvent, SinkProgress, SourceProgress,
    StateOperatorProgress, StreamingQueryListener, StreamingQueryProgress, StreamingQueryStatus,
};
pub use query::{
    OutputRow, QueryBuilder, StreamingQuery, StreamingQueryManager, TypedQuery, Untyped,
};
#[cfg(feature = "delta")]
pub use sink::DeltaSink;
pub use sink::{
    ConsoleOutput, ConsoleSink, FileSink, FileSinkFormat, ForeachBatchSink, MemorySink,
    MemoryTable, ParquetCompression, Sink, SinkBatch, SinkContext, read_file_sink,
};
#[cfg(feature = "json")]
pub use source::JsonFileSource;
pub use source::{
    CleanSource, FileFormat, FileSource, MemoryStream, ParseMode, RateSource, ReadLimit, Source,
    SourceContext,
};
pub use trigger::Trigger;

#[doc(hidden)]
pub mod __private;

// Entry points for the fuzz targets of `fuzz/`: not an API (the `fuzz` feature, which
// nothing but `fuzz/Cargo.toml` enables).
#[cfg(feature = "fuzz")]
#[doc(hidden)]
pub mod __fuzz;

/// Compiles a pipeline block into typed operator code and returns its query builder.
/// See the book's "Your first pipeline" chapter.
pub use stream_macros::stream;

/// Makes a struct a schema of `stream!` blocks (`schema Event = path::to::Event;`) and
/// implements [`types::TypedRow`] for it. See the book's "Your first pipeline" chapter.
pub use stream_macros::Schema;
