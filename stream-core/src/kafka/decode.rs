//! Decoding a Kafka record's `value` as JSON into declared columns, with the file
//! source's bad-record modes.

use std::sync::Arc;

use arrow_array::{Array, ArrayRef, BinaryArray, BooleanArray, RecordBatch, StringArray};
use arrow_json::ReaderBuilder;
use arrow_json::reader::Decoder;
use arrow_schema::{DataType, Field, Schema, SchemaRef};

use crate::{ParseMode, Result, StreamError};

/// The name of the column that keeps the raw value of a record that does not decode
/// under [`ParseMode::Permissive`], if the value schema declares it (Spark's
/// `columnNameOfCorruptRecord` default).
pub const CORRUPT_RECORD: &str = "_corrupt_record";

/// How the source turns `value` into columns.
#[derive(Clone, Debug)]
pub(crate) struct ValueJson {
    /// The columns read from the JSON (the declared ones but `_corrupt_record`).
    data: SchemaRef,
    corrupt: Option<usize>,
    pub(crate) mode: ParseMode,
}

/// The outcome of decoding the values of one read.
#[derive(Debug)]
pub(crate) struct Decoded {
    /// The declared columns, one row per kept record.
    pub(crate) columns: Vec<ArrayRef>,
    /// The records kept (`None`: all of them).
    pub(crate) keep: Option<BooleanArray>,
    pub(crate) dropped: u64,
    pub(crate) corrupt: u64,
}

impl ValueJson {
    pub(crate) fn new(schema: SchemaRef, mode: ParseMode) -> Result<Self> {
        let corrupt = schema.index_of(CORRUPT_RECORD).ok();
        if let Some(i) = corrupt
            && schema.field(i).data_type() != &DataType::Utf8
        {
            return Err(StreamError::InvalidOption {
                name: "value_schema".into(),
                message: format!("column `{CORRUPT_RECORD}` must be a nullable string"),
            });
        }
        let data: Vec<Field> = schema
            .fields()
            .iter()
            .filter(|f| f.name() != CORRUPT_RECORD)
            .map(|f| f.as_ref().clone())
            .collect();
        if mode == ParseMode::Permissive
            && let Some(f) = schema.fields().iter().find(|f| !f.is_nullable())
        {
            return Err(StreamError::InvalidOption {
                name: "mode".into(),
                message: format!(
                    "permissive mode makes every column of a malformed record null, \
                     but column `{}` is not nullable",
                    f.name()
                ),
            });
        }
        Ok(ValueJson {
            data: Arc::new(Schema::new(data)),
            corrupt,
            mode,
        })
    }

    fn decoder(&self) -> Result<Decoder> {
        Ok(ReaderBuilder::new(self.data.clone()).build_decoder()?)
    }

    /// Decodes `values`; `at(i)` names record `i` (topic, partition, offset) in errors.
    pub(crate) fn decode(
        &self,
        values: &BinaryArray,
        at: impl Fn(usize) -> (String, i32, i64),
    ) -> Result<Decoded> {
        if values.null_count() == 0
            && let Some(batch) = self.decode_together(values)
        {
            return Ok(Decoded {
                columns: self.with_corrupt(batch, None)?,
                keep: None,
                dropped: 0,
                corrupt: 0,
            });
        }
        self.decode_one_by_one(values, at)
    }

    /// Every value at once, one JSON object per record; `None` if any does not decode
    /// or the values are not one object each.
    fn decode_together(&self, values: &BinaryArray) -> Option<RecordBatch> {
        let mut decoder = self.decoder().ok()?;
        let mut joined = Vec::with_capacity(values.value_data().len() + values.len());
        for v in values.iter().flatten() {
            joined.extend_from_slice(v);
            joined.push(b'\n');
        }
        let mut rest = &joined[..];
        let mut batches = Vec::new();
        while !rest.is_empty() {
            let n = decoder.decode(rest).ok()?;
            if n == 0 {
                batches.push(decoder.flush().ok()??);
                continue;
            }
            rest = &rest[n..];
        }
        if decoder.has_partial_record() {
            return None;
        }
        if let Some(b) = decoder.flush().ok()? {
            batches.push(b);
        }
        let batch = arrow_select::concat::concat_batches(&self.data, &batches).ok()?;
        (batch.num_rows() == values.len()).then_some(batch)
    }

