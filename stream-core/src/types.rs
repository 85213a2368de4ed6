//! Rust structs as the rows of a stream: the column types a `#[derive(Schema)]` struct's
//! fields may have, and the [`TypedRow`] trait the derive implements.
//!
//! A field's Rust type names its column type:
//!
//! | field type                | column type    | arrow type                     |
//! |---------------------------|----------------|--------------------------------|
//! | `bool`                    | `bool`         | `Boolean`                      |
//! | `i32`, `i64`              | `i32`, `i64`   | `Int32`, `Int64`               |
//! | `f32`, `f64`              | `f32`, `f64`   | `Float32`, `Float64`           |
//! | `String`                  | `string`       | `Utf8`                         |
//! | `Vec<u8>`                 | `binary`       | `Binary`                       |
//! | [`Date32`]                | `date`         | `Date32`                       |
//! | [`TimestampMs`]           | `timestamp_ms` | `Timestamp(Millisecond, "UTC")`|
//! | [`TimestampUs`]           | `timestamp_us` | `Timestamp(Microsecond, "UTC")`|
//! | `Option<T>`               | nullable `T`   | the same type, nullable        |
//! | `Vec<T>` (`T` one of the above but `Vec<u8>`) | `list<T>` | `List(T)`, items not null |
//!
//! List columns come out of `collect_list` and `collect_set`; a `Vec<u8>` field stays
//! `binary`, not a list of `u8`.
//!
//! ```
//! use stream_core::Schema;
//! use stream_core::types::{TimestampMs, TypedRow};
//!
//! #[derive(Schema, Debug, PartialEq)]
//! struct Click {
//!     ts: TimestampMs,
//!     user: String,
//!     amount: Option<f64>,
//! }
//!
//! let rows = vec![
//!     Click { ts: TimestampMs(1_000), user: "ann".into(), amount: Some(2.5) },
//!     Click { ts: TimestampMs(2_000), user: "bob".into(), amount: None },
//! ];
//! let batch = Click::to_batch(&rows).unwrap();
//! assert_eq!(batch.num_rows(), 2);
//! assert_eq!(batch.schema(), Click::arrow_schema());
//! assert_eq!(Click::from_batch(&batch).unwrap(), rows);
//! ```

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    ArrowPrimitiveType, Date32Type, Float32Type, Float64Type, Int32Type, Int64Type,
    TimestampMicrosecondType, TimestampMillisecondType,
};
use arrow_array::{
    Array, ArrayRef, BinaryArray, BooleanArray, ListArray, PrimitiveArray, RecordBatch, StringArray,
};
use arrow_buffer::{NullBuffer, OffsetBuffer};
use arrow_schema::{DataType, Field, SchemaRef, TimeUnit};

use crate::{Result, StreamError};

/// A `date` column's value: days since 1970-01-01.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date32(pub i32);

/// A `timestamp_ms` column's value: milliseconds since 1970-01-01T00:00:00Z.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimestampMs(pub i64);

/// A `timestamp_us` column's value: microseconds since 1970-01-01T00:00:00Z.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimestampUs(pub i64);

macro_rules! newtype_conversions {
    ($($t:ident($inner:ty)),*) => {$(
        impl From<$inner> for $t {
            fn from(v: $inner) -> Self {
                $t(v)
            }
        }
        impl From<$t> for $inner {
            fn from(v: $t) -> Self {
                v.0
            }
        }
    )*};
}
newtype_conversions!(Date32(i32), TimestampMs(i64), TimestampUs(i64));

/// A Rust struct whose values are the rows of a schema; `#[derive(Schema)]` implements
/// it. Columns are matched by name.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a schema struct",
    label = "this type has no `#[derive(Schema)]`",
    note = "add `#[derive(stream_core::Schema)]` to the struct, or declare the schema in the block: `schema Event {{ user: string }}`"
)]
pub trait TypedRow: Sized {
    /// The arrow schema of the rows: one field per struct field, in order; a field is
    /// nullable when its type is an `Option`.
    fn arrow_schema() -> SchemaRef;

    /// The rows as one record batch of [`TypedRow::arrow_schema`].
    fn to_batch(rows: &[Self]) -> Result<RecordBatch>;

