//! Hive-style partitioning of the file sink's output: `col=value/` folders, as Spark
//! writes them (`ExternalCatalogUtils.escapePathName`), the partition columns left out of
//! the files.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow_array::{Array, ArrayRef, RecordBatch, StringArray, UInt32Array, new_null_array};
use arrow_cast::display::{ArrayFormatter, FormatOptions};
use arrow_schema::{DataType, Schema, SchemaRef};

use crate::{Result, StreamError};

/// The folder name Spark (and Hive, and pyarrow) use for a null partition value.
pub(crate) const NULL_PARTITION: &str = "__HIVE_DEFAULT_PARTITION__";

/// Which columns of the sink's schema go into folder names, and the schema of what is
/// left for the files.
#[derive(Clone, Debug)]
pub(crate) struct PartitionSpec {
    /// Indices of the partition columns in the full schema, in `partition_by` order.
    partition: Vec<usize>,
    /// Indices of the data columns (everything else) in the full schema.
    data: Vec<usize>,
    /// The full schema of the sink.
    full: SchemaRef,
    /// The schema of the files: the full schema without the partition columns.
    data_schema: SchemaRef,
}

/// Whether a column of this type can be a partition column of the file sink.
fn partitionable(data_type: &DataType) -> bool {
    matches!(
        data_type,
        DataType::Utf8
            | DataType::LargeUtf8
            | DataType::Utf8View
            | DataType::Boolean
            | DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::UInt8
            | DataType::UInt16
            | DataType::UInt32
            | DataType::UInt64
            | DataType::Date32
    )
}

impl PartitionSpec {
    /// Checks `columns` against `schema`: each must exist once, have a type that makes a
    /// folder name, and at least one column must be left for the files (as Spark).
    pub(crate) fn new(schema: &SchemaRef, columns: &[String]) -> Result<PartitionSpec> {
        let mut partition = Vec::with_capacity(columns.len());
        for name in columns {
            let index = schema.index_of(name).map_err(|_| {
                let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
                invalid(format!(
                    "no column `{name}` in the output; the columns are: {}",
                    names.join(", ")
                ))
            })?;
            if partition.contains(&index) {
                return Err(invalid(format!("column `{name}` is named twice")));
            }
            let data_type = schema.field(index).data_type();
            if !partitionable(data_type) {
                return Err(invalid(format!(
                    "column `{name}` is {data_type}; partition columns must be strings, integers, booleans or dates"
                )));
            }
            partition.push(index);
        }
        let data: Vec<usize> = (0..schema.fields().len())
            .filter(|i| !partition.contains(i))
            .collect();
        if data.is_empty() {
            return Err(invalid(
                "every column is a partition column; at least one must be left for the files"
                    .into(),
            ));
        }
        let data_schema = Arc::new(schema.project(&data)?);
        Ok(PartitionSpec {
            partition,
            data,
            full: schema.clone(),
            data_schema,
        })
    }

    /// The schema of the files (the sink's schema without the partition columns).
    pub(crate) fn data_schema(&self) -> &SchemaRef {
        &self.data_schema
    }

    /// Splits `batches` by partition: each folder (relative, `a=1/b=x`, empty without
    /// partitioning) with its rows, data columns only. Folders in name order; rows keep
    /// their order inside a folder.
    pub(crate) fn split(
        &self,
        batches: &[RecordBatch],
    ) -> Result<BTreeMap<String, Vec<RecordBatch>>> {
        let mut out: BTreeMap<String, Vec<RecordBatch>> = BTreeMap::new();
        for batch in batches.iter().filter(|b| b.num_rows() > 0) {
            let data = batch.project(&self.data)?;
            if self.partition.is_empty() {
                out.entry(String::new()).or_default().push(data);
                continue;
            }
            let options = FormatOptions::default();
            let formatters = self
                .partition
                .iter()
                .map(|&i| ArrayFormatter::try_new(batch.column(i).as_ref(), &options))
                .collect::<std::result::Result<Vec<_>, _>>()?;
            let mut rows: BTreeMap<String, Vec<u32>> = BTreeMap::new();
            for row in 0..batch.num_rows() {
                let mut dir = String::new();
                for (k, &i) in self.partition.iter().enumerate() {
                    if k > 0 {
                        dir.push('/');
                    }
                    dir.push_str(&escape_path_name(self.full.field(i).name()));
                    dir.push('=');
                    if batch.column(i).is_null(row) {
                        dir.push_str(NULL_PARTITION);
                    } else {
                        dir.push_str(&escape_path_name(&formatters[k].value(row).to_string()));
                    }
                }
                let row = u32::try_from(row).map_err(|_| {
                    StreamError::InvalidQuery("a record batch has more than 2^32 rows".into())
                })?;
                rows.entry(dir).or_default().push(row);
            }
            for (dir, indices) in rows {
                let taken = if indices.len() == data.num_rows() {
                    data.clone()
                } else {
                    arrow_select::take::take_record_batch(&data, &UInt32Array::from(indices))?
                };
                out.entry(dir).or_default().push(taken);
            }
        }
        Ok(out)
    }
}

