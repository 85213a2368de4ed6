//! [`MemoryStream`]: a source that tests push record batches into while a query runs
//! (Spark's `MemoryStream`).

use std::sync::{Arc, Mutex, MutexGuard};

use arrow_array::RecordBatch;
use arrow_schema::{Schema, SchemaRef};

use super::{ReadLimit, Source};
use crate::types::TypedRow;
use crate::{Offset, Result, StreamError};

/// An in-memory, replayable source: a cheaply clonable handle that tests push batches
/// into while a query runs.
///
/// Every clone shares the same batches, so a test keeps one clone and hands another to
/// the query. Nothing is ever dropped (not even after [`Source::commit`]), so any range
/// can be read again, as after a restart.
///
/// The offset is the number of batches added so far, as a JSON number: the range
/// `(start, end]` holds the batches with index `start..end`. Empty batches are not
/// recorded (adding one returns the current offset), so every offset step carries rows.
/// The stream has no per-trigger limit: [`ReadLimit`]s are ignored.
///
/// ```
/// use std::sync::Arc;
/// use arrow_array::{Int64Array, RecordBatch};
/// use arrow_schema::{DataType, Field, Schema};
/// use stream_core::{MemoryStream, ReadLimit, Source};
///
/// let schema = Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, false)]));
/// let input = MemoryStream::new(schema.clone());
/// let batch = RecordBatch::try_new(schema, vec![Arc::new(Int64Array::from(vec![1, 2]))]).unwrap();
/// assert_eq!(input.add_batch(batch).unwrap(), 1);
///
/// let mut source = input.clone();
/// let end = source.latest_offset(None, ReadLimit::All).unwrap().unwrap();
/// assert_eq!(source.read(None, &end).unwrap()[0].num_rows(), 2);
/// ```
#[derive(Clone)]
pub struct MemoryStream {
    schema: SchemaRef,
    batches: Arc<Mutex<Vec<RecordBatch>>>,
}

impl std::fmt::Debug for MemoryStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryStream")
            .field("schema", &self.schema)
            .field("batches", &self.len())
            .finish()
    }
}

impl MemoryStream {
    /// A new, empty stream whose batches have `schema`.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arrow_schema::{DataType, Field, Schema};
    /// use stream_core::MemoryStream;
    ///
    /// let schema = Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, false)]));
    /// assert!(MemoryStream::new(schema).is_empty());
    /// ```
    pub fn new(schema: SchemaRef) -> Self {
        MemoryStream {
            schema,
            batches: Arc::new(Mutex::new(Vec::new())),
        }
    }

    /// A new, empty stream of `T`'s rows (`T` a `#[derive(Schema)]` struct).
    ///
    /// ```
    /// use stream_core::{MemoryStream, Schema};
    ///
    /// #[derive(Schema)]
    /// struct Click { user: String }
    ///
    /// let clicks = MemoryStream::of::<Click>();
    /// clicks.add_rows(&[Click { user: "ann".into() }]).unwrap();
    /// assert_eq!(clicks.len(), 1);
    /// ```
    pub fn of<T: TypedRow>() -> Self {
        MemoryStream::new(T::arrow_schema())
    }

    /// Appends `rows` as one batch and returns the new offset (see
    /// [`MemoryStream::add_batch`]).
    pub fn add_rows<T: TypedRow>(&self, rows: &[T]) -> Result<u64> {
        self.add_batch(T::to_batch(rows)?)
    }