    fn decode_one_by_one(
        &self,
        values: &BinaryArray,
        at: impl Fn(usize) -> (String, i32, i64),
    ) -> Result<Decoded> {
        let mut pieces: Vec<RecordBatch> = Vec::new();
        let mut raw: Vec<Option<String>> = Vec::new();
        let mut keep = Vec::with_capacity(values.len());
        let (mut dropped, mut corrupt) = (0, 0);
        for i in 0..values.len() {
            let outcome = if values.is_null(i) {
                // Spark's from_json of a null value is null: a row of nulls, not a
                // malformed record
                Ok(None)
            } else {
                self.decode_record(values.value(i)).map(Some)
            };
            match outcome {
                Ok(Some(batch)) => {
                    pieces.push(batch);
                    raw.push(None);
                    keep.push(true);
                }
                Ok(None) => {
                    pieces.push(self.null_row());
                    raw.push(None);
                    keep.push(true);
                }
                Err(message) => match self.mode {
                    ParseMode::FailFast => {
                        let (topic, partition, offset) = at(i);
                        return Err(StreamError::MalformedKafkaRecord {
                            topic,
                            partition,
                            offset,
                            message: crate::source::json_record(
                                values.value(i),
                                &self.data,
                                &message,
                            ),
                        });
                    }
                    ParseMode::DropMalformed => {
                        dropped += 1;
                        keep.push(false);
                    }
                    ParseMode::Permissive => {
                        corrupt += 1;
                        pieces.push(self.null_row());
                        raw.push(Some(String::from_utf8_lossy(values.value(i)).into_owned()));
                        keep.push(true);
                    }
                },
            }
        }
        let batch = arrow_select::concat::concat_batches(&self.data, &pieces)?;
        let keep = (dropped > 0).then(|| BooleanArray::from(keep));
        Ok(Decoded {
            columns: self.with_corrupt(batch, Some(raw))?,
            keep,
            dropped,
            corrupt,
        })
    }

    /// One record: exactly one JSON object, or what is wrong with it.
    fn decode_record(&self, value: &[u8]) -> std::result::Result<RecordBatch, String> {
        let mut decoder = self.decoder().map_err(|e| e.to_string())?;
        let n = decoder.decode(value).map_err(|e| e.to_string())?;
        if n < value.len() && !value[n..].iter().all(u8::is_ascii_whitespace) {
            return Err("the value holds more than one JSON object".into());
        }
        if decoder.has_partial_record() {
            return Err("the value ends in the middle of a JSON object".into());
        }
        let batch = decoder
            .flush()
            .map_err(|e| e.to_string())?
            .ok_or_else(|| "the value holds no JSON object".to_string())?;
        match batch.num_rows() {
            1 => Ok(batch),
            0 => Err("the value holds no JSON object".into()),
            _ => Err("the value holds more than one JSON object".into()),
        }
    }

    fn null_row(&self) -> RecordBatch {
        let columns = self
            .data
            .fields()
            .iter()
            .map(|f| arrow_array::new_null_array(f.data_type(), 1))
            .collect();
        RecordBatch::try_new_with_options(
            self.data.clone(),
            columns,
            &arrow_array::RecordBatchOptions::new().with_row_count(Some(1)),
        )
        .unwrap_or_else(|_| RecordBatch::new_empty(self.data.clone()))
    }

