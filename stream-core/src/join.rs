//! Stream–static joins: [`StaticTable`], the rows a `stream!` block joins each batch
//! with, and [`JoinTable`], its hash index, built once when the first batch needs it.

use std::hash::Hash;
use std::sync::{Arc, OnceLock};

use arrow_array::{Array, ArrayRef, RecordBatch, UInt32Array};
use arrow_buffer::NullBuffer;
use arrow_schema::SchemaRef;

use crate::hash::FastHashMap;
use crate::types::TypedRow;
use crate::{Result, StreamError};

/// The static side of a stream–static join: record batches held in memory, captured in a
/// `stream!` block by `.join({table}, schema = Region, on = country)`.
///
/// Its columns are matched to the block's schema by name when the first batch is joined:
/// a missing column, a column of another type or a null in a column the schema declares
/// not nullable stops the query with an error that names the column.
///
/// ```
/// use stream_core::{Schema, StaticTable};
///
/// #[derive(Schema, Clone)]
/// struct Region {
///     country: String,
///     region: String,
/// }
///
/// let table = StaticTable::from_rows(&[
///     Region { country: "DE".into(), region: "EU".into() },
///     Region { country: "JP".into(), region: "APAC".into() },
/// ])?;
/// assert_eq!(table.num_rows(), 2);
/// # Ok::<(), stream_core::StreamError>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct StaticTable {
    batches: Vec<RecordBatch>,
}

impl StaticTable {
    /// A table of `batches` (of one schema).
    pub fn new(batches: Vec<RecordBatch>) -> Self {
        StaticTable { batches }
    }

    /// A table of typed rows (a struct with `#[derive(Schema)]`).
    pub fn from_rows<R: TypedRow>(rows: &[R]) -> Result<Self> {
        Ok(StaticTable::new(vec![R::to_batch(rows)?]))
    }

    /// The number of rows.
    pub fn num_rows(&self) -> usize {
        self.batches.iter().map(RecordBatch::num_rows).sum()
    }
}

impl From<Vec<RecordBatch>> for StaticTable {
    fn from(batches: Vec<RecordBatch>) -> Self {
        StaticTable::new(batches)
    }
}

impl From<RecordBatch> for StaticTable {
    fn from(batch: RecordBatch) -> Self {
        StaticTable::new(vec![batch])
    }
}

/// A [`StaticTable`] with a hash index on its join key `K` (a key struct `stream!`
/// generates), built on first use and shared by every task. Not a stable API.
#[doc(hidden)]
pub struct JoinTable<K> {
    table: TableData,
    /// The table's columns as the block declares them.
    schema: SchemaRef,
    index: OnceLock<std::result::Result<Arc<JoinIndex<K>>, String>>,
}

/// Where a join's table comes from: rows given by the program, or files read once, when
/// the query starts (`join(read(parquet, path = .., schema = ..), ..)`).
enum TableData {
    Given(StaticTable),
    File {
        source: Box<crate::FileSource>,
        read: OnceLock<StaticTable>,
    },
}

/// The rows of a static table, checked against the block's schema, and the rows of each
/// key. A row whose key has a null part matches nothing and is not in `rows_of`.
pub struct JoinIndex<K> {
    right: RecordBatch,
    rows_of: FastHashMap<K, Vec<u32>>,
}

impl<K: Eq + Hash> JoinTable<K> {
    /// The table, to be checked against `schema` (the block's declaration of it).
    pub fn new(table: StaticTable, schema: SchemaRef) -> Self {
        JoinTable {
            table: TableData::Given(table),
            schema,
            index: OnceLock::new(),
        }
    }

    /// The table of the files `source` covers (a file, a folder, a glob), read once with
    /// the source's format, options and schema (`schema`, the block's declaration of
    /// it): by [`JoinTable::load`] when the query starts, or else by the first batch.
    pub fn from_file(source: crate::FileSource, schema: SchemaRef) -> Self {
        JoinTable {
            table: TableData::File {
                source: Box::new(source),
                read: OnceLock::new(),
            },
            schema,
            index: OnceLock::new(),
        }
    }

    /// Reads a table of files now, if it has not been read: a file that cannot be read
    /// or does not hold the schema's columns is an error naming the file and the
    /// column. A table given as rows has nothing to read.
    pub fn load(&self) -> Result<()> {
        self.table().map(|_| ())
    }

