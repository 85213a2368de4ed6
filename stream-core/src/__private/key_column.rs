//! [`KeyColumn`]: a group-key column read where it lies, for the map side of the
//! aggregations `stream!` generates.

use arrow_array::cast::AsArray;
use arrow_array::{Array, BinaryArray, RecordBatch, StringArray};
use arrow_schema::DataType;

use super::derive as __derive;
use crate::Result;
use crate::types::{ColumnValue, Date32, TimestampMs, TimestampUs};

/// A column of group keys, read row by row without first turning the whole column into
/// owned values. The map side of an aggregation keeps one scratch key and sets its
/// fields from each row with [`KeyColumn::read_into`]: a string key is copied into the
/// scratch key's buffer, and a new `String` is made only for a group the partial
/// aggregate does not hold yet ([`KeyColumn::read`]).
///
/// Implemented for the column types a group key can have, and `Option` of them.
///
/// ```
/// use std::sync::Arc;
/// use arrow_array::{RecordBatch, StringArray};
/// use stream_core::__private::KeyColumn;
///
/// let batch = RecordBatch::try_from_iter([(
///     "country",
///     Arc::new(StringArray::from(vec![Some("DE"), None, Some("FR")])) as _,
/// )])?;
/// let column = <Option<String> as KeyColumn>::reader(&batch, "country", "Key")?;
/// let mut key = <Option<String> as KeyColumn>::read(&column, 0)?;
/// assert_eq!(key.as_deref(), Some("DE"));
/// <Option<String> as KeyColumn>::read_into(&column, 2, &mut key)?;
/// assert_eq!(key.as_deref(), Some("FR"));
/// <Option<String> as KeyColumn>::read_into(&column, 1, &mut key)?;
/// assert_eq!(key, None);
/// // a null where the key field is no `Option` is an error, not a panic
/// let required = <String as KeyColumn>::reader(&batch, "country", "Key")?;
/// assert!(<String as KeyColumn>::read(&required, 1).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait KeyColumn: Sized {
    /// The typed column.
    type Reader<'a>;

    /// Column `name` of `batch`; `row` is the struct the key belongs to, for errors.
    fn reader<'a>(
        batch: &'a RecordBatch,
        name: &'static str,
        row: &'static str,
    ) -> Result<Self::Reader<'a>>;

    /// The value of row `i`, owned.
    fn read(reader: &Self::Reader<'_>, i: usize) -> Result<Self>;

    /// Sets `into` to the value of row `i`, reusing its buffer.
    fn read_into(reader: &Self::Reader<'_>, i: usize, into: &mut Self) -> Result<()>;
}

/// A string or binary column, read in place.
pub struct BytesColumn<'a, A> {
    array: &'a A,
    name: &'static str,
    row: &'static str,
}

/// A column of values without a heap part, decoded once.
pub struct CopiedColumn<T> {
    values: Vec<Option<T>>,
    name: &'static str,
    row: &'static str,
}

#[inline]
fn required<T>(value: Option<T>, name: &str, row: &str) -> Result<T> {
    __derive::required(Some(value), name, row)
}

macro_rules! in_place_key {
    ($($t:ty, $array:ty, $slice:ty, |$a:ident| $typed:expr, $dt:expr, |$buf:ident, $v:ident| $fill:expr;)*) => {$(
        fn typed_column<'a>(
            batch: &'a RecordBatch,
            name: &'static str,
            row: &'static str,
        ) -> Result<BytesColumn<'a, $array>> {
            let $a = __derive::column(batch, name, row)?;
            let array = $typed.ok_or_else(|| crate::StreamError::SchemaMismatch {
                context: format!("column `{name}`"),
                message: format!("the key takes {} but the batch holds {}", $dt, $a.data_type()),
            })?;
            Ok(BytesColumn { array, name, row })
        }

        #[inline]
        fn value_at<'a>(column: &BytesColumn<'a, $array>, i: usize) -> Option<&'a $slice> {
            column.array.is_valid(i).then(|| column.array.value(i))
        }

        impl KeyColumn for $t {
            type Reader<'a> = BytesColumn<'a, $array>;

            fn reader<'a>(batch: &'a RecordBatch, name: &'static str, row: &'static str) -> Result<Self::Reader<'a>> {
                typed_column(batch, name, row)
            }

            #[inline]
            fn read(reader: &Self::Reader<'_>, i: usize) -> Result<Self> {
                Ok(required(value_at(reader, i), reader.name, reader.row)?.into())
            }

            #[inline]
            fn read_into(reader: &Self::Reader<'_>, i: usize, into: &mut Self) -> Result<()> {
                let $v = required(value_at(reader, i), reader.name, reader.row)?;
                let $buf = into;
                $fill;
                Ok(())
            }
        }

        impl KeyColumn for Option<$t> {
            type Reader<'a> = BytesColumn<'a, $array>;

            fn reader<'a>(batch: &'a RecordBatch, name: &'static str, row: &'static str) -> Result<Self::Reader<'a>> {
                typed_column(batch, name, row)
            }

            #[inline]
            fn read(reader: &Self::Reader<'_>, i: usize) -> Result<Self> {
                Ok(value_at(reader, i).map(Into::into))
            }

            #[inline]
            fn read_into(reader: &Self::Reader<'_>, i: usize, into: &mut Self) -> Result<()> {
                match (value_at(reader, i), into) {
                    (Some($v), Some($buf)) => $fill,
                    (value, into) => *into = value.map(Into::into),
                }
                Ok(())
            }
        }
    )*};
}