/// Rebuilds full rows from a file's data columns and the partition values in its path
/// (relative to the sink's folder), in the order of `full`.
pub(crate) fn attach_partition_values(
    full: &Schema,
    partition_by: &[String],
    relative_path: &str,
    data: &RecordBatch,
) -> Result<RecordBatch> {
    let values = partition_values(relative_path);
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(full.fields().len());
    for field in full.fields() {
        if partition_by.iter().any(|p| p == field.name()) {
            let value = values
                .iter()
                .find(|(name, _)| name == field.name())
                .map(|(_, v)| v.clone())
                .ok_or_else(|| {
                    StreamError::corrupt(
                        relative_path,
                        format!("has no `{}=` folder in its path", field.name()),
                    )
                })?;
            let column: ArrayRef = match value {
                None => new_null_array(field.data_type(), data.num_rows()),
                Some(text) => {
                    let strings: ArrayRef =
                        Arc::new(StringArray::from(vec![text.as_str(); data.num_rows()]));
                    arrow_cast::cast(&strings, field.data_type())?
                }
            };
            columns.push(column);
        } else {
            let column = data.column_by_name(field.name()).ok_or_else(|| {
                StreamError::corrupt(relative_path, format!("has no column `{}`", field.name()))
            })?;
            let column = if column.data_type() == field.data_type() {
                column.clone()
            } else {
                arrow_cast::cast(column, field.data_type())?
            };
            columns.push(column);
        }
    }
    let options = arrow_array::RecordBatchOptions::new().with_row_count(Some(data.num_rows()));
    Ok(RecordBatch::try_new_with_options(
        Arc::new(full.clone()),
        columns,
        &options,
    )?)
}

/// The `name=value` folders of a relative file path, unescaped; `None` for a null value.
pub(crate) fn partition_values(relative_path: &str) -> Vec<(String, Option<String>)> {
    let mut segments: Vec<&str> = relative_path.split('/').collect();
    segments.pop(); // the file name
    segments
        .into_iter()
        .filter_map(|segment| segment.split_once('='))
        .map(|(name, value)| {
            let value = (value != NULL_PARTITION).then(|| unescape_path_name(value));
            (unescape_path_name(name), value)
        })
        .collect()
}

fn invalid(message: String) -> StreamError {
    StreamError::InvalidOption {
        name: "partition_by".into(),
        message,
    }
}

/// Whether Spark's `escapePathName` escapes `c`.
fn needs_escape(c: char) -> bool {
    matches!(
        c,
        '\u{01}'
            ..='\u{1F}'
                | '"'
                | '#'
                | '%'
                | '\''
                | '*'
                | '/'
                | ':'
                | '='
                | '?'
                | '\\'
                | '\u{7F}'
                | '{'
                | '['
                | ']'
                | '^'
    )
}

