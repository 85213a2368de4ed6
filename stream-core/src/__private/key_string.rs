//! [`KeyString`]: a string column of a deduplication key as its state keeps it. Up to
//! 22 bytes are held inline, in the table's entry itself, so hashing, comparing and
//! writing a key follows no pointer and storing one allocates nothing; a longer string
//! is kept on the heap. It hashes, groups and is written exactly as a `String` key.

use std::fmt;
use std::hash::Hasher;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::{Array, ArrayRef, StringArray};
use arrow_schema::DataType;

use super::stateful::{KeyPart, hash_bytes};
use crate::Result;
use crate::state::bytes::{WriteStr, read_str};
use crate::state::{HeapSize, StateBytes};
use crate::types::ColumnValue;

/// The longest string kept inline.
const INLINE: usize = 22;

/// A string key part: inline up to 22 bytes, on the heap beyond.
///
/// ```
/// use stream_core::__private::KeyString;
/// let short = KeyString::from("user-1234");
/// assert_eq!(short.as_str(), "user-1234");
/// assert_eq!(KeyString::from("a string longer than twenty-two bytes").as_str().len(), 37);
/// assert_eq!(size_of::<KeyString>(), 24);
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct KeyString(Repr);

#[derive(Clone, PartialEq, Eq)]
enum Repr {
    /// The bytes, zero after `len` (so that the derived equality is the strings').
    Inline {
        len: u8,
        bytes: [u8; INLINE],
    },
    Heap(Box<str>),
}

impl KeyString {
    /// The string.
    #[inline]
    pub fn as_str(&self) -> &str {
        match &self.0 {
            // the bytes were copied from a `&str`: never invalid, never the fallback
            Repr::Inline { .. } => std::str::from_utf8(self.as_bytes()).unwrap_or_default(),
            Repr::Heap(s) => s,
        }
    }

    /// The string's bytes.
    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        match &self.0 {
            Repr::Inline { len, bytes } => &bytes[..usize::from(*len)],
            Repr::Heap(s) => s.as_bytes(),
        }
    }
}

impl From<&str> for KeyString {
    #[inline]
    fn from(s: &str) -> Self {
        if s.len() <= INLINE {
            let mut bytes = [0; INLINE];
            bytes[..s.len()].copy_from_slice(s.as_bytes());
            KeyString(Repr::Inline {
                len: s.len() as u8,
                bytes,
            })
        } else {
            KeyString(Repr::Heap(s.into()))
        }
    }
}

impl Default for KeyString {
    fn default() -> Self {
        KeyString::from("")
    }
}

impl fmt::Debug for KeyString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl HeapSize for KeyString {
    fn heap_size(&self) -> usize {
        match &self.0 {
            Repr::Inline { .. } => 0,
            Repr::Heap(s) => s.len(),
        }
    }
}

impl KeyPart for KeyString {
    #[inline]
    fn key_eq(&self, other: &Self) -> bool {
        self == other
    }

    /// The bytes a `String` key feeds (its length, then its bytes), so the stable hash
    /// and the shuffle partition are the same.
    #[inline]
    fn key_hash<H: Hasher>(&self, state: &mut H) {
        hash_bytes(self.as_bytes(), state);
    }
}

impl StateBytes for KeyString {
    /// The bytes of the same `String`.
    #[inline]
    fn write_bytes(&self, out: &mut Vec<u8>) {
        self.as_str().write_bytes_str(out);
    }
    #[inline]
    fn read_bytes(input: &mut &[u8]) -> Result<Self> {
        read_str(input).map(KeyString::from)
    }
}

impl ColumnValue for KeyString {
    fn data_type() -> DataType {
        DataType::Utf8
    }

    fn to_array<'a>(values: impl Iterator<Item = Option<&'a Self>>) -> ArrayRef {
        Arc::new(
            values
                .map(|v| v.map(KeyString::as_str))
                .collect::<StringArray>(),
        )
    }

    fn from_array(array: &dyn Array, name: &str) -> Result<Vec<Option<Self>>> {
        let Some(strings) = array.as_string_opt::<i32>() else {
            // not a string column: the error a `String` field gives
            return String::from_array(array, name).and(Ok(Vec::new()));
        };
        Ok(strings.iter().map(|v| v.map(KeyString::from)).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::__private::stable_hash;
    use std::hash::Hash;

    /// A key part's bytes as `KeyPart` feeds them.
    struct Part<T>(T);
    impl<T: KeyPart> Hash for Part<T> {
        fn hash<H: Hasher>(&self, state: &mut H) {
            self.0.key_hash(state);
        }
    }

    #[test]
    fn it_hashes_compares_and_round_trips_as_a_string_does() {
        for s in [
            "",
            "a",
            "user-1234",
            &"x".repeat(22),
            &"y".repeat(23),
            "grüße, 東京",
        ] {
            let k = KeyString::from(s);
            assert_eq!(k.as_str(), s);
            assert_eq!(
                stable_hash(&Part(k.clone())),
                stable_hash(&Part(s.to_string()))
            );
            assert_eq!(k.heap_size(), if s.len() <= INLINE { 0 } else { s.len() });
            let array = KeyString::to_array([Some(&k), None].into_iter());
            assert_eq!(
                KeyString::from_array(&array, "user").unwrap(),
                [Some(k), None]
            );
        }
        assert_ne!(KeyString::from("ab"), KeyString::from("abc"));
        assert_ne!(KeyString::from("a\0"), KeyString::from("a"));
    }

    #[test]
    fn a_column_of_another_type_is_refused_as_for_a_string() {
        let ints = arrow_array::Int64Array::from(vec![1]);
        let err = KeyString::from_array(&ints, "user")
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            String::from_array(&ints, "user").unwrap_err().to_string()
        );
    }
}
