//! What stateful operators need of keys and times: window assignment, a hash of group
//! keys that is stable across processes (state is partitioned by it, and the
//! partitioning is fixed by the checkpoint), Spark's grouping and ordering of values,
//! and glue between row structs and record batches.

use std::hash::Hasher;
use std::sync::Arc;

use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{Field, Schema};

use crate::Result;
use crate::types::{Date32, TimestampMs, TimestampUs};

/// The windows of size `size` sliding by `slide` (both > 0), shifted by `start`, that
/// contain the instant `t`, as `(start, end)` with `start <= t < end`, oldest first;
/// Spark's `window(col, size, slide, start)` (a tumbling window when `slide == size`).
///
/// ```
/// use stream_core::__private::windows;
/// assert_eq!(windows(90, 60, 60, 0).collect::<Vec<_>>(), [(60, 120)]);
/// assert_eq!(windows(90, 60, 30, 0).collect::<Vec<_>>(), [(60, 120), (90, 150)]);
/// assert_eq!(windows(-1, 60, 60, 0).collect::<Vec<_>>(), [(-60, 0)]);
/// ```
#[inline]
pub fn windows(t: i64, size: i64, slide: i64, start: i64) -> impl Iterator<Item = (i64, i64)> {
    let last_start = t - (t - start).rem_euclid(slide);
    let count = (size + slide - 1) / slide;
    (0..count).rev().filter_map(move |i| {
        let s = last_start - i * slide;
        let e = s + size;
        (s <= t && t < e).then_some((s, e))
    })
}

/// FNV-1a, 64 bits: a hash that is the same in every process and Rust version, which
/// routes a group key to its shuffle partition.
#[derive(Clone, Copy, Debug)]
pub struct StableHasher(u64);

impl Default for StableHasher {
    fn default() -> Self {
        StableHasher(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for StableHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

/// A value that can be part of a group key: compared and hashed as Spark groups values
/// (`-0.0` equals `0.0`, every NaN equals every NaN), with a byte encoding that does not
/// depend on the platform.
pub trait KeyPart {
    /// Whether two key values group together.
    fn key_eq(&self, other: &Self) -> bool;
    /// Feeds the value's canonical bytes to `state`.
    fn key_hash<H: Hasher>(&self, state: &mut H);
}

macro_rules! int_key {
    ($($t:ty),*) => {$(
        impl KeyPart for $t {
            #[inline] fn key_eq(&self, other: &Self) -> bool { self == other }
            fn key_hash<H: Hasher>(&self, state: &mut H) { state.write(&self.to_le_bytes()) }
        }
    )*};
}
int_key!(i32, i64);

macro_rules! float_key {
    ($($t:ty),*) => {$(
        impl KeyPart for $t {
            #[inline] fn key_eq(&self, other: &Self) -> bool { canonical(*self as f64) == canonical(*other as f64) }
            fn key_hash<H: Hasher>(&self, state: &mut H) { state.write(&canonical(*self as f64).to_le_bytes()) }
        }
    )*};
}
float_key!(f32, f64);

/// The bits a float groups by: one zero, one NaN.
pub(super) fn canonical(v: f64) -> u64 {
    if v == 0.0 {
        0
    } else if v.is_nan() {
        f64::NAN.to_bits()
    } else {
        v.to_bits()
    }
}

impl KeyPart for bool {
    #[inline]
    fn key_eq(&self, other: &Self) -> bool {
        self == other
    }
    fn key_hash<H: Hasher>(&self, state: &mut H) {
        state.write(&[u8::from(*self)]);
    }
}

impl KeyPart for String {
    #[inline]
    fn key_eq(&self, other: &Self) -> bool {
        self == other
    }
    #[inline]
    fn key_hash<H: Hasher>(&self, state: &mut H) {
        hash_bytes(self.as_bytes(), state);
    }
}

/// What a string or binary key part feeds the hasher: its length (eight bytes, little
/// endian), then its bytes.
#[inline]
pub(super) fn hash_bytes<H: Hasher>(bytes: &[u8], state: &mut H) {
    state.write(&(bytes.len() as u64).to_le_bytes());
    state.write(bytes);
}

impl KeyPart for Vec<u8> {
    #[inline]
    fn key_eq(&self, other: &Self) -> bool {
        self == other
    }
    fn key_hash<H: Hasher>(&self, state: &mut H) {
        hash_bytes(self, state);
    }
}

macro_rules! newtype_key {
    ($($t:ty),*) => {$(
        impl KeyPart for $t {
            #[inline] fn key_eq(&self, other: &Self) -> bool { self.0.key_eq(&other.0) }
            fn key_hash<H: Hasher>(&self, state: &mut H) { self.0.key_hash(state) }
        }
    )*};
}
newtype_key!(Date32, TimestampMs, TimestampUs);

impl<T: KeyPart> KeyPart for Option<T> {
    #[inline]
    fn key_eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Some(a), Some(b)) => a.key_eq(b),
            (None, None) => true,
            _ => false,
        }
    }
    #[inline]
    fn key_hash<H: Hasher>(&self, state: &mut H) {
        match self {
            Some(v) => {
                state.write(&[1]);
                v.key_hash(state);
            }
            None => state.write(&[0]),
        }
    }
}

/// A value that `min`, `max`, `min_by` and `max_by` compare, ordered as Spark orders
/// it: floats with every NaN above every number and `-0.0` equal to `0.0`; other types
/// by their natural order.
pub trait SparkOrd {
    /// `self` against `other`.
    fn spark_cmp(&self, other: &Self) -> std::cmp::Ordering;
}