// Two types, so each gets its own module for the helper functions of the macro.
mod string {
    use super::*;
    in_place_key! {
        String, StringArray, str, |a| a.as_string_opt::<i32>(), DataType::Utf8,
            |buf, v| { buf.clear(); buf.push_str(v) };
    }
}

mod binary {
    use super::*;
    in_place_key! {
        Vec<u8>, BinaryArray, [u8], |a| a.as_binary_opt::<i32>(), DataType::Binary,
            |buf, v| { buf.clear(); buf.extend_from_slice(v) };
    }
}

macro_rules! copied_key {
    ($($t:ty),*) => {$(
        impl KeyColumn for $t {
            type Reader<'a> = CopiedColumn<$t>;

            fn reader<'a>(batch: &'a RecordBatch, name: &'static str, row: &'static str) -> Result<Self::Reader<'a>> {
                let values = <$t as ColumnValue>::from_array(__derive::column(batch, name, row)?, name)?;
                Ok(CopiedColumn { values, name, row })
            }

            #[inline]
            fn read(reader: &Self::Reader<'_>, i: usize) -> Result<Self> {
                required(reader.values.get(i).copied().flatten(), reader.name, reader.row)
            }

            #[inline]
            fn read_into(reader: &Self::Reader<'_>, i: usize, into: &mut Self) -> Result<()> {
                *into = Self::read(reader, i)?;
                Ok(())
            }
        }

        impl KeyColumn for Option<$t> {
            type Reader<'a> = CopiedColumn<$t>;

            fn reader<'a>(batch: &'a RecordBatch, name: &'static str, row: &'static str) -> Result<Self::Reader<'a>> {
                <$t as KeyColumn>::reader(batch, name, row)
            }

            #[inline]
            fn read(reader: &Self::Reader<'_>, i: usize) -> Result<Self> {
                Ok(reader.values.get(i).copied().flatten())
            }

            #[inline]
            fn read_into(reader: &Self::Reader<'_>, i: usize, into: &mut Self) -> Result<()> {
                *into = Self::read(reader, i)?;
                Ok(())
            }
        }
    )*};
}

copied_key!(bool, i32, i64, f32, f64, Date32, TimestampMs, TimestampUs);

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::{BinaryArray, Int64Array};

    use super::*;

    fn batch() -> RecordBatch {
        RecordBatch::try_from_iter([
            (
                "n",
                Arc::new(Int64Array::from(vec![Some(1), None])) as arrow_array::ArrayRef,
            ),
            (
                "b",
                Arc::new(BinaryArray::from(vec![Some(&b"ab"[..]), None])) as _,
            ),
        ])
        .unwrap()
    }

    #[test]
    fn numbers_and_bytes_read_as_the_row_holds_them() {
        let batch = batch();
        let n = <Option<i64> as KeyColumn>::reader(&batch, "n", "K").unwrap();
        assert_eq!(<Option<i64> as KeyColumn>::read(&n, 0).unwrap(), Some(1));
        assert_eq!(<Option<i64> as KeyColumn>::read(&n, 1).unwrap(), None);
        let required = <i64 as KeyColumn>::reader(&batch, "n", "K").unwrap();
        let error = <i64 as KeyColumn>::read(&required, 1).unwrap_err();
        assert!(error.to_string().contains("`K::n`"), "{error}");

        let b = <Option<Vec<u8>> as KeyColumn>::reader(&batch, "b", "K").unwrap();
        let mut key = None;
        <Option<Vec<u8>> as KeyColumn>::read_into(&b, 0, &mut key).unwrap();
        assert_eq!(key.as_deref(), Some(&b"ab"[..]));
        <Option<Vec<u8>> as KeyColumn>::read_into(&b, 1, &mut key).unwrap();
        assert_eq!(key, None);
    }

    #[test]
    fn a_missing_or_mistyped_column_is_an_error() {
        let batch = batch();
        assert!(<String as KeyColumn>::reader(&batch, "x", "K").is_err());
        let error = <String as KeyColumn>::reader(&batch, "n", "K")
            .err()
            .unwrap();
        assert!(error.to_string().contains("`n`"), "{error}");
    }
}