    /// The declared columns in their order: the decoded ones, and `_corrupt_record`
    /// (null but for permissive rows that did not decode) where it was declared.
    fn with_corrupt(
        &self,
        batch: RecordBatch,
        raw: Option<Vec<Option<String>>>,
    ) -> Result<Vec<ArrayRef>> {
        let mut columns: Vec<ArrayRef> = batch.columns().to_vec();
        if let Some(at) = self.corrupt {
            let raw: ArrayRef = match raw {
                Some(raw) => Arc::new(StringArray::from(raw)),
                None => arrow_array::new_null_array(&DataType::Utf8, batch.num_rows()),
            };
            columns.insert(at, raw);
        }
        Ok(columns)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::Int64Array;
    use arrow_array::cast::AsArray;

    fn schema(with_corrupt: bool) -> SchemaRef {
        let mut fields = vec![Field::new("n", DataType::Int64, true)];
        if with_corrupt {
            fields.push(Field::new(CORRUPT_RECORD, DataType::Utf8, true));
        }
        Arc::new(Schema::new(fields))
    }

    fn values(v: &[Option<&str>]) -> BinaryArray {
        BinaryArray::from_iter(v.iter().map(|v| v.map(str::as_bytes)))
    }

    fn at(i: usize) -> (String, i32, i64) {
        ("events".into(), 0, 100 + i as i64)
    }

    #[test]
    fn good_values_decode_together() {
        let json = ValueJson::new(schema(false), ParseMode::FailFast).unwrap();
        let d = json
            .decode(&values(&[Some(r#"{"n":1}"#), Some("{\"n\":\n2}")]), at)
            .unwrap();
        let n = d.columns[0].as_primitive::<arrow_array::types::Int64Type>();
        assert_eq!(n, &Int64Array::from(vec![1, 2]));
        assert!(d.keep.is_none());
    }

    #[test]
    fn fail_fast_names_the_record() {
        let json = ValueJson::new(schema(false), ParseMode::FailFast).unwrap();
        let e = json
            .decode(&values(&[Some(r#"{"n":1}"#), Some("{oops")]), at)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("topic `events` partition 0 at offset 101"),
            "{e}"
        );
        // in the schema's terms, not the JSON decoder's
        assert!(
            e.contains("it is not JSON: key must be a string at column 2"),
            "{e}"
        );
        let e = json
            .decode(&values(&[Some(r#"{"n":"one"}"#)]), at)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("column `n` is declared i64 but the record holds `\"one\"`"),
            "{e}"
        );
    }

    #[test]
    fn two_objects_in_one_value_are_malformed() {
        let json = ValueJson::new(schema(false), ParseMode::DropMalformed).unwrap();
        let d = json
            .decode(
                &values(&[Some(r#"{"n":1}{"n":2}"#), Some(r#"{"n":3}"#)]),
                at,
            )
            .unwrap();
        assert_eq!(d.dropped, 1);
        assert_eq!(d.keep.unwrap(), BooleanArray::from(vec![false, true]));
        assert_eq!(d.columns[0].len(), 1);
    }

    #[test]
    fn permissive_keeps_the_raw_value_and_nulls_the_rest() {
        let json = ValueJson::new(schema(true), ParseMode::Permissive).unwrap();
        let d = json
            .decode(&values(&[Some("nope"), None, Some(r#"{"n":5}"#)]), at)
            .unwrap();
        assert_eq!(d.corrupt, 1);
        let n = d.columns[0].as_primitive::<arrow_array::types::Int64Type>();
        assert_eq!(n, &Int64Array::from(vec![None, None, Some(5)]));
        let raw = d.columns[1].as_string::<i32>();
        assert_eq!(raw, &StringArray::from(vec![Some("nope"), None, None]));
    }

    #[test]
    fn permissive_needs_nullable_columns() {
        let s = Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, false)]));
        let e = ValueJson::new(s, ParseMode::Permissive)
            .unwrap_err()
            .to_string();
        assert!(e.contains("column `n` is not nullable"), "{e}");
    }
}