    /// Appends `batch` and returns the new offset (the number of batches held).
    ///
    /// The batch's fields must equal the stream's: same names, types and nullability, in
    /// the same order; otherwise [`StreamError::SchemaMismatch`] names the first column
    /// that differs. Schema metadata is not compared; the stored batch carries the
    /// stream's schema. An empty batch is not recorded: the current offset is returned.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arrow_array::{Int32Array, Int64Array, RecordBatch};
    /// use arrow_schema::{DataType, Field, Schema};
    /// use stream_core::MemoryStream;
    ///
    /// let schema = Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, false)]));
    /// let input = MemoryStream::new(schema.clone());
    /// let good = RecordBatch::try_new(schema, vec![Arc::new(Int64Array::from(vec![1]))]).unwrap();
    /// assert_eq!(input.add_batch(good).unwrap(), 1);
    ///
    /// let other = Arc::new(Schema::new(vec![Field::new("n", DataType::Int32, false)]));
    /// let bad = RecordBatch::try_new(other, vec![Arc::new(Int32Array::from(vec![1]))]).unwrap();
    /// assert!(input.add_batch(bad).unwrap_err().to_string().contains("`n`"));
    /// ```
    pub fn add_batch(&self, batch: RecordBatch) -> Result<u64> {
        check_fields(&self.schema, batch.schema_ref(), &self.description())?;
        let batch = RecordBatch::try_new(self.schema.clone(), batch.columns().to_vec())
            .map_err(|e| self.mismatch(e.to_string()))?;
        Ok(self.push(vec![batch]))
    }

    /// Decodes newline-delimited JSON rows against the stream's schema and appends them
    /// as one batch; returns the new offset.
    ///
    /// Either every row is added or none: a row that does not decode is a
    /// [`StreamError::MalformedRecord`] naming its 1-based line (the `path` is the
    /// stream's description). Text without rows is not recorded.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arrow_schema::{DataType, Field, Schema};
    /// use stream_core::{MemoryStream, StreamError};
    ///
    /// let schema = Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, false)]));
    /// let input = MemoryStream::new(schema);
    /// assert_eq!(input.add_json("{\"n\": 1}\n{\"n\": 2}\n").unwrap(), 1);
    /// match input.add_json("{\"n\": 3}\n{\"n\": \"x\"}") {
    ///     Err(StreamError::MalformedRecord { line, .. }) => assert_eq!(line, 2),
    ///     other => panic!("unexpected {other:?}"),
    /// }
    /// assert_eq!(input.len(), 1);
    /// ```
    #[cfg(feature = "json")]
    pub fn add_json(&self, ndjson: &str) -> Result<u64> {
        let bytes = ndjson.as_bytes();
        let batches = match super::json_files::decode_all(&self.schema, bytes) {
            Ok(batches) => batches,
            Err(e) => return Err(self.malformed(bytes, e)),
        };
        let batch = arrow_select::concat::concat_batches(&self.schema, &batches)?;
        Ok(self.push(vec![batch]))
    }

    /// The number of batches added (empty ones are not counted).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arrow_array::{Int64Array, RecordBatch};
    /// use arrow_schema::{DataType, Field, Schema};
    /// use stream_core::MemoryStream;
    ///
    /// let schema = Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, false)]));
    /// let input = MemoryStream::new(schema.clone());
    /// input.add_batch(RecordBatch::new_empty(schema.clone())).unwrap();
    /// input.add_batch(RecordBatch::try_new(schema, vec![Arc::new(Int64Array::from(vec![7]))]).unwrap()).unwrap();
    /// assert_eq!(input.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// True while no (non-empty) batch has been added.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arrow_schema::{DataType, Field, Schema};
    /// use stream_core::MemoryStream;
    ///
    /// let schema = Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, false)]));
    /// assert!(MemoryStream::new(schema).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    fn lock(&self) -> MutexGuard<'_, Vec<RecordBatch>> {
        self.batches.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Appends the non-empty batches and returns the new count.
    fn push(&self, batches: Vec<RecordBatch>) -> u64 {
        let mut held = self.lock();
        held.extend(batches.into_iter().filter(|b| b.num_rows() > 0));
        held.len() as u64
    }

    fn mismatch(&self, message: String) -> StreamError {
        StreamError::SchemaMismatch {
            context: self.description(),
            message,
        }
    }

    #[cfg(feature = "json")]
    fn malformed(&self, bytes: &[u8], error: arrow_schema::ArrowError) -> StreamError {
        match super::json_files::find_bad_record(&self.schema, bytes) {
            Some(bad) => StreamError::MalformedRecord {
                path: self.description().into(),
                line: bad.line,
                message: bad.message,
            },
            None => self.source_error(format!("rows cannot be decoded: {error}")),
        }
    }