macro_rules! natural_order {
    ($($t:ty),*) => {$(
        impl SparkOrd for $t {
            #[inline]
            fn spark_cmp(&self, other: &Self) -> std::cmp::Ordering { Ord::cmp(self, other) }
        }
    )*};
}
natural_order!(
    i32,
    i64,
    bool,
    String,
    Vec<u8>,
    Date32,
    TimestampMs,
    TimestampUs
);

macro_rules! float_order {
    ($($t:ty),*) => {$(
        impl SparkOrd for $t {
            #[inline]
            fn spark_cmp(&self, other: &Self) -> std::cmp::Ordering {
                match (self.is_nan(), other.is_nan()) {
                    (true, true) => std::cmp::Ordering::Equal,
                    (true, false) => std::cmp::Ordering::Greater,
                    (false, true) => std::cmp::Ordering::Less,
                    (false, false) => self.partial_cmp(other).unwrap_or(std::cmp::Ordering::Equal),
                }
            }
        }
    )*};
}
float_order!(f32, f64);

/// Whether `a` is above `b` in Spark's order (see [`SparkOrd`]).
///
/// ```
/// use stream_core::__private::{spark_gt, spark_lt};
/// assert!(spark_gt(&f64::NAN, &f64::INFINITY));
/// assert!(!spark_gt(&0.0f64, &-0.0));
/// assert!(spark_lt(&1.0f64, &f64::NAN));
/// ```
#[inline]
pub fn spark_gt<T: SparkOrd>(a: &T, b: &T) -> bool {
    a.spark_cmp(b) == std::cmp::Ordering::Greater
}

/// Whether `a` is below `b` in Spark's order (see [`SparkOrd`]).
#[inline]
pub fn spark_lt<T: SparkOrd>(a: &T, b: &T) -> bool {
    a.spark_cmp(b) == std::cmp::Ordering::Less
}

/// The shuffle partition of a key whose stable hash is `hash`.
#[inline]
pub fn partition_of(hash: u64, partitions: usize) -> usize {
    (hash % partitions.max(1) as u64) as usize
}

/// One batch with the columns of `left` then those of `right` (same row count): a
/// group key and its partial aggregate travel together through the exchange.
pub fn zip_batches(left: &RecordBatch, right: &RecordBatch) -> Result<RecordBatch> {
    let fields: Vec<Arc<Field>> = left
        .schema()
        .fields()
        .iter()
        .chain(right.schema().fields().iter())
        .cloned()
        .collect();
    let columns: Vec<ArrayRef> = left
        .columns()
        .iter()
        .chain(right.columns())
        .cloned()
        .collect();
    let options = arrow_array::RecordBatchOptions::new().with_row_count(Some(left.num_rows()));
    Ok(RecordBatch::try_new_with_options(
        Arc::new(Schema::new(fields)),
        columns,
        &options,
    )?)
}

/// The event times of a timestamp column in milliseconds (`unit_per_ms` 1 for ms, 1000
/// for µs columns).
#[inline]
pub fn to_ms(value: i64, unit_per_ms: i64) -> i64 {
    value.div_euclid(unit_per_ms)
}

/// A watermark (ms) in a column's unit.
#[inline]
pub fn from_ms(ms: i64, unit_per_ms: i64) -> i64 {
    ms.saturating_mul(unit_per_ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash<T: KeyPart>(v: &T) -> u64 {
        let mut h = StableHasher::default();
        v.key_hash(&mut h);
        h.finish()
    }

    #[test]
    fn floats_group_as_spark_groups_them() {
        assert!(0.0f64.key_eq(&-0.0));
        assert_eq!(hash(&0.0f64), hash(&-0.0f64));
        assert!(f64::NAN.key_eq(&(-f64::NAN)));
        assert!(!1.0f64.key_eq(&2.0));
    }

    #[test]
    fn the_stable_hash_does_not_change() {
        // FNV-1a of the length (8 bytes, little-endian) and the bytes, computed apart
        // (python): fixed forever, since state partitioning depends on it
        assert_eq!(hash(&String::from("DE")), 0x9be8_f4d3_2844_0a14);
        assert_ne!(hash(&Some(1i64)), hash(&None::<i64>));
        // integers, floats and the null tag go in as their little-endian bytes
        let fnv = |bytes: &[u8]| {
            bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
                (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
            })
        };
        let mut some = vec![1u8];
        some.extend_from_slice(&(-5i64).to_le_bytes());
        assert_eq!(hash(&Some(-5i64)), fnv(&some));
        assert_eq!(hash(&7i32), fnv(&7i32.to_le_bytes()));
        assert_eq!(hash(&1.5f64), fnv(&1.5f64.to_bits().to_le_bytes()));
        assert_eq!(hash(&None::<i64>), fnv(&[0]));
    }

    #[test]
    fn windows_cover_the_instant_with_an_offset() {
        assert_eq!(windows(125, 60, 60, 10).collect::<Vec<_>>(), [(70, 130)]);
        assert_eq!(
            windows(0, 600, 300, 0).collect::<Vec<_>>(),
            [(-300, 300), (0, 600)]
        );
        assert_eq!(
            windows(59_999, 60_000, 60_000, 0).collect::<Vec<_>>(),
            [(0, 60_000)]
        );
    }
}
