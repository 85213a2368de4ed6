//! The accumulators of `collect_list` and `collect_set`: a `Vec` of the group's values.
//!
//! `collect_list` appends in arrival order. `collect_set` keeps its values sorted
//! ascending and without duplicates, so that its result does not depend on the order
//! rows arrive in, on the number of tasks or on the shuffle partitions; floats are
//! ordered by [`f64::total_cmp`] after `-0.0` is taken as `0.0` and every NaN as one NaN
//! (Spark's normalization of floats in sets and keys).

use std::cmp::Ordering;

use crate::types::{Date32, TimestampMs, TimestampUs};

/// An item type of `collect_set`: a total order, and the value to store for a value.
pub trait SetItem: Sized {
    /// The value as stored (floats normalized; others unchanged).
    fn normalized(self) -> Self {
        self
    }

    /// The total order of the set.
    fn set_cmp(&self, other: &Self) -> Ordering;
}

macro_rules! ordered {
    ($($t:ty),*) => {$(
        impl SetItem for $t {
            fn set_cmp(&self, other: &Self) -> Ordering {
                self.cmp(other)
            }
        }
    )*};
}
ordered!(bool, i32, i64, String, Date32, TimestampMs, TimestampUs);

macro_rules! float {
    ($($t:ty),*) => {$(
        impl SetItem for $t {
            fn normalized(self) -> Self {
                if self.is_nan() {
                    <$t>::NAN
                } else if self == 0.0 {
                    0.0
                } else {
                    self
                }
            }

            fn set_cmp(&self, other: &Self) -> Ordering {
                self.total_cmp(other)
            }
        }
    )*};
}
float!(f32, f64);

/// Adds `value` to the sorted, duplicate-free `set` unless it holds it already.
pub fn collect_set_add<T: SetItem>(set: &mut Vec<T>, value: T) {
    let value = value.normalized();
    if let Err(at) = set.binary_search_by(|probe| probe.set_cmp(&value)) {
        set.insert(at, value);
    }
}

/// Adds every value of `from` to `into` (both sorted and duplicate-free).
pub fn collect_set_merge<T: SetItem>(into: &mut Vec<T>, from: Vec<T>) {
    if into.is_empty() {
        *into = from;
        return;
    }
    let mut merged = Vec::with_capacity(into.len() + from.len());
    let mut left = std::mem::take(into).into_iter().peekable();
    let mut right = from.into_iter().peekable();
    loop {
        let order = match (left.peek(), right.peek()) {
            (Some(l), Some(r)) => l.set_cmp(r),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => break,
        };
        match order {
            Ordering::Less => merged.extend(left.next()),
            Ordering::Greater => merged.extend(right.next()),
            Ordering::Equal => {
                merged.extend(left.next());
                right.next();
            }
        }
    }
    *into = merged;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_set_stays_sorted_and_distinct_however_it_is_built() {
        let mut a = Vec::new();
        for v in [3, 1, 3, 2] {
            collect_set_add(&mut a, v);
        }
        assert_eq!(a, vec![1, 2, 3]);
        let mut b = vec![0, 2, 5];
        collect_set_merge(&mut b, a.clone());
        assert_eq!(b, vec![0, 1, 2, 3, 5]);
        let mut empty = Vec::new();
        collect_set_merge(&mut empty, a);
        assert_eq!(empty, vec![1, 2, 3]);
    }

    #[test]
    fn floats_are_normalized() {
        let mut s = Vec::new();
        for v in [0.0, -0.0, f64::NAN, -f64::NAN, 1.5] {
            collect_set_add(&mut s, v);
        }
        assert_eq!(s.len(), 3);
        assert_eq!(s[0].to_bits(), 0.0f64.to_bits());
        assert!(s[2].is_nan());
    }
}