    fn table(&self) -> Result<&StaticTable> {
        match &self.table {
            TableData::Given(table) => Ok(table),
            TableData::File { source, read } => {
                if let Some(table) = read.get() {
                    return Ok(table);
                }
                let read_files = StaticTable::new(source.read_all()?);
                // checked here, where the files are known; kept as the one conformed
                // batch, so that the index's conform of it copies nothing
                let checked = conform(&read_files, &self.schema).map_err(|e| match e {
                    StreamError::SchemaMismatch { context, message } => {
                        StreamError::SchemaMismatch {
                            context: format!(
                                "{context} of the static table `{}`",
                                source.path().display()
                            ),
                            message,
                        }
                    }
                    other => other,
                })?;
                Ok(read.get_or_init(|| StaticTable::from(checked)))
            }
        }
    }

    /// The index, built on the first call: `keys` gives the key of each row of the
    /// checked table, `key_columns` are the key's columns in it.
    pub fn index(
        &self,
        key_columns: &[usize],
        keys: impl FnOnce(&RecordBatch) -> Result<Vec<K>>,
    ) -> Result<Arc<JoinIndex<K>>> {
        self.index
            .get_or_init(|| {
                self.build(key_columns, keys)
                    .map(Arc::new)
                    .map_err(|e| e.to_string())
            })
            .clone()
            .map_err(|message| StreamError::SchemaMismatch {
                context: "the static table of a join".into(),
                message,
            })
    }

    fn build(
        &self,
        key_columns: &[usize],
        keys: impl FnOnce(&RecordBatch) -> Result<Vec<K>>,
    ) -> Result<JoinIndex<K>> {
        let right = conform(self.table()?, &self.schema)?;
        let mut rows_of: FastHashMap<K, Vec<u32>> = FastHashMap::default();
        let complete = all_valid(&right, key_columns);
        for (row, key) in keys(&right)?.into_iter().enumerate() {
            if complete.as_ref().is_none_or(|c| c[row]) {
                rows_of.entry(key).or_default().push(row as u32);
            }
        }
        Ok(JoinIndex { right, rows_of })
    }
}

impl<K: Eq + Hash> JoinIndex<K> {
    /// The table rows whose key is `key`.
    #[inline]
    pub fn rows(&self, key: &K) -> &[u32] {
        self.rows_of.get(key).map_or(&[], Vec::as_slice)
    }

    /// `left` joined with the table: each left row once per matching table row (and, for
    /// a left outer join, once with nulls when none matches), as `left`'s columns
    /// `left_columns` then the table's columns `right_columns`, in the schema `output`
    /// (only the columns the pipeline reads after the join are taken). `rows_of(i)`
    /// gives the table rows of left row `i`; it is asked only for rows whose key columns
    /// (`key_columns` in `left`) are all set, since a null key matches nothing.
    #[allow(clippy::too_many_arguments)]
    pub fn probe_with<'a>(
        &'a self,
        left: &RecordBatch,
        key_columns: &[usize],
        left_outer: bool,
        left_columns: &[usize],
        right_columns: &[usize],
        output: &SchemaRef,
        mut rows_of: impl FnMut(usize) -> Result<&'a [u32]>,
    ) -> Result<RecordBatch> {
        let rows = left.num_rows();
        let complete = all_valid(left, key_columns);
        let mut left_rows: Vec<u32> = Vec::with_capacity(rows);
        let mut right_rows: Vec<u32> = Vec::with_capacity(rows);
        // which table rows are set: kept only from the first left row without a match of
        // a left outer join, so that an inner join's indices have no null buffer
        let mut right_set: Option<Vec<bool>> = None;
        for row in 0..rows {
            let set = complete.as_ref().is_none_or(|c| c[row]);
            let matches = if set { rows_of(row)? } else { &[] };
            if matches.is_empty() {
                if left_outer {
                    right_set
                        .get_or_insert_with(|| {
                            let mut v = Vec::with_capacity(rows);
                            v.resize(right_rows.len(), true);
                            v
                        })
                        .push(false);
                    left_rows.push(row as u32);
                    right_rows.push(0);
                }
                continue;
            }
            for &r in matches {
                left_rows.push(row as u32);
                right_rows.push(r);
            }
            if let Some(v) = &mut right_set {
                v.resize(right_rows.len(), true);
            }
        }
        let left_rows = UInt32Array::from(left_rows);
        let right_rows = UInt32Array::new(right_rows.into(), right_set.map(NullBuffer::from));
        let mut columns: Vec<ArrayRef> = Vec::with_capacity(output.fields().len());
        for &c in left_columns {
            columns.push(arrow_select::take::take(left.column(c), &left_rows, None)?);
        }
        for &c in right_columns {
            columns.push(arrow_select::take::take(
                self.right.column(c),
                &right_rows,
                None,
            )?);
        }
        let options = arrow_array::RecordBatchOptions::new().with_row_count(Some(left_rows.len()));
        Ok(RecordBatch::try_new_with_options(
            output.clone(),
            columns,
            &options,
        )?)
    }
}

