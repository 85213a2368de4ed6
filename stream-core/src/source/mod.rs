//! Sources: where a query's rows come from.
//!
//! A source is replayable: the engine asks it for its newest offset, writes the range it
//! will read to the offset log, then reads exactly that range; after a crash it asks for
//! the same range again and must get the same rows.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;

use crate::clock::Clock;
use crate::{Offset, Result};

mod file;
#[cfg(feature = "json")]
mod json_files;
mod memory;
mod rate;

#[cfg(feature = "kafka")]
pub(crate) use file::decode::describe::json_record;
#[cfg(feature = "fuzz")]
pub(crate) use file::decode::{FileDecoder, ReadCounts, csv::CsvSettings};
pub use file::{CleanSource, FileFormat, FileSource, ParseMode};
#[cfg(feature = "json")]
pub use json_files::JsonFileSource;
pub use memory::MemoryStream;
pub use rate::RateSource;

/// How much a source may admit into one micro-batch (Spark's `ReadLimit`).
///
/// ```
/// use stream_core::ReadLimit;
/// assert_eq!(ReadLimit::default(), ReadLimit::All);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ReadLimit {
    /// Everything available.
    #[default]
    All,
    /// At most this many files.
    MaxFiles(u64),
    /// At most this many rows.
    MaxRows(u64),
    /// At most this many bytes of files, but always at least one file (Spark's
    /// `ReadMaxBytes`, from `max_bytes_per_trigger`).
    MaxBytes(u64),
}

/// What the engine gives a source when the query starts.
#[derive(Clone, Debug)]
pub struct SourceContext {
    /// The source's own folder in the checkpoint, `sources/<i>/`, for logs it must keep
    /// to replay a range (a file source keeps the files of each offset there).
    pub metadata_dir: PathBuf,
    /// The query's clock.
    pub clock: Arc<dyn Clock>,
    /// The index of this source in the query.
    pub index: usize,
}

/// A replayable stream of rows.
///
/// The engine calls, in this order: [`Source::open`] once; per trigger
/// [`Source::latest_offset`]; [`Source::read`] for the range it wrote to `offsets/N`;
/// [`Source::commit`] once `commits/N` is written.
///
/// ```
/// use std::sync::Arc;
/// use arrow_array::{Int64Array, RecordBatch};
/// use arrow_schema::{DataType, Field, Schema, SchemaRef};
/// use stream_core::{Offset, ReadLimit, Result, Source};
///
/// /// Ten rows, one offset per row.
/// struct Counter { schema: SchemaRef }
///
/// impl Source for Counter {
///     fn description(&self) -> String { "Counter".into() }
///     fn schema(&self) -> SchemaRef { self.schema.clone() }
///     fn latest_offset(&mut self, start: Option<&Offset>, _limit: ReadLimit) -> Result<Option<Offset>> {
///         let _ = start;
///         Offset::from_value(&10u64).map(Some)
///     }
///     fn read(&mut self, start: Option<&Offset>, end: &Offset) -> Result<Vec<RecordBatch>> {
///         let from = start.map(|o| o.to_value::<i64>()).transpose()?.unwrap_or(0);
///         let to: i64 = end.to_value()?;
///         let col = Int64Array::from_iter_values(from..to);
///         Ok(vec![RecordBatch::try_new(self.schema.clone(), vec![Arc::new(col)])?])
///     }
/// }
///
/// let schema = Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, false)]));
/// let mut s = Counter { schema };
/// let end = s.latest_offset(None, ReadLimit::All).unwrap().unwrap();
/// assert_eq!(s.read(None, &end).unwrap()[0].num_rows(), 10);
/// ```
pub trait Source: Send {
    /// A short description for progress records, like Spark's (`FileStreamSource[...]`).
    fn description(&self) -> String;

    /// The schema of every batch [`Source::read`] returns.
    fn schema(&self) -> SchemaRef;

    /// Called once before anything else, with the source's checkpoint folder.
    fn open(&mut self, ctx: &SourceContext) -> Result<()> {
        let _ = ctx;
        Ok(())
    }

    /// The limit the source applies per trigger when the query does not override it
    /// (from options such as `max_files_per_trigger`).
    fn default_read_limit(&self) -> ReadLimit {
        ReadLimit::All
    }

    /// For `Trigger::AvailableNow`: fix the end of what is available now, so that the
    /// query stops there even if more data arrives while it runs.
    fn prepare_for_available_now(&mut self) -> Result<()> {
        Ok(())
    }

    /// The newest offset, at most `limit` past `start` (the end of the last planned
    /// batch, `None` before the first). `None` means the source has no data at all yet.
    /// Returning `start` again means nothing new.
    fn latest_offset(&mut self, start: Option<&Offset>, limit: ReadLimit)
    -> Result<Option<Offset>>;

    /// The rows in `(start, end]`. Must return the same rows every time it is called with
    /// the same range, also in a new process.
    fn read(&mut self, start: Option<&Offset>, end: &Offset) -> Result<Vec<RecordBatch>>;

    /// Source-specific metrics of the last [`Source::read`], for the `metrics` map of
    /// the source's progress record (Spark's `SourceProgress.metrics`). The engine asks
    /// right after each read; a source not read in a batch reports no metrics for it.
    ///
    /// ```
    /// use stream_core::{MemoryStream, Source};
    /// # let schema = std::sync::Arc::new(arrow_schema::Schema::empty());
    /// assert!(MemoryStream::new(schema).metrics().is_empty());
    /// ```
    fn metrics(&self) -> BTreeMap<String, String> {
        BTreeMap::new()
    }

    /// Everything up to `end` is committed and will never be asked for again; the source
    /// may clean up.
    fn commit(&mut self, end: &Offset) -> Result<()> {
        let _ = end;
        Ok(())
    }

    /// The query is stopping.
    fn stop(&mut self) {}
}