    fn source_error(&self, message: String) -> StreamError {
        StreamError::Source {
            source_name: self.description(),
            message,
        }
    }

    /// Reads an offset written by [`MemoryStream::latest_offset`].
    fn position(&self, offset: &Offset) -> Result<usize> {
        let n: u64 = offset.to_value().map_err(|_| {
            self.source_error(format!("offset {offset} is not a number of batches"))
        })?;
        usize::try_from(n)
            .map_err(|_| self.source_error(format!("offset {offset} is out of range")))
    }
}

/// Checks that `actual` has the fields of `expected` (names, types, nullability, order).
fn check_fields(expected: &Schema, actual: &Schema, context: &str) -> Result<()> {
    let mismatch = |message: String| StreamError::SchemaMismatch {
        context: context.to_string(),
        message,
    };
    for (i, want) in expected.fields().iter().enumerate() {
        let Some(got) = actual.fields().get(i) else {
            return Err(mismatch(format!(
                "the batch has no column `{}` (it has {} column(s), the stream {})",
                want.name(),
                actual.fields().len(),
                expected.fields().len()
            )));
        };
        if got.name() != want.name() {
            return Err(mismatch(format!(
                "column {i} is `{}` in the batch but `{}` in the stream",
                got.name(),
                want.name()
            )));
        }
        if got.data_type() != want.data_type() {
            return Err(mismatch(format!(
                "column `{}` has type {} in the batch but {} in the stream",
                want.name(),
                got.data_type(),
                want.data_type()
            )));
        }
        if got.is_nullable() != want.is_nullable() {
            let null = |n: bool| if n { "nullable" } else { "not null" };
            return Err(mismatch(format!(
                "column `{}` is {} in the batch but {} in the stream",
                want.name(),
                null(got.is_nullable()),
                null(want.is_nullable())
            )));
        }
    }
    if let Some(extra) = actual.fields().get(expected.fields().len()) {
        return Err(mismatch(format!(
            "the batch has an extra column `{}` that the stream does not have",
            extra.name()
        )));
    }
    Ok(())
}

impl Source for MemoryStream {
    fn description(&self) -> String {
        let names: Vec<&str> = self
            .schema
            .fields()
            .iter()
            .map(|f| f.name().as_str())
            .collect();
        format!("MemoryStream[{}]", names.join(","))
    }

    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn latest_offset(
        &mut self,
        _start: Option<&Offset>,
        _limit: ReadLimit,
    ) -> Result<Option<Offset>> {
        match self.len() {
            0 => Ok(None),
            n => Offset::from_value(&(n as u64)).map(Some),
        }
    }