/// Whether every key column of each row is set; `None` when no key column has a null
/// (every row's key is complete).
fn all_valid(batch: &RecordBatch, key_columns: &[usize]) -> Option<Vec<bool>> {
    let mut valid: Option<Vec<bool>> = None;
    for &c in key_columns {
        let column = batch.column(c);
        if column.null_count() > 0 {
            let valid = valid.get_or_insert_with(|| vec![true; batch.num_rows()]);
            for (row, v) in valid.iter_mut().enumerate() {
                *v &= column.is_valid(row);
            }
        }
    }
    valid
}

/// The table as one batch of `schema`: its columns by name, of the declared types.
fn conform(table: &StaticTable, schema: &SchemaRef) -> Result<RecordBatch> {
    let mut columns = Vec::with_capacity(schema.fields().len());
    for field in schema.fields() {
        let mut parts: Vec<ArrayRef> = Vec::with_capacity(table.batches.len());
        for batch in &table.batches {
            let column =
                batch
                    .column_by_name(field.name())
                    .ok_or_else(|| StreamError::SchemaMismatch {
                        context: format!("column `{}`", field.name()),
                        message: "the static table has no such column".into(),
                    })?;
            if column.data_type() != field.data_type() {
                return Err(StreamError::SchemaMismatch {
                    context: format!("column `{}`", field.name()),
                    message: format!(
                        "the schema declares {} but the static table holds {}",
                        field.data_type(),
                        column.data_type()
                    ),
                });
            }
            if !field.is_nullable() && column.null_count() > 0 {
                return Err(StreamError::SchemaMismatch {
                    context: format!("column `{}`", field.name()),
                    message: "the static table holds nulls, but the schema declares the \
                              column not nullable"
                        .into(),
                });
            }
            parts.push(column.clone());
        }
        let refs: Vec<&dyn Array> = parts.iter().map(|a| a.as_ref()).collect();
        columns.push(if refs.is_empty() {
            arrow_array::new_empty_array(field.data_type())
        } else {
            arrow_select::concat::concat(&refs)?
        });
    }
    let options = arrow_array::RecordBatchOptions::new().with_row_count(Some(table.num_rows()));
    Ok(RecordBatch::try_new_with_options(
        schema.clone(),
        columns,
        &options,
    )?)
}

#[cfg(test)]
mod tests {
    use arrow_array::{Int64Array, StringArray};
    use arrow_schema::{DataType, Field, Schema};

    use super::*;

    fn schema() -> SchemaRef {
        Arc::new(Schema::new(vec![
            Field::new("k", DataType::Int64, true),
            Field::new("v", DataType::Utf8, true),
        ]))
    }

    fn keys(batch: &RecordBatch, column: usize) -> Vec<Option<i64>> {
        let array = batch
            .column(column)
            .as_any()
            .downcast_ref::<Int64Array>()
            .unwrap();
        array.iter().collect()
    }