    /// [`TypedRow::to_batch`] from references: how a state store's commit writes its
    /// changed entries without copying them first. This default copies the rows; the
    /// row structs `stream!` generates build their columns from the references.
    ///
    /// ```
    /// use stream_core::Schema;
    /// use stream_core::types::TypedRow;
    ///
    /// #[derive(Schema, Clone, Debug, PartialEq)]
    /// struct Reading { sensor: String, celsius: f64 }
    /// let rows = [Reading { sensor: "a".into(), celsius: 21.5 }];
    /// let batch = Reading::to_batch_refs(&[&rows[0]])?;
    /// assert_eq!(Reading::from_batch(&batch)?, rows);
    /// # Ok::<(), stream_core::StreamError>(())
    /// ```
    fn to_batch_refs(rows: &[&Self]) -> Result<RecordBatch>
    where
        Self: Clone,
    {
        Self::to_batch(&rows.iter().map(|&r| r.clone()).collect::<Vec<_>>())
    }

    /// The rows of `batch`. Every field's column must be in the batch, by name, with the
    /// field's type; a null in a field that is not an `Option` is an error.
    fn from_batch(batch: &RecordBatch) -> Result<Vec<Self>>;

    /// The rows of several batches, in order (a memory sink's table, say).
    fn from_batches(batches: &[RecordBatch]) -> Result<Vec<Self>> {
        let mut rows = Vec::new();
        for batch in batches {
            rows.extend(Self::from_batch(batch)?);
        }
        Ok(rows)
    }
}

/// A Rust type that is a column type: how a column of it is built and read. Implemented
/// for the types in the module's table (without `Option`, which means nullable).
pub trait ColumnValue: Sized {
    /// The arrow type of the column.
    fn data_type() -> DataType;

    /// A column of `values`; `None` is null.
    fn to_array<'a>(values: impl Iterator<Item = Option<&'a Self>>) -> ArrayRef
    where
        Self: 'a;

    /// The values of `array` (column `name`), `None` for null; an error if the array
    /// does not have this type.
    fn from_array(array: &dyn Array, name: &str) -> Result<Vec<Option<Self>>>;
}

fn wrong_column(name: &str, expected: &DataType, found: &DataType) -> StreamError {
    StreamError::SchemaMismatch {
        context: format!("column `{name}`"),
        message: format!("the struct field takes {expected} but the batch holds {found}"),
    }
}

/// The values of a primitive column, each converted by `f`: one pass over the values
/// buffer (and the validity bitmap, if the column has nulls).
fn primitive_values<T: ArrowPrimitiveType, V>(
    array: &dyn Array,
    name: &str,
    expected: &DataType,
    f: impl Fn(T::Native) -> V,
) -> Result<Vec<Option<V>>> {
    let typed = array
        .as_primitive_opt::<T>()
        .ok_or_else(|| wrong_column(name, expected, array.data_type()))?;
    let values = typed.values().iter();
    Ok(match typed.nulls().filter(|n| n.null_count() > 0) {
        None => values.map(|&v| Some(f(v))).collect(),
        Some(nulls) => values
            .zip(nulls.iter())
            .map(|(&v, valid)| valid.then(|| f(v)))
            .collect(),
    })
}

macro_rules! primitive_column {
    ($($t:ty => $arrow:ty, $dt:expr, |$v:ident| $to:expr, |$n:ident| $from:expr;)*) => {$(
        impl ColumnValue for $t {
            fn data_type() -> DataType {
                $dt
            }

            fn to_array<'a>(values: impl Iterator<Item = Option<&'a Self>>) -> ArrayRef {
                let array: PrimitiveArray<$arrow> = values.map(|v| v.map(|$v| $to)).collect();
                Arc::new(array.with_data_type(Self::data_type()))
            }

            fn from_array(array: &dyn Array, name: &str) -> Result<Vec<Option<Self>>> {
                primitive_values::<$arrow, Self>(array, name, &Self::data_type(), |$n| $from)
            }
        }
    )*};
}

fn utc(unit: TimeUnit) -> DataType {
    DataType::Timestamp(unit, Some("UTC".into()))
}

primitive_column! {
    i32 => Int32Type, DataType::Int32, |v| *v, |n| n;
    i64 => Int64Type, DataType::Int64, |v| *v, |n| n;
    f32 => Float32Type, DataType::Float32, |v| *v, |n| n;
    f64 => Float64Type, DataType::Float64, |v| *v, |n| n;
    Date32 => Date32Type, DataType::Date32, |v| v.0, |n| Date32(n);
    TimestampMs => TimestampMillisecondType, utc(TimeUnit::Millisecond), |v| v.0, |n| TimestampMs(n);
    TimestampUs => TimestampMicrosecondType, utc(TimeUnit::Microsecond), |v| v.0, |n| TimestampUs(n);
}

