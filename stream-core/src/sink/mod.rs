//! Sinks: where the rows of each micro-batch go.

use std::path::PathBuf;
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;

use crate::clock::Clock;
use crate::fault::Faults;
use crate::{OutputMode, Result};

mod console;
#[cfg(feature = "delta")]
mod delta;
mod file;
mod foreach_batch;
mod memory;

pub use console::{ConsoleOutput, ConsoleSink};
#[cfg(feature = "delta")]
pub use delta::DeltaSink;
pub use file::{FileSink, FileSinkFormat, ParquetCompression, read_file_sink};
#[cfg(feature = "fuzz")]
pub(crate) use file::{parse_manifest, parse_manifest_layout};
pub use foreach_batch::ForeachBatchSink;
pub use memory::{MemorySink, MemoryTable};

/// What the engine gives a sink when the query starts.
#[derive(Clone, Debug)]
pub struct SinkContext {
    /// The query's id (stable across restarts).
    pub query_id: String,
    /// The query's name, if it has one.
    pub query_name: Option<String>,
    /// The checkpoint folder (a sink that keeps its own log puts it under `sinks/`).
    pub checkpoint_dir: PathBuf,
    /// The output mode of the query.
    pub output_mode: OutputMode,
    /// The schema of every batch the sink will get.
    pub schema: SchemaRef,
    /// The query's clock (a [`crate::ManualClock`] in tests): sinks that record times
    /// read them here.
    pub clock: Arc<dyn Clock>,
}

/// The output of one micro-batch, handed to [`Sink::add_batch`].
#[derive(Debug)]
pub struct SinkBatch<'a> {
    /// The batch id. A batch may be handed over again with the same id after a crash;
    /// the sink must then leave the same result as if it had been handed over once.
    pub batch_id: u64,
    /// The query's output mode.
    pub output_mode: OutputMode,
    /// The schema of `batches`.
    pub schema: SchemaRef,
    /// The rows, in order.
    pub batches: Vec<RecordBatch>,
    pub(crate) faults: &'a Faults,
}

impl SinkBatch<'_> {
    /// The number of rows in the batch.
    pub fn num_rows(&self) -> usize {
        self.batches.iter().map(RecordBatch::num_rows).sum()
    }

    /// Test-only: sinks call this in the middle of a write (after part of it has been
    /// done) so the crash tests can fail there. A no-op unless the `fault-injection`
    /// feature is on and the query asked for a fault there.
    #[doc(hidden)]
    pub fn fault_point_mid_write(&self) -> Result<()> {
        self.faults
            .check(crate::fault::FaultPoint::DuringSinkWrite, self.batch_id)
    }
}

/// A destination for the result of each micro-batch.
///
/// `add_batch` must be idempotent per batch id: after a crash the engine hands the same
/// batch over again, and the sink must not keep it twice.
///
/// ```
/// use stream_core::{OutputMode, Result, Sink, SinkBatch};
///
/// /// Counts rows; a replayed batch replaces its earlier count.
/// #[derive(Default)]
/// struct RowCounter { per_batch: std::collections::BTreeMap<u64, usize> }
///
/// impl Sink for RowCounter {
///     fn description(&self) -> String { "RowCounter".into() }
///     fn supports(&self, mode: OutputMode) -> bool { mode == OutputMode::Append }
///     fn add_batch(&mut self, batch: SinkBatch<'_>) -> Result<()> {
///         self.per_batch.insert(batch.batch_id, batch.num_rows());
///         Ok(())
///     }
/// }
/// assert!(RowCounter::default().supports(OutputMode::Append));
/// ```
pub trait Sink: Send {
    /// A short description for progress records (`MemorySink`, `ConsoleSink[...]`).
    fn description(&self) -> String;

    /// Whether the sink can take results in `mode`.
    fn supports(&self, mode: OutputMode) -> bool;

    /// Called once before the first batch.
    fn open(&mut self, ctx: &SinkContext) -> Result<()> {
        let _ = ctx;
        Ok(())
    }

    /// Writes the output of one batch. Idempotent per `batch.batch_id`.
    fn add_batch(&mut self, batch: SinkBatch<'_>) -> Result<()>;

    /// The query is stopping.
    fn close(&mut self) {}

    /// The in-memory table the sink writes, for a sink that keeps its output in memory
    /// (the memory sink): what [`crate::TypedQuery::rows`] reads. `None` by default.
    fn memory_table(&self) -> Option<MemoryTable> {
        None
    }
}
