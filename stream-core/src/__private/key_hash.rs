//! The stable hash of every row's key, computed column by column from the batch: the
//! same value [`super::stable_hash`] gives for the key's row struct, without decoding
//! one. A map side that only routes rows (deduplication) hashes its keys this way: no
//! string is copied, and the hashes of many rows advance side by side instead of one
//! row's bytes after another's.

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Date32Type, Float32Type, Float64Type, Int32Type, Int64Type, TimestampMicrosecondType,
    TimestampMillisecondType,
};
use arrow_array::{Array, ArrayRef};
use arrow_schema::{DataType, Field, TimeUnit};

use std::hash::Hasher;

use super::stateful::{StableHasher, canonical};

/// FNV-1a's prime; [`StableHasher`] is FNV-1a.
const PRIME: u64 = 0x0100_0000_01b3;

#[inline(always)]
fn feed(hash: u64, bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .fold(hash, |h, b| (h ^ u64::from(*b)).wrapping_mul(PRIME))
}

/// The stable hash of each row's key, whose parts are `columns` in the key struct's
/// field order, each read as `fields` (the key struct's schema) says: the hash
/// [`super::stable_hash`] gives for the decoded key. `None` when a column's type is not
/// one this kernel reads (the caller decodes the keys instead).
///
/// ```
/// use std::sync::Arc;
/// use arrow_array::{ArrayRef, Int64Array, StringArray};
/// use stream_core::__private::{key_hashes, stable_hash};
/// use stream_core::types::TypedRow;
///
/// // a key struct as `stream!` generates one
/// #[derive(Clone, Debug)]
/// struct Key { user: String, n: Option<i64> }
/// stream_core::__row!(typed Key { user: String = "user" [], n: i64 = "n" [?] });
/// stream_core::__row!(key Key { user, n });
///
/// let users: ArrayRef = Arc::new(StringArray::from(vec!["ann", "bob"]));
/// let ns: ArrayRef = Arc::new(Int64Array::from(vec![Some(1), None]));
/// let hashes = key_hashes(&[users, ns], Key::arrow_schema().fields()).unwrap();
/// assert_eq!(hashes[1], stable_hash(&Key { user: "bob".into(), n: None }));
/// ```
pub fn key_hashes(columns: &[ArrayRef], fields: &[impl AsRef<Field>]) -> Option<Vec<u64>> {
    let rows = columns.first().map_or(0, |c| c.len());
    let mut hashes = vec![StableHasher::default().finish(); rows];
    if columns.len() != fields.len() {
        return None;
    }
    for (column, field) in columns.iter().zip(fields) {
        let field = field.as_ref();
        if column.data_type() != field.data_type() || column.len() != rows {
            return None;
        }
        let nullable = field.is_nullable();
        if !nullable && column.null_count() > 0 {
            return None;
        }
        feed_column(&mut hashes, column.as_ref(), nullable)?;
    }
    Some(hashes)
}

/// Feeds one key part of every row, as its `KeyPart::key_hash` does (a nullable part
/// with its `Option` tag first).
fn feed_column(hashes: &mut [u64], column: &dyn Array, nullable: bool) -> Option<()> {
    macro_rules! each {
        ($bytes:expr) => {{
            for (i, h) in hashes.iter_mut().enumerate() {
                if nullable {
                    if column.is_null(i) {
                        *h = feed(*h, &[0]);
                        continue;
                    }
                    *h = feed(*h, &[1]);
                }
                *h = feed(*h, &$bytes(i));
            }
        }};
    }
    match column.data_type() {
        DataType::Int32 => {
            let a = column.as_primitive::<Int32Type>();
            each!(|i| a.value(i).to_le_bytes())
        }
        DataType::Date32 => {
            let a = column.as_primitive::<Date32Type>();
            each!(|i| a.value(i).to_le_bytes())
        }
        DataType::Int64 => {
            let a = column.as_primitive::<Int64Type>();
            each!(|i| a.value(i).to_le_bytes())
        }
        DataType::Timestamp(TimeUnit::Millisecond, _) => {
            let a = column.as_primitive::<TimestampMillisecondType>();
            each!(|i| a.value(i).to_le_bytes())
        }
        DataType::Timestamp(TimeUnit::Microsecond, _) => {
            let a = column.as_primitive::<TimestampMicrosecondType>();
            each!(|i| a.value(i).to_le_bytes())
        }
        DataType::Float64 => {
            let a = column.as_primitive::<Float64Type>();
            each!(|i| canonical(a.value(i)).to_le_bytes())
        }
        DataType::Float32 => {
            let a = column.as_primitive::<Float32Type>();
            each!(|i| canonical(f64::from(a.value(i))).to_le_bytes())
        }
        DataType::Boolean => {
            let a = column.as_boolean();
            each!(|i| [u8::from(a.value(i))])
        }
        DataType::Utf8 => {
            let a = column.as_string::<i32>();
            feed_bytes(hashes, nullable, column, |i| a.value(i).as_bytes());
        }
        DataType::Binary => {
            let a = column.as_binary::<i32>();
            feed_bytes(hashes, nullable, column, |i| a.value(i));
        }
        _ => return None,
    }
    Some(())
}