impl ColumnValue for bool {
    fn data_type() -> DataType {
        DataType::Boolean
    }

    fn to_array<'a>(values: impl Iterator<Item = Option<&'a Self>>) -> ArrayRef {
        Arc::new(values.map(|v| v.copied()).collect::<BooleanArray>())
    }

    fn from_array(array: &dyn Array, name: &str) -> Result<Vec<Option<Self>>> {
        let typed = array
            .as_boolean_opt()
            .ok_or_else(|| wrong_column(name, &DataType::Boolean, array.data_type()))?;
        Ok(typed.iter().collect())
    }
}

impl ColumnValue for String {
    fn data_type() -> DataType {
        DataType::Utf8
    }

    fn to_array<'a>(values: impl Iterator<Item = Option<&'a Self>>) -> ArrayRef {
        Arc::new(
            values
                .map(|v| v.map(String::as_str))
                .collect::<StringArray>(),
        )
    }

    fn from_array(array: &dyn Array, name: &str) -> Result<Vec<Option<Self>>> {
        let typed = array
            .as_string_opt::<i32>()
            .ok_or_else(|| wrong_column(name, &DataType::Utf8, array.data_type()))?;
        Ok(typed.iter().map(|v| v.map(String::from)).collect())
    }
}

impl ColumnValue for Vec<u8> {
    fn data_type() -> DataType {
        DataType::Binary
    }

    fn to_array<'a>(values: impl Iterator<Item = Option<&'a Self>>) -> ArrayRef {
        Arc::new(
            values
                .map(|v| v.map(Vec::as_slice))
                .collect::<BinaryArray>(),
        )
    }

    fn from_array(array: &dyn Array, name: &str) -> Result<Vec<Option<Self>>> {
        let typed = array
            .as_binary_opt::<i32>()
            .ok_or_else(|| wrong_column(name, &DataType::Binary, array.data_type()))?;
        Ok(typed.iter().map(|v| v.map(<[u8]>::to_vec)).collect())
    }
}

/// The arrow type of the Kafka source's `headers` column, Spark's
/// `array<struct<key: string, value: binary>>`; `stream!` declares the column with it
/// (`kafka_headers`), with or without the `kafka` feature.
///
/// ```
/// use arrow_schema::DataType;
/// assert!(matches!(stream_core::types::kafka_headers_type(), DataType::List(_)));
/// ```
pub fn kafka_headers_type() -> DataType {
    DataType::List(std::sync::Arc::new(arrow_schema::Field::new(
        "item",
        DataType::Struct(kafka_header_fields()),
        true,
    )))
}

/// The fields of one header: `key` (string) and `value` (binary, nullable).
pub(crate) fn kafka_header_fields() -> arrow_schema::Fields {
    vec![
        arrow_schema::Field::new("key", DataType::Utf8, false),
        arrow_schema::Field::new("value", DataType::Binary, true),
    ]
    .into()
}

/// The arrow type of a list column whose items are `T` (never null): `List(item: T)`.
pub fn list_data_type<T: ColumnValue>() -> DataType {
    DataType::List(Arc::new(Field::new("item", T::data_type(), false)))
}

/// A list column of `values` (`None` is a null list), items of `T`.
fn list_to_array<'a, T: ColumnValue + 'a>(
    values: impl Iterator<Item = Option<&'a Vec<T>>>,
) -> ArrayRef {
    let mut lengths = Vec::new();
    let mut valid = Vec::new();
    let mut items: Vec<&'a T> = Vec::new();
    for v in values {
        valid.push(v.is_some());
        let list = v.map_or(&[][..], Vec::as_slice);
        lengths.push(list.len());
        items.extend(list);
    }
    let item_array = T::to_array(items.into_iter().map(Some));
    let nulls = if valid.iter().all(|v| *v) {
        None
    } else {
        Some(NullBuffer::from(valid))
    };
    let field = Arc::new(Field::new("item", T::data_type(), false));
    Arc::new(ListArray::new(
        field,
        OffsetBuffer::from_lengths(lengths),
        item_array,
        nulls,
    ))
}

