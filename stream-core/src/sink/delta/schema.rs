//! The stream's schema as the table stores it, and batches conformed to it.

use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};

use crate::{Result, StreamError};

/// The type a column has in the table: every timestamp is Delta's `timestamp`
/// (microseconds since the epoch, UTC).
fn delta_type(data_type: &DataType) -> DataType {
    match data_type {
        DataType::Timestamp(_, _) => DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
        other => other.clone(),
    }
}

/// The stream's schema as the table stores it.
pub(super) fn delta_schema(schema: &Schema) -> Schema {
    Schema::new(
        schema
            .fields()
            .iter()
            .map(|f| Field::new(f.name(), delta_type(f.data_type()), f.is_nullable()))
            .collect::<Vec<_>>(),
    )
}

/// `batch` with the table's column types, columns in the table's order.
pub(super) fn conform(batch: &RecordBatch, table_schema: &SchemaRef) -> Result<RecordBatch> {
    let columns = table_schema
        .fields()
        .iter()
        .map(|field| {
            let column =
                batch
                    .column_by_name(field.name())
                    .ok_or_else(|| StreamError::SchemaMismatch {
                        context: "Delta sink".into(),
                        message: format!("the batch has no column `{}`", field.name()),
                    })?;
            if column.data_type() == field.data_type() {
                Ok(column.clone())
            } else {
                Ok(arrow_cast::cast(column, field.data_type())?)
            }
        })
        .collect::<Result<Vec<ArrayRef>>>()?;
    Ok(RecordBatch::try_new(table_schema.clone(), columns)?)
}

/// Describes columns for messages: `a Int64, b Utf8`.
pub(super) fn describe(schema: &Schema) -> String {
    schema
        .fields()
        .iter()
        .map(|f| format!("{} {}", f.name(), f.data_type()))
        .collect::<Vec<_>>()
        .join(", ")
}
