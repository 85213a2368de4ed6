//! [`HeapSize`]: the heap bytes a key or value owns, for the state's memory estimate.

use crate::types::{Date32, TimestampMs, TimestampUs};

/// The bytes a value owns on the heap, beyond its own `size_of`: what a [`StateStore`]
/// adds per key and per value to its `memoryUsedBytes` estimate.
///
/// Implemented for every column type (fixed-width types own nothing; `String` and
/// `Vec<u8>` own their capacity; a list `Vec<T>` owns its buffer and what its items
/// own; `Option<T>` owns what its `T` owns). A key or value
/// struct sums its fields; the code `stream!` generates does that, and a struct whose
/// fields are all fixed-width can take the default (zero) with an empty impl.
///
/// [`StateStore`]: crate::state::StateStore
///
/// ```
/// use stream_core::state::HeapSize;
/// use stream_core::types::TimestampMs;
///
/// struct Key { user: String, window_start: TimestampMs }
/// impl HeapSize for Key {
///     fn heap_size(&self) -> usize {
///         self.user.heap_size() + self.window_start.heap_size()
///     }
/// }
///
/// struct Count { n: i64 }
/// impl HeapSize for Count {} // fixed-width: nothing on the heap
///
/// let key = Key { user: String::with_capacity(16), window_start: TimestampMs(0) };
/// assert_eq!(key.heap_size(), 16);
/// assert_eq!(Count { n: 3 }.heap_size(), 0);
/// ```
pub trait HeapSize {
    /// Heap bytes owned by `self`: the capacity (not the length) of its buffers.
    /// Zero by default, which is right for fixed-width values.
    fn heap_size(&self) -> usize {
        0
    }
}

macro_rules! fixed_width {
    ($($t:ty),*) => {$(
        impl HeapSize for $t {}
    )*};
}
fixed_width!(bool, i32, i64, f32, f64, Date32, TimestampMs, TimestampUs);

impl HeapSize for String {
    fn heap_size(&self) -> usize {
        self.capacity()
    }
}

impl HeapSize for Vec<u8> {
    fn heap_size(&self) -> usize {
        self.capacity()
    }
}

macro_rules! list {
    ($($t:ty),*) => {$(
        /// A list owns its buffer (its capacity in items) and what each item owns.
        impl HeapSize for Vec<$t> {
            fn heap_size(&self) -> usize {
                self.capacity() * std::mem::size_of::<$t>()
                    + self.iter().map(HeapSize::heap_size).sum::<usize>()
            }
        }
    )*};
}
list!(
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

impl<T: HeapSize> HeapSize for Option<T> {
    fn heap_size(&self) -> usize {
        self.as_ref().map_or(0, HeapSize::heap_size)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variable_width_columns_count_their_capacity_fixed_width_nothing() {
        let mut s = String::with_capacity(10);
        s.push_str("abc");
        assert_eq!(s.heap_size(), 10);
        assert_eq!(Vec::<u8>::with_capacity(7).heap_size(), 7);
        assert_eq!(Some(String::with_capacity(5)).heap_size(), 5);
        assert_eq!(None::<String>.heap_size(), 0);
        assert_eq!(42i64.heap_size() + TimestampMs(1).heap_size(), 0);
    }

    #[test]
    fn lists_count_their_buffer_and_their_items() {
        let mut ints = Vec::<i64>::with_capacity(4);
        ints.push(1);
        assert_eq!(ints.heap_size(), 32);
        let strings = vec![String::with_capacity(3), String::with_capacity(5)];
        assert_eq!(
            strings.heap_size(),
            strings.capacity() * std::mem::size_of::<String>() + 8
        );
    }
}