    #[test]
    fn rows_match_by_key_and_null_keys_match_nothing() {
        let right = RecordBatch::try_new(
            schema(),
            vec![
                Arc::new(Int64Array::from(vec![Some(1), Some(2), Some(1), None])),
                Arc::new(StringArray::from(vec!["a", "b", "c", "null key"])),
            ],
        )
        .unwrap();
        let table = JoinTable::new(StaticTable::from(right), schema());
        let index = table.index(&[0], |b| Ok(keys(b, 0))).unwrap();
        let left = RecordBatch::try_from_iter([(
            "k",
            Arc::new(Int64Array::from(vec![Some(1), Some(3), None, Some(2)])) as ArrayRef,
        )])
        .unwrap();
        let output = Arc::new(Schema::new(vec![
            Field::new("k", DataType::Int64, true),
            Field::new("v", DataType::Utf8, true),
        ]));
        let left_keys = keys(&left, 0);
        let probe = |left_outer| {
            index
                .probe_with(&left, &[0], left_outer, &[0], &[1], &output, |i| {
                    Ok(index.rows(&left_keys[i]))
                })
                .unwrap()
        };
        let inner = probe(false);
        let pairs = |b: &RecordBatch| -> Vec<(Option<i64>, Option<String>)> {
            let v = b.column(1).as_any().downcast_ref::<StringArray>().unwrap();
            keys(b, 0)
                .into_iter()
                .zip(v.iter().map(|s| s.map(String::from)))
                .collect()
        };
        assert_eq!(
            pairs(&inner),
            [
                (Some(1), Some("a".into())),
                (Some(1), Some("c".into())),
                (Some(2), Some("b".into()))
            ]
        );
        let outer = probe(true);
        assert_eq!(
            pairs(&outer),
            [
                (Some(1), Some("a".into())),
                (Some(1), Some("c".into())),
                (Some(3), None),
                (None, None),
                (Some(2), Some("b".into()))
            ]
        );
    }

    #[test]
    fn only_the_columns_asked_for_are_taken() {
        let right = RecordBatch::try_new(
            schema(),
            vec![
                Arc::new(Int64Array::from(vec![1, 2])),
                Arc::new(StringArray::from(vec!["a", "b"])),
            ],
        )
        .unwrap();
        let table = JoinTable::new(StaticTable::from(right), schema());
        let index = table.index(&[0], |b| Ok(keys(b, 0))).unwrap();
        let left = RecordBatch::try_from_iter([
            (
                "x",
                Arc::new(StringArray::from(vec!["p", "q", "r"])) as ArrayRef,
            ),
            (
                "k",
                Arc::new(Int64Array::from(vec![Some(2), None, Some(1)])) as ArrayRef,
            ),
        ])
        .unwrap();
        let left_keys = keys(&left, 1);
        // the stream's key is not taken; its `x` and the table's `v` are
        let output = Arc::new(Schema::new(vec![
            Field::new("x", DataType::Utf8, false),
            Field::new("v", DataType::Utf8, true),
        ]));
        let out = index
            .probe_with(&left, &[1], true, &[0], &[1], &output, |i| {
                Ok(index.rows(&left_keys[i]))
            })
            .unwrap();
        let text = |c: usize| -> Vec<Option<String>> {
            let a = out
                .column(c)
                .as_any()
                .downcast_ref::<StringArray>()
                .unwrap();
            a.iter().map(|s| s.map(String::from)).collect()
        };
        assert_eq!(out.num_columns(), 2);
        assert_eq!(
            text(0),
            [Some("p".into()), Some("q".into()), Some("r".into())]
        );
        assert_eq!(text(1), [Some("b".into()), None, Some("a".into())]);
        // no column at all: the rows are still counted (an inner join drops the null key)
        let none = Arc::new(Schema::empty());
        let out = index
            .probe_with(&left, &[1], false, &[], &[], &none, |i| {
                Ok(index.rows(&left_keys[i]))
            })
            .unwrap();
        assert_eq!((out.num_columns(), out.num_rows()), (0, 2));
    }

    #[test]
    fn a_table_that_does_not_fit_its_schema_names_the_column() {
        let wrong =
            RecordBatch::try_from_iter([("k", Arc::new(StringArray::from(vec!["1"])) as ArrayRef)])
                .unwrap();
        let table: JoinTable<Option<i64>> = JoinTable::new(StaticTable::from(wrong), schema());
        let error = table.index(&[0], |_| Ok(Vec::new())).err().unwrap();
        assert!(error.to_string().contains("`k`"), "{error}");
        // the error stays: every later batch gets it too
        assert!(table.index(&[0], |_| Ok(Vec::new())).is_err());
    }
}