/// Spark's `ExternalCatalogUtils.escapePathName`: the characters that cannot stand in
/// a folder name become `%XX` (upper-case hex).
pub(crate) fn escape_path_name(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if needs_escape(c) {
            out.push_str(&format!("%{:02X}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// The inverse of [`escape_path_name`]; a `%` not followed by two hex digits stays.
pub(crate) fn unescape_path_name(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Some(byte) = std::str::from_utf8(&bytes[i + 1..i + 3])
                .ok()
                .and_then(|hex| u8::from_str_radix(hex, 16).ok())
        {
            out.push(byte);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use arrow_array::{Int32Array, Int64Array};
    use arrow_schema::Field;

    use super::*;

    fn schema() -> SchemaRef {
        Arc::new(Schema::new(vec![
            Field::new("n", DataType::Int64, false),
            Field::new("country", DataType::Utf8, true),
            Field::new("year", DataType::Int32, false),
        ]))
    }

    fn batch(n: &[i64], country: &[Option<&str>], year: &[i32]) -> RecordBatch {
        RecordBatch::try_new(
            schema(),
            vec![
                Arc::new(Int64Array::from(n.to_vec())),
                Arc::new(StringArray::from(country.to_vec())),
                Arc::new(Int32Array::from(year.to_vec())),
            ],
        )
        .unwrap()
    }

    #[test]
    fn escape_round_trips_and_matches_spark() {
        assert_eq!(escape_path_name("a/b=c:d%"), "a%2Fb%3Dc%3Ad%25");
        assert_eq!(escape_path_name("plain ünïcode"), "plain ünïcode");
        for s in ["a/b=c:d%", "x", "%zz", "%4", "tail%"] {
            assert_eq!(unescape_path_name(&escape_path_name(s)), s);
        }
        assert_eq!(unescape_path_name("%zz%4"), "%zz%4");
    }

    #[test]
    fn split_groups_rows_by_folder_and_drops_partition_columns() {
        let spec = PartitionSpec::new(&schema(), &["country".into(), "year".into()]).unwrap();
        assert_eq!(spec.data_schema().fields().len(), 1);
        let parts = spec
            .split(&[batch(
                &[1, 2, 3, 4],
                &[Some("DE"), None, Some("DE"), Some("a/b")],
                &[2024, 2024, 2024, 2023],
            )])
            .unwrap();
        let dirs: Vec<&String> = parts.keys().collect();
        assert_eq!(
            dirs,
            [
                "country=DE/year=2024",
                "country=__HIVE_DEFAULT_PARTITION__/year=2024",
                "country=a%2Fb/year=2023"
            ]
        );
        let de = &parts["country=DE/year=2024"][0];
        assert_eq!(de.num_columns(), 1);
        let n = de.column(0).as_any().downcast_ref::<Int64Array>().unwrap();
        assert_eq!(n.values().to_vec(), vec![1, 3]);
    }

    #[test]
    fn attach_rebuilds_the_full_rows() {
        let spec = PartitionSpec::new(&schema(), &["country".into(), "year".into()]).unwrap();
        let parts = spec.split(&[batch(&[7], &[None], &[2020])]).unwrap();
        let (dir, data) = parts.into_iter().next().unwrap();
        let full = attach_partition_values(
            &schema(),
            &["country".into(), "year".into()],
            &format!("{dir}/part-0.parquet"),
            &data[0],
        )
        .unwrap();
        assert_eq!(full, batch(&[7], &[None], &[2020]));
    }

    #[test]
    fn no_partitioning_keeps_batches_whole() {
        let spec = PartitionSpec::new(&schema(), &[]).unwrap();
        let parts = spec
            .split(&[
                batch(&[1, 2], &[Some("x"), None], &[1, 2]),
                batch(&[], &[], &[]),
            ])
            .unwrap();
        assert_eq!(parts.len(), 1);
        assert_eq!(parts[""].len(), 1);
        assert_eq!(parts[""][0].num_columns(), 3);
    }

    #[test]
    fn bad_partition_columns_are_refused_with_their_name() {
        let unknown = PartitionSpec::new(&schema(), &["contry".into()]).unwrap_err();
        assert!(
            unknown.to_string().contains("no column `contry`"),
            "{unknown}"
        );
        let twice = PartitionSpec::new(&schema(), &["year".into(), "year".into()]).unwrap_err();
        assert!(twice.to_string().contains("named twice"), "{twice}");
        let all = PartitionSpec::new(&schema(), &["n".into(), "country".into(), "year".into()])
            .unwrap_err();
        assert!(all.to_string().contains("at least one"), "{all}");
        let float = Arc::new(Schema::new(vec![
            Field::new("x", DataType::Float64, false),
            Field::new("y", DataType::Int64, false),
        ]));
        let e = PartitionSpec::new(&float, &["x".into()]).unwrap_err();
        assert!(e.to_string().contains("`x` is Float64"), "{e}");
    }
}