/// Feeds a string or binary part of every row as `KeyPart` does: its length as a
/// `u64`, then its bytes.
fn feed_bytes<'a>(
    hashes: &mut [u64],
    nullable: bool,
    column: &dyn Array,
    value: impl Fn(usize) -> &'a [u8],
) {
    for (i, h) in hashes.iter_mut().enumerate() {
        if nullable {
            if column.is_null(i) {
                *h = feed(*h, &[0]);
                continue;
            }
            *h = feed(*h, &[1]);
        }
        let v = value(i);
        *h = feed(feed(*h, &(v.len() as u64).to_le_bytes()), v);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::{
        BinaryArray, BooleanArray, Date32Array, Float32Array, Float64Array, Int32Array, Int64Array,
        RecordBatch, StringArray, TimestampMillisecondArray,
    };

    use super::*;
    use crate::types::{Date32, TimestampMs, TypedRow};

    // a key struct as `stream!` generates it: `Hash` through `KeyPart`
    #[derive(Clone, Debug)]
    struct Key {
        s: Option<String>,
        i: i32,
        l: Option<i64>,
        f: Option<f64>,
        g: f32,
        b: Option<bool>,
        d: Date32,
        t: Option<TimestampMs>,
        x: Option<Vec<u8>>,
    }
    crate::__row!(typed Key {
        s: String = "s" [?], i: i32 = "i" [], l: i64 = "l" [?], f: f64 = "f" [?],
        g: f32 = "g" [], b: bool = "b" [?], d: Date32 = "d" [],
        t: TimestampMs = "t" [?], x: Vec<u8> = "x" [?]
    });
    crate::__row!(key Key { s, i, l, f, g, b, d, t, x });

    #[test]
    fn the_kernel_gives_the_hash_of_each_decoded_key() {
        let n = 64;
        let strings = [
            "",
            "a",
            "ann",
            "ännchen",
            "a much longer string than the others",
        ];
        let batch = RecordBatch::try_new(
            Key::arrow_schema(),
            vec![
                Arc::new(StringArray::from_iter(
                    (0..n).map(|i| (i % 7 != 3).then(|| strings[i % 5])),
                )),
                Arc::new(Int32Array::from_iter_values((0..n).map(|i| i as i32 - 30))),
                Arc::new(Int64Array::from_iter(
                    (0..n).map(|i| (i % 5 != 1).then_some(i as i64 * 1_000_003)),
                )),
                Arc::new(Float64Array::from_iter((0..n).map(|i| match i % 6 {
                    0 => None,
                    1 => Some(-0.0),
                    2 => Some(f64::NAN),
                    3 => Some(0.0),
                    _ => Some(i as f64 / 3.0),
                }))),
                Arc::new(Float32Array::from_iter_values(
                    (0..n).map(|i| if i % 4 == 0 { -0.0 } else { i as f32 }),
                )),
                Arc::new(BooleanArray::from_iter(
                    (0..n).map(|i| (i % 3 != 0).then_some(i % 2 == 0)),
                )),
                Arc::new(Date32Array::from_iter_values((0..n).map(|i| i as i32 * 17))),
                Arc::new(
                    TimestampMillisecondArray::from_iter(
                        (0..n).map(|i| (i % 9 != 0).then_some(i as i64 - 5)),
                    )
                    .with_timezone("UTC"),
                ),
                Arc::new(BinaryArray::from_iter((0..n).map(|i| {
                    (i % 4 != 2).then(|| strings[i % 5].as_bytes().to_vec())
                }))),
            ],
        )
        .unwrap();
        let hashes = key_hashes(batch.columns(), Key::arrow_schema().fields()).unwrap();
        let keys = Key::from_batch(&batch).unwrap();
        let expected: Vec<u64> = keys.iter().map(crate::__private::stable_hash).collect();
        assert_eq!(hashes, expected);
        let distinct: std::collections::HashSet<u64> = hashes.iter().copied().collect();
        assert!(distinct.len() > n / 2, "the rows differ, so do most hashes");
    }

    #[test]
    fn an_unknown_type_or_a_null_in_a_non_nullable_part_leaves_it_to_the_decoder() {
        let ints: ArrayRef = Arc::new(Int32Array::from(vec![Some(1), None]));
        let strict = [Field::new("i", DataType::Int32, false)];
        assert!(key_hashes(std::slice::from_ref(&ints), &strict).is_none());
        let wrong = [Field::new("i", DataType::Int64, true)];
        assert!(key_hashes(std::slice::from_ref(&ints), &wrong).is_none());
        let lists: ArrayRef = Arc::new(arrow_array::ListArray::new_null(
            Arc::new(Field::new("item", DataType::Int32, true)),
            2,
        ));
        let list = [Field::new("l", lists.data_type().clone(), true)];
        assert!(key_hashes(&[lists], &list).is_none());
        let nullable = [Field::new("i", DataType::Int32, true)];
        assert_eq!(key_hashes(&[ints], &nullable).unwrap().len(), 2);
    }
}
