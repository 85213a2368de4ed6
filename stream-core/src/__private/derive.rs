//! What `#[derive(Schema)]` and the row structs of `stream!` call to read a record
//! batch's columns into fields.

use arrow_array::{Array, RecordBatch};

use crate::{Result, StreamError};

/// The column called `name` of `batch`.
pub fn column<'a>(batch: &'a RecordBatch, name: &str, row: &str) -> Result<&'a dyn Array> {
    batch
        .column_by_name(name)
        .map(|c| c.as_ref())
        .ok_or_else(|| StreamError::SchemaMismatch {
            context: format!("column `{name}`"),
            message: format!(
                "`{row}` has a field `{name}` but the batch has no such column; it has: {}",
                batch
                    .schema_ref()
                    .fields()
                    .iter()
                    .map(|f| format!("`{}`", f.name()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        })
}

/// The value of a field that is not an `Option`: null is an error. Called once per row
/// and field: inlined, with the error built out of line.
#[inline]
pub fn required<T>(value: Option<Option<T>>, name: &str, row: &str) -> Result<T> {
    match value {
        Some(Some(v)) => Ok(v),
        _ => Err(null_in_required(name, row)),
    }
}

#[cold]
#[inline(never)]
fn null_in_required(name: &str, row: &str) -> StreamError {
    StreamError::SchemaMismatch {
        context: format!("column `{name}`"),
        message: format!(
            "a row holds null but `{row}::{name}` is not an `Option`; make the field an `Option`"
        ),
    }
}

/// The schema of a row struct from its fields' columns.
pub fn schema(fields: Vec<arrow_schema::Field>) -> arrow_schema::SchemaRef {
    std::sync::Arc::new(arrow_schema::Schema::new(fields))
}

/// A record batch of `rows` rows with `columns` (which carries its row count, so that a
/// row struct without fields still has its rows).
pub fn batch(
    schema: arrow_schema::SchemaRef,
    columns: Vec<arrow_array::ArrayRef>,
    rows: usize,
) -> Result<RecordBatch> {
    let options = arrow_array::RecordBatchOptions::new().with_row_count(Some(rows));
    Ok(RecordBatch::try_new_with_options(
        schema, columns, &options,
    )?)
}

/// The values of column `name` of `batch` as `T`, row by row.
pub fn values<T: crate::types::ColumnValue>(
    batch: &RecordBatch,
    name: &str,
    row: &str,
) -> Result<std::vec::IntoIter<Option<T>>> {
    Ok(T::from_array(column(batch, name, row)?, name)?.into_iter())
}

/// Implements what the row structs of `stream!` need, from their fields: `TypedRow`
/// (`typed`: each field with its value type, its column and `[?]` when it is an
/// `Option`), the grouping `PartialEq`, `Eq` and `Hash` of a key (`key`) and `HeapSize`
/// (`heap`). Generated code calls it as `::stream_core::__row!`.
///
/// ```
/// #[derive(Clone, Debug, PartialEq)]
/// struct Sale { country: Option<String>, amount: f64 }
/// stream_core::__row!(typed Sale { country: String = "country" [?], amount: f64 = "amount" [] });
///
/// use stream_core::types::TypedRow;
/// let rows = vec![Sale { country: None, amount: 2.5 }];
/// let batch = Sale::to_batch(&rows)?;
/// assert_eq!(batch.schema().field(0).is_nullable(), true);
/// assert_eq!(Sale::from_batch(&batch)?, rows);
/// # Ok::<(), stream_core::StreamError>(())
/// ```
#[doc(hidden)]
#[macro_export]
macro_rules! __row {
    (typed $row:ident { $($field:ident : $value:ty = $col:literal [$($null:tt)?]),* $(,)? }) => {
        #[automatically_derived]
        impl $crate::types::TypedRow for $row {
            fn arrow_schema() -> $crate::__private::arrow_schema::SchemaRef {
                $crate::__private::derive::schema(::std::vec![$(
                    $crate::__private::arrow_schema::Field::new(
                        $col,
                        <$value as $crate::types::ColumnValue>::data_type(),
                        $crate::__row!(@nullable $($null)?),
                    )
                ),*])
            }
            fn to_batch(
                rows: &[Self],
            ) -> $crate::Result<$crate::__private::arrow_array::RecordBatch> {
                $crate::__row!(@batch rows { $($field : $value [$($null)?]),* })
            }
            fn to_batch_refs(
                rows: &[&Self],
            ) -> $crate::Result<$crate::__private::arrow_array::RecordBatch> {
                $crate::__row!(@batch rows { $($field : $value [$($null)?]),* })
            }
            fn from_batch(
                batch: &$crate::__private::arrow_array::RecordBatch,
            ) -> $crate::Result<::std::vec::Vec<Self>> {
                $(
                    let mut $field =
                        $crate::__private::derive::values::<$value>(batch, $col, stringify!($row))?;
                )*
                let mut rows = ::std::vec::Vec::with_capacity(batch.num_rows());
                for _ in 0..batch.num_rows() {
                    rows.push($row {
                        $($field: $crate::__row!(@next $field $col $row $($null)?),)*
                    });
                }
                ::core::result::Result::Ok(rows)
            }
        }
        #[automatically_derived]
        impl $crate::state::StateBytes for $row {
            #[inline]
            fn write_bytes(&self, out: &mut ::std::vec::Vec<u8>) {
                let _ = &out;
                $($crate::__row!(@write self.$field, out, [$($null)?] $value);)*
            }
            #[inline]
            fn read_bytes(input: &mut &[u8]) -> $crate::Result<Self> {
                let _ = &input;
                ::core::result::Result::Ok($row {
                    $($field: $crate::__row!(@read input, [$($null)?] $value),)*
                })
            }
        }
    };
    (key $row:ident { $($field:ident),* $(,)? }) => {
        impl ::core::cmp::PartialEq for $row {
            #[inline]
            fn eq(&self, other: &Self) -> bool {
                // a key of no fields (an aggregation without keys) reads neither
                let _ = (&self, &other);
                true $(&& $crate::__private::KeyPart::key_eq(&self.$field, &other.$field))*
            }
        }
        impl ::core::cmp::Eq for $row {}
        impl ::core::hash::Hash for $row {
            #[inline]
            fn hash<H: ::core::hash::Hasher>(&self, state: &mut H) {
                let _ = &state;
                $($crate::__private::KeyPart::key_hash(&self.$field, state);)*
            }
        }
    };
    (heap $row:ident { $($field:ident),* $(,)? }) => {
        impl $crate::state::HeapSize for $row {
            fn heap_size(&self) -> usize {
                0 $(+ $crate::state::HeapSize::heap_size(&self.$field))*
            }
        }
    };
    (@batch $rows:ident { $($field:ident : $value:ty [$($null:tt)?]),* }) => {
        $crate::__private::derive::batch(
            <Self as $crate::types::TypedRow>::arrow_schema(),
            ::std::vec![$(
                <$value as $crate::types::ColumnValue>::to_array(
                    $rows.iter().map(|r| $crate::__row!(@ref r.$field $($null)?)),
                )
            ),*],
            $rows.len(),
        )
    };
    (@write $self:ident . $field:ident, $out:ident, [?] $value:ty) => {
        <::core::option::Option<$value> as $crate::state::StateBytes>::write_bytes(&$self.$field, $out)
    };
    (@write $self:ident . $field:ident, $out:ident, [] $value:ty) => {
        <$value as $crate::state::StateBytes>::write_bytes(&$self.$field, $out)
    };
    (@read $input:ident, [?] $value:ty) => {
        <::core::option::Option<$value> as $crate::state::StateBytes>::read_bytes($input)?
    };
    (@read $input:ident, [] $value:ty) => {
        <$value as $crate::state::StateBytes>::read_bytes($input)?
    };
    (@nullable ?) => { true };
    (@nullable) => { false };
    (@ref $r:ident . $field:ident ?) => { ::core::option::Option::as_ref(&$r.$field) };
    (@ref $r:ident . $field:ident) => { ::core::option::Option::Some(&$r.$field) };
    (@next $field:ident $col:literal $row:ident ?) => {
        ::core::iter::Iterator::next(&mut $field).flatten()
    };
    (@next $field:ident $col:literal $row:ident) => {
        $crate::__private::derive::required(
            ::core::iter::Iterator::next(&mut $field),
            $col,
            stringify!($row),
        )?
    };
}
