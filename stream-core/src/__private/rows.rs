//! What the code of `map` / `flat_map` and of a failed `stream!` block needs at run time.
//! Reached through `__private`; not a stable API.

use arrow_array::RecordBatch;
use arrow_schema::{Schema, SchemaRef};

use crate::Result;
use crate::types::TypedRow;

/// A `flat_map` function: a closure or fn from a row to an iterator of rows. Named as a
/// trait so that a pipeline struct can hold one without naming the iterator's type.
pub trait FlatMapFn<In, Out>: Send + Sync + 'static {
    /// Appends the rows `row` maps to onto `out`.
    fn call_into(&self, row: In, out: &mut Vec<Out>);
}

impl<F, I, In, Out> FlatMapFn<In, Out> for F
where
    F: Fn(In) -> I + Send + Sync + 'static,
    I: IntoIterator<Item = Out>,
{
    #[inline]
    fn call_into(&self, row: In, out: &mut Vec<Out>) {
        out.extend(self(row));
    }
}

/// The output row of the placeholder builder a `stream!` block with errors expands to,
/// so that `rows()` on its query adds no error of its own. Never run: the block's errors
/// stop the build.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PlaceholderRow;

impl TypedRow for PlaceholderRow {
    fn arrow_schema() -> SchemaRef {
        std::sync::Arc::new(Schema::empty())
    }

    fn to_batch(rows: &[Self]) -> Result<RecordBatch> {
        let options = arrow_array::RecordBatchOptions::new().with_row_count(Some(rows.len()));
        Ok(RecordBatch::try_new_with_options(
            Self::arrow_schema(),
            Vec::new(),
            &options,
        )?)
    }

    fn from_batch(batch: &RecordBatch) -> Result<Vec<Self>> {
        Ok(vec![PlaceholderRow; batch.num_rows()])
    }
}

impl crate::state::StateBytes for PlaceholderRow {
    fn write_bytes(&self, _: &mut Vec<u8>) {}
    fn read_bytes(_: &mut &[u8]) -> Result<Self> {
        Ok(PlaceholderRow)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(f: &impl FlatMapFn<String, String>, line: &str) -> Vec<String> {
        let mut out = Vec::new();
        f.call_into(line.to_string(), &mut out);
        out
    }

    #[test]
    fn a_closure_returning_any_iterator_is_a_flat_map_fn() {
        let split = |line: String| line.split(' ').map(str::to_string).collect::<Vec<String>>();
        assert_eq!(words(&split, "a b"), ["a", "b"]);
        let none = |_: String| None::<String>;
        assert!(words(&none, "a b").is_empty());
    }

    #[test]
    fn placeholder_rows_round_trip_their_count() {
        let batch = PlaceholderRow::to_batch(&[PlaceholderRow; 3]).unwrap();
        assert_eq!(batch.num_rows(), 3);
        assert_eq!(PlaceholderRow::from_batch(&batch).unwrap().len(), 3);
    }
}