/// The lists of a list column (`None` for a null list); an error if `array` is no list
/// of `T`, or holds a null item.
fn list_from_array<T: ColumnValue>(array: &dyn Array, name: &str) -> Result<Vec<Option<Vec<T>>>> {
    let expected = list_data_type::<T>();
    let typed = array
        .as_list_opt::<i32>()
        .ok_or_else(|| wrong_column(name, &expected, array.data_type()))?;
    let mut items = T::from_array(typed.values().as_ref(), name)?.into_iter();
    let offsets = typed.value_offsets();
    // items before the first list's start (a sliced array) are not the column's
    let first = offsets
        .first()
        .map_or(0, |o| usize::try_from(*o).unwrap_or(0));
    items.by_ref().take(first).for_each(drop);
    let mut out = Vec::with_capacity(typed.len());
    for (i, pair) in offsets.windows(2).enumerate() {
        let len = usize::try_from(pair[1] - pair[0]).unwrap_or(0);
        let mut list = Vec::with_capacity(len);
        for _ in 0..len {
            match items.next().flatten() {
                Some(v) => list.push(v),
                None => {
                    return Err(StreamError::SchemaMismatch {
                        context: format!("column `{name}`"),
                        message: "a list holds a null item; list items are never null here"
                            .to_string(),
                    });
                }
            }
        }
        out.push((!typed.is_null(i)).then_some(list));
    }
    Ok(out)
}

macro_rules! list_column {
    ($($t:ty),*) => {$(
        impl ColumnValue for Vec<$t> {
            fn data_type() -> DataType {
                list_data_type::<$t>()
            }

            fn to_array<'a>(values: impl Iterator<Item = Option<&'a Self>>) -> ArrayRef {
                list_to_array(values)
            }

            fn from_array(array: &dyn Array, name: &str) -> Result<Vec<Option<Self>>> {
                list_from_array(array, name)
            }
        }
    )*};
}
list_column!(
    bool,
    i32,
    i64,
    f32,
    f64,
    String,
    Date32,
    TimestampMs,
    TimestampUs
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_round_trip_with_nulls() {
        let values = [Some(TimestampMs(5)), None, Some(TimestampMs(-1))];
        let array = TimestampMs::to_array(values.iter().map(Option::as_ref));
        assert_eq!(array.data_type(), &utc(TimeUnit::Millisecond));
        assert_eq!(
            TimestampMs::from_array(&array, "ts").unwrap(),
            values.to_vec()
        );

        let strings = [Some("a".to_string()), None];
        let array = String::to_array(strings.iter().map(Option::as_ref));
        assert_eq!(String::from_array(&array, "s").unwrap(), strings.to_vec());

        let bytes = [Some(vec![1u8, 2]), None];
        let array = Vec::<u8>::to_array(bytes.iter().map(Option::as_ref));
        assert_eq!(Vec::<u8>::from_array(&array, "b").unwrap(), bytes.to_vec());
    }

    #[test]
    fn a_column_of_another_type_is_an_error_naming_it() {
        let array = i64::to_array([Some(&1i64)].into_iter());
        let err = f64::from_array(&array, "amount").unwrap_err().to_string();
        assert!(
            err.contains("`amount`") && err.contains("Float64") && err.contains("Int64"),
            "{err}"
        );
    }

    #[test]
    fn list_columns_round_trip_with_empty_and_null_lists() {
        let lists = [
            Some(vec!["a".to_string(), "b".to_string()]),
            None,
            Some(vec![]),
            Some(vec!["c".to_string()]),
        ];
        let array = Vec::<String>::to_array(lists.iter().map(Option::as_ref));
        assert_eq!(array.data_type(), &list_data_type::<String>());
        assert_eq!(
            Vec::<String>::from_array(&array, "tags").unwrap(),
            lists.to_vec()
        );
        let times = [Some(vec![TimestampUs(1), TimestampUs(-2)])];
        let array = Vec::<TimestampUs>::to_array(times.iter().map(Option::as_ref));
        assert_eq!(
            Vec::<TimestampUs>::from_array(&array, "ts").unwrap(),
            times.to_vec()
        );
        let err = Vec::<i64>::from_array(&array, "ts")
            .unwrap_err()
            .to_string();
        assert!(err.contains("`ts`"), "{err}");
    }

    #[test]
    fn newtypes_convert() {
        assert_eq!(i64::from(TimestampUs::from(7)), 7);
        assert_eq!(Date32::from(3).0, 3);
    }
}
