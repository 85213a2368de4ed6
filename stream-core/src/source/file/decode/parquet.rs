//! The Parquet format (the `parquet` crate's arrow reader).

use std::fs::File;
use std::path::Path;

use arrow_array::{ArrayRef, RecordBatch, RecordBatchOptions, new_null_array};
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use super::describe::type_name;
use super::{DecodeContext, Piece};
use crate::{Result, StreamError};

/// Reads the schema's columns of a Parquet file, matched by name, through a projection
/// mask (other columns are not decoded). A column the file lacks is null if the schema
/// declares it nullable and an error otherwise; a column of another type is an error,
/// as is a null in a column the schema declares not nullable. A damaged or truncated
/// file is an error naming the file. The bad-record modes do not apply.
pub(super) fn decode(
    path: &Path,
    gone: &dyn Fn(std::io::Error) -> StreamError,
    cx: &DecodeContext<'_>,
) -> Result<Vec<Piece>> {
    let file = File::open(path).map_err(gone)?;
    let builder =
        ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| cx.bad_file(unreadable(&e)))?;
    let file_schema = builder.schema().clone();
    let mut roots = Vec::new();
    // for each data column, the file's root column, if the file has it
    let mut sources: Vec<Option<usize>> = Vec::new();
    for field in cx.data_schema.fields() {
        match file_schema.index_of(field.name()) {
            Ok(index) => {
                let found = file_schema.field(index).data_type();
                if found != field.data_type() {
                    return Err(cx.bad_file(format!(
                        "column `{}` is {} in the file but the schema declares {}",
                        field.name(),
                        type_name(found),
                        type_name(field.data_type())
                    )));
                }
                sources.push(Some(index));
                roots.push(index);
            }
            Err(_) if field.is_nullable() => sources.push(None),
            Err(_) => {
                return Err(cx.bad_file(format!(
                    "column `{}` is missing from the file, and the schema declares it not \
                     nullable",
                    field.name()
                )));
            }
        }
    }
    roots.sort_unstable();
    let mask = ProjectionMask::roots(builder.parquet_schema(), roots.iter().copied());
    let reader = builder
        .with_projection(mask)
        .build()
        .map_err(|e| cx.bad_file(format!("it is not a readable Parquet file: {e}")))?;
    let mut pieces = Vec::new();
    for batch in reader {
        let batch = batch.map_err(|e| cx.bad_file(format!("its data cannot be decoded: {e}")))?;
        let rows = batch.num_rows();
        let mut columns: Vec<ArrayRef> = Vec::with_capacity(sources.len());
        for (field, source) in cx.data_schema.fields().iter().zip(&sources) {
            let column = match source {
                Some(root) => {
                    // the projected batch holds the read roots in file order
                    let at = roots.binary_search(root).unwrap_or(0);
                    batch.column(at).clone()
                }
                None => new_null_array(field.data_type(), rows),
            };
            if !field.is_nullable() && column.null_count() > 0 {
                return Err(cx.bad_file(format!(
                    "column `{}` holds nulls, but the schema declares it not nullable",
                    field.name()
                )));
            }
            columns.push(column);
        }
        let options = RecordBatchOptions::new().with_row_count(Some(rows));
        let batch = RecordBatch::try_new_with_options(cx.data_schema.clone(), columns, &options)
            .map_err(|e| cx.bad_file(format!("its rows do not fit the schema: {e}")))?;
        pieces.push(Piece::Rows(batch));
    }
    Ok(pieces)
}

/// Why a file could not be opened as Parquet, without the reader's byte arithmetic
/// when the footer (where a Parquet file describes itself) is missing or cut short.
fn unreadable(e: &parquet::errors::ParquetError) -> String {
    let text = e.to_string();
    if text.contains("too small") || text.contains("Corrupt footer") {
        "it is not a Parquet file, or it was cut short: it does not end with a Parquet \
         footer"
            .into()
    } else {
        format!("it is not a readable Parquet file: {text}")
    }
}
