//! Queries whose output rows have a Rust type: `stream!` blocks name their output row
//! struct, so a test (or a user) collects the memory sink's rows as `Vec<Row>`.

use std::fmt;
use std::marker::PhantomData;
use std::ops::Deref;

use super::StreamingQuery;
use crate::sink::MemoryTable;
use crate::types::TypedRow;
use crate::{Result, StreamError};

/// The output row type of a [`crate::QueryBuilder`]: [`Untyped`] for a builder put
/// together by hand, or a [`TypedRow`] struct (what `stream!` sets: a struct generated
/// from the output columns, or the block's schema struct when the output has exactly its
/// columns). It decides what `start()` returns.
pub trait OutputRow {
    /// What `start()` returns: [`StreamingQuery`] or [`TypedQuery`].
    type Query: AsRef<StreamingQuery>;

    /// Wraps a started query; `table` is the memory sink's table, if the sink is one.
    fn query(query: StreamingQuery, table: Option<MemoryTable>) -> Self::Query;
}

/// No row type: `start()` returns a plain [`StreamingQuery`].
#[derive(Clone, Copy, Debug, Default)]
pub struct Untyped;

impl OutputRow for Untyped {
    type Query = StreamingQuery;

    fn query(query: StreamingQuery, _: Option<MemoryTable>) -> StreamingQuery {
        query
    }
}

impl<R: TypedRow> OutputRow for R {
    type Query = TypedQuery<R>;

    fn query(query: StreamingQuery, table: Option<MemoryTable>) -> TypedQuery<R> {
        TypedQuery {
            query,
            table,
            row: PhantomData,
        }
    }
}

/// A running query whose output rows are `R`: a [`StreamingQuery`] (it derefs to one)
/// that also reads the memory sink's table as `Vec<R>`.
///
/// ```
/// use stream_core::{MemoryStream, Schema, stream};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> stream_core::Result<()> {
/// #[derive(Schema)]
/// struct Reading { sensor: String, celsius: f64 }
///
/// let readings = MemoryStream::of::<Reading>();
/// let query = stream! {
///     schema Reading = Reading;
///     read(memory, stream = {readings}, schema = Reading)
///         .filter(celsius > 30.0)
///         .select(sensor, celsius * 1.8 + 32.0 as fahrenheit)
///         .write(memory, name = "doc_typed_query_hot")
/// }
/// .start()?;
/// readings.add_rows(&[
///     Reading { sensor: "a".into(), celsius: 35.0 },
///     Reading { sensor: "b".into(), celsius: 20.0 },
/// ])?;
/// query.process_all_available().await.unwrap();
/// let rows = query.rows()?; // a Vec of the generated row struct
/// assert_eq!(rows.len(), 1);
/// assert_eq!(rows[0].sensor, "a");
/// assert_eq!(rows[0].fahrenheit, 95.0);
/// query.stop().await;
/// # Ok(()) }
/// ```
pub struct TypedQuery<R> {
    query: StreamingQuery,
    table: Option<MemoryTable>,
    row: PhantomData<fn() -> R>,
}

impl<R: TypedRow> TypedQuery<R> {
    /// The rows of the memory sink's table, in batch order: every row written so far in
    /// append mode, the last result table in complete mode.
    ///
    /// An error if the query writes to another sink, or if a row does not fit `R`.
    pub fn rows(&self) -> Result<Vec<R>> {
        let table = self.table.as_ref().ok_or_else(|| {
            StreamError::InvalidQuery(
                "`rows()` reads the memory sink's table, and this query writes to another sink; write with `.write(memory, name = \"..\")`"
                    .to_string(),
            )
        })?;
        R::from_batches(&table.batches())
    }

    /// The query without its row type.
    pub fn into_untyped(self) -> StreamingQuery {
        self.query
    }
}

impl<R> Deref for TypedQuery<R> {
    type Target = StreamingQuery;

    fn deref(&self) -> &StreamingQuery {
        &self.query
    }
}

impl<R> AsRef<StreamingQuery> for TypedQuery<R> {
    fn as_ref(&self) -> &StreamingQuery {
        &self.query
    }
}

impl AsRef<StreamingQuery> for StreamingQuery {
    fn as_ref(&self) -> &StreamingQuery {
        self
    }
}

impl<R> Clone for TypedQuery<R> {
    fn clone(&self) -> Self {
        TypedQuery {
            query: self.query.clone(),
            table: self.table.clone(),
            row: PhantomData,
        }
    }
}

impl<R> fmt::Debug for TypedQuery<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TypedQuery")
            .field("query", &self.query)
            .field("row", &std::any::type_name::<R>())
            .finish()
    }
}