    fn read(&mut self, start: Option<&Offset>, end: &Offset) -> Result<Vec<RecordBatch>> {
        let from = start.map(|s| self.position(s)).transpose()?.unwrap_or(0);
        let to = self.position(end)?;
        let held = self.lock();
        if to > held.len() {
            return Err(self.source_error(format!(
                "offset {to} is beyond the {} batch(es) added",
                held.len()
            )));
        }
        if from > to {
            return Err(self.source_error(format!("start offset {from} is after end offset {to}")));
        }
        Ok(held[from..to].to_vec())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::cast::AsArray;
    use arrow_array::types::Int64Type;
    use arrow_array::{ArrayRef, Int64Array, StringArray};
    use arrow_schema::{DataType, Field};

    use super::*;

    fn schema() -> SchemaRef {
        Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int64, false),
            Field::new("name", DataType::Utf8, true),
        ]))
    }

    fn batch(ids: &[i64]) -> RecordBatch {
        let names: Vec<String> = ids.iter().map(|i| format!("n{i}")).collect();
        let cols: Vec<ArrayRef> = vec![
            Arc::new(Int64Array::from(ids.to_vec())),
            Arc::new(StringArray::from(names)),
        ];
        RecordBatch::try_new(schema(), cols).unwrap()
    }

    fn ids(batches: &[RecordBatch]) -> Vec<i64> {
        batches
            .iter()
            .flat_map(|b| b.column(0).as_primitive::<Int64Type>().values().to_vec())
            .collect()
    }

    fn offset(n: u64) -> Offset {
        Offset::from_value(&n).unwrap()
    }

    #[test]
    fn latest_offset_is_none_while_empty_then_counts_batches() {
        let mut s = MemoryStream::new(schema());
        assert_eq!(s.latest_offset(None, ReadLimit::All).unwrap(), None);
        assert_eq!(s.add_batch(batch(&[1])).unwrap(), 1);
        assert_eq!(s.add_batch(batch(&[2, 3])).unwrap(), 2);
        let end = s.latest_offset(None, ReadLimit::All).unwrap().unwrap();
        assert_eq!(end.json(), "2");
    }

    #[test]
    fn read_returns_batches_after_start_up_to_end() {
        let mut s = MemoryStream::new(schema());
        for i in 0..4 {
            s.add_batch(batch(&[i * 10, i * 10 + 1])).unwrap();
        }
        assert_eq!(ids(&s.read(None, &offset(1)).unwrap()), vec![0, 1]);
        assert_eq!(
            ids(&s.read(Some(&offset(1)), &offset(3)).unwrap()),
            vec![10, 11, 20, 21]
        );
        assert!(s.read(Some(&offset(4)), &offset(4)).unwrap().is_empty());
    }

    #[test]
    fn reading_twice_gives_the_same_rows() {
        let mut s = MemoryStream::new(schema());
        s.add_batch(batch(&[5, 6])).unwrap();
        s.add_batch(batch(&[7])).unwrap();
        let first = s.read(None, &offset(2)).unwrap();
        s.commit(&offset(2)).unwrap();
        let second = s.read(None, &offset(2)).unwrap();
        assert_eq!(first, second);
    }

    #[test]
    fn end_beyond_what_was_added_is_an_error() {
        let mut s = MemoryStream::new(schema());
        s.add_batch(batch(&[1])).unwrap();
        let err = s.read(None, &offset(2)).unwrap_err();
        assert!(matches!(err, StreamError::Source { .. }), "{err}");
        assert!(err.to_string().contains("MemoryStream[id,name]"), "{err}");
    }

    #[test]
    fn start_after_end_is_an_error() {
        let mut s = MemoryStream::new(schema());
        s.add_batch(batch(&[1])).unwrap();
        s.add_batch(batch(&[2])).unwrap();
        assert!(s.read(Some(&offset(2)), &offset(1)).is_err());
    }

    #[test]
    fn offset_of_another_shape_is_an_error() {
        let mut s = MemoryStream::new(schema());
        s.add_batch(batch(&[1])).unwrap();
        let odd = Offset::from_value(&serde_json::json!({"logOffset": 0})).unwrap();
        assert!(s.read(None, &odd).is_err());
    }

    #[test]
    fn clones_share_the_batches() {
        let s = MemoryStream::new(schema());
        let mut in_query = s.clone();
        s.add_batch(batch(&[1, 2, 3])).unwrap();
        assert_eq!(in_query.len(), 1);
        let end = in_query
            .latest_offset(None, ReadLimit::All)
            .unwrap()
            .unwrap();
        assert_eq!(ids(&in_query.read(None, &end).unwrap()), vec![1, 2, 3]);
    }

    #[test]
    fn empty_batches_are_not_recorded() {
        let s = MemoryStream::new(schema());
        assert_eq!(s.add_batch(RecordBatch::new_empty(schema())).unwrap(), 0);
        s.add_batch(batch(&[1])).unwrap();
        assert_eq!(s.add_batch(batch(&[])).unwrap(), 1);
        assert_eq!(s.len(), 1);
    }

    fn mismatch_message(fields: Vec<Field>, cols: Vec<ArrayRef>) -> String {
        let other = Arc::new(Schema::new(fields));
        let b = RecordBatch::try_new(other, cols).unwrap();
        let s = MemoryStream::new(schema());
        match s.add_batch(b) {
            Err(e @ StreamError::SchemaMismatch { .. }) => {
                assert!(s.is_empty());
                e.to_string()
            }
            other => panic!("expected a schema mismatch, got {other:?}"),
        }
    }

    #[test]
    fn schema_mismatch_names_the_column() {
        let id = || Arc::new(Int64Array::from(vec![1])) as ArrayRef;
        let name = || Arc::new(StringArray::from(vec!["a"])) as ArrayRef;
        let wrong_type = mismatch_message(
            vec![
                Field::new("id", DataType::Int64, false),
                Field::new("name", DataType::Int64, true),
            ],
            vec![id(), id()],
        );
        assert!(wrong_type.contains("`name` has type Int64"), "{wrong_type}");
        let wrong_name = mismatch_message(
            vec![
                Field::new("idx", DataType::Int64, false),
                Field::new("name", DataType::Utf8, true),
            ],
            vec![id(), name()],
        );
        assert!(wrong_name.contains("`idx`"), "{wrong_name}");
        let nullable = mismatch_message(
            vec![
                Field::new("id", DataType::Int64, true),
                Field::new("name", DataType::Utf8, true),
            ],
            vec![id(), name()],
        );
        assert!(nullable.contains("`id` is nullable"), "{nullable}");
        let missing = mismatch_message(vec![Field::new("id", DataType::Int64, false)], vec![id()]);
        assert!(missing.contains("no column `name`"), "{missing}");
    }

    #[test]
    fn stored_batches_carry_the_stream_schema() {
        let mut meta = std::collections::HashMap::new();
        meta.insert("k".to_string(), "v".to_string());
        let with_meta = Arc::new(schema().as_ref().clone().with_metadata(meta));
        let b = RecordBatch::try_new(with_meta, batch(&[1]).columns().to_vec()).unwrap();
        let mut s = MemoryStream::new(schema());
        s.add_batch(b).unwrap();
        let out = s.read(None, &offset(1)).unwrap();
        assert_eq!(out[0].schema(), schema());
    }

    #[test]
    fn description_lists_the_columns() {
        assert_eq!(
            MemoryStream::new(schema()).description(),
            "MemoryStream[id,name]"
        );
    }

    #[cfg(feature = "json")]
    #[test]
    fn add_json_decodes_rows_into_one_batch() {
        let mut s = MemoryStream::new(schema());
        let n = s
            .add_json("{\"id\": 4, \"name\": \"d\"}\n\n{\"id\": 5}\n")
            .unwrap();
        assert_eq!(n, 1);
        let out = s.read(None, &offset(1)).unwrap();
        assert_eq!(out.len(), 1);
        assert_eq!(ids(&out), vec![4, 5]);
        let names = out[0].column(1).as_string::<i32>();
        assert_eq!(names.value(0), "d");
        assert!(arrow_array::Array::is_null(names, 1));
    }

    #[cfg(feature = "json")]
    #[test]
    fn add_json_error_names_the_line_and_adds_nothing() {
        let s = MemoryStream::new(schema());
        let err = s
            .add_json("{\"id\": 1}\n{\"id\": 2}\n{\"id\": true}\n{\"id\": 4}")
            .unwrap_err();
        match &err {
            StreamError::MalformedRecord { line, path, .. } => {
                assert_eq!(*line, 3);
                assert_eq!(path.to_string_lossy(), "MemoryStream[id,name]");
            }
            other => panic!("expected a malformed record, got {other:?}"),
        }
        assert!(s.is_empty());
    }

    #[cfg(feature = "json")]
    #[test]
    fn add_json_without_rows_is_not_recorded() {
        let s = MemoryStream::new(schema());
        assert_eq!(s.add_json("\n  \n").unwrap(), 0);
        assert!(s.is_empty());
    }
}
