//! [`StateBytes`]: a state key or value as the bytes the disk store keeps it in.
//!
//! The disk store reads and writes one entry at a time, where an Arrow batch per key
//! would cost more than the lookup. The encoding is the store's own (not a checkpoint
//! format: checkpoint files hold Arrow IPC, whatever the store), so it only has to be
//! exact and self-delimiting: fixed-width little-endian numbers, a varint length before
//! a string, bytes or list, a 0/1 tag before an optional value. The fields of a row
//! follow each other in order, so a key's encoding is prefix-free and keys are equal
//! exactly when their bytes are.

use crate::types::{Date32, TimestampMs, TimestampUs};
use crate::{Result, StreamError};

/// A value that the disk store can write as bytes and read back: every field type of
/// the row structs `stream!` generates, and those row structs themselves (through
/// `__row!`).
///
/// ```
/// use stream_core::state::StateBytes;
///
/// let mut bytes = Vec::new();
/// (Some("ann".to_string())).write_bytes(&mut bytes);
/// 42i64.write_bytes(&mut bytes);
/// let mut input = bytes.as_slice();
/// assert_eq!(Option::<String>::read_bytes(&mut input)?, Some("ann".to_string()));
/// assert_eq!(i64::read_bytes(&mut input)?, 42);
/// assert!(input.is_empty());
/// # Ok::<(), stream_core::StreamError>(())
/// ```
pub trait StateBytes: Sized {
    /// Appends the value's bytes to `out`.
    fn write_bytes(&self, out: &mut Vec<u8>);

    /// Reads one value from the front of `input` and advances it past the value.
    fn read_bytes(input: &mut &[u8]) -> Result<Self>;
}

/// The error of bytes that do not hold a value of the expected type: the store's files
/// were damaged or written by another build.
#[cold]
pub(crate) fn malformed(what: &str) -> StreamError {
    StreamError::InvalidQuery(format!(
        "the disk state store holds a malformed {what}: its working copy is damaged or was written by another build; remove the folder `state/_disk` of the checkpoint and it is rebuilt from the checkpoint's state files"
    ))
}

fn take<'a>(input: &mut &'a [u8], n: usize, what: &str) -> Result<&'a [u8]> {
    if input.len() < n {
        return Err(malformed(what));
    }
    let (head, rest) = input.split_at(n);
    *input = rest;
    Ok(head)
}

/// Appends `n` as a LEB128 varint.
pub(crate) fn write_varint(mut n: u64, out: &mut Vec<u8>) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

/// Reads a LEB128 varint.
pub(crate) fn read_varint(input: &mut &[u8]) -> Result<u64> {
    let mut n = 0u64;
    for shift in (0..64).step_by(7) {
        let b = take(input, 1, "length")?[0];
        n |= u64::from(b & 0x7f) << shift;
        if b < 0x80 {
            return Ok(n);
        }
    }
    Err(malformed("length"))
}

fn read_len(input: &mut &[u8]) -> Result<usize> {
    let n = read_varint(input)?;
    usize::try_from(n)
        .ok()
        .filter(|&n| n <= input.len())
        .ok_or_else(|| malformed("length"))
}

macro_rules! fixed {
    ($($t:ty => |$v:ident| $to:expr, |$raw:ident| $from:expr;)*) => {$(
        impl StateBytes for $t {
            #[inline]
            fn write_bytes(&self, out: &mut Vec<u8>) {
                let $v = self;
                out.extend_from_slice(&$to.to_le_bytes());
            }
            #[inline]
            fn read_bytes(input: &mut &[u8]) -> Result<Self> {
                let bytes = take(input, size_of::<$t>(), stringify!($t))?;
                let $raw = bytes.try_into().map_err(|_| malformed(stringify!($t)))?;
                Ok($from)
            }
        }
    )*};
}

fixed! {
    i32 => |v| *v, |raw| i32::from_le_bytes(raw);
    i64 => |v| *v, |raw| i64::from_le_bytes(raw);
    f32 => |v| v.to_bits(), |raw| f32::from_bits(u32::from_le_bytes(raw));
    f64 => |v| v.to_bits(), |raw| f64::from_bits(u64::from_le_bytes(raw));
    Date32 => |v| v.0, |raw| Date32(i32::from_le_bytes(raw));
    TimestampMs => |v| v.0, |raw| TimestampMs(i64::from_le_bytes(raw));
    TimestampUs => |v| v.0, |raw| TimestampUs(i64::from_le_bytes(raw));
}

impl StateBytes for bool {
    #[inline]
    fn write_bytes(&self, out: &mut Vec<u8>) {
        out.push(u8::from(*self));
    }
    #[inline]
    fn read_bytes(input: &mut &[u8]) -> Result<Self> {
        match take(input, 1, "bool")?[0] {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(malformed("bool")),
        }
    }
}

impl StateBytes for String {
    #[inline]
    fn write_bytes(&self, out: &mut Vec<u8>) {
        self.as_str().write_bytes_str(out);
    }
    #[inline]
    fn read_bytes(input: &mut &[u8]) -> Result<Self> {
        Ok(read_str(input)?.to_string())
    }
}

/// A string's bytes, as [`String`]'s [`StateBytes`] writes them.
pub(crate) trait WriteStr {
    fn write_bytes_str(&self, out: &mut Vec<u8>);
}

impl WriteStr for str {
    #[inline]
    fn write_bytes_str(&self, out: &mut Vec<u8>) {
        write_varint(self.len() as u64, out);
        out.extend_from_slice(self.as_bytes());
    }
}

/// A string written by [`WriteStr`], borrowed from `input`.
#[inline]
pub(crate) fn read_str<'a>(input: &mut &'a [u8]) -> Result<&'a str> {
    let len = read_len(input)?;
    std::str::from_utf8(take(input, len, "string")?).map_err(|_| malformed("string"))
}

impl StateBytes for Vec<u8> {
    fn write_bytes(&self, out: &mut Vec<u8>) {
        write_varint(self.len() as u64, out);
        out.extend_from_slice(self);
    }
    fn read_bytes(input: &mut &[u8]) -> Result<Self> {
        let len = read_len(input)?;
        Ok(take(input, len, "binary")?.to_vec())
    }
}

macro_rules! list {
    ($($t:ty),*) => {$(
        impl StateBytes for Vec<$t> {
            fn write_bytes(&self, out: &mut Vec<u8>) {
                write_varint(self.len() as u64, out);
                for v in self {
                    v.write_bytes(out);
                }
            }
            fn read_bytes(input: &mut &[u8]) -> Result<Self> {
                // each element takes at least one byte, so the length is bounded
                let len = read_len(input)?;
                (0..len).map(|_| <$t>::read_bytes(input)).collect()
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

impl<T: StateBytes> StateBytes for Option<T> {
    #[inline]
    fn write_bytes(&self, out: &mut Vec<u8>) {
        match self {
            None => out.push(0),
            Some(v) => {
                out.push(1);
                v.write_bytes(out);
            }
        }
    }
    #[inline]
    fn read_bytes(input: &mut &[u8]) -> Result<Self> {
        match take(input, 1, "optional value")?[0] {
            0 => Ok(None),
            1 => T::read_bytes(input).map(Some),
            _ => Err(malformed("optional value")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip<T: StateBytes + PartialEq + std::fmt::Debug>(value: T) {
        let mut bytes = Vec::new();
        value.write_bytes(&mut bytes);
        let mut input = bytes.as_slice();
        assert_eq!(T::read_bytes(&mut input).unwrap(), value);
        assert!(input.is_empty(), "{value:?} left bytes behind");
        // every shorter prefix is refused, never read as another value
        for cut in 0..bytes.len() {
            assert!(
                T::read_bytes(&mut &bytes[..cut]).is_err(),
                "{value:?} cut at {cut}"
            );
        }
    }

    #[test]
    fn every_field_type_reads_back_what_was_written() {
        round_trip(-7i32);
        round_trip(i64::MIN);
        round_trip(1.5f32);
        round_trip(-2.5f64);
        round_trip(true);
        round_trip(String::new());
        round_trip("ünïcode and a long enough string to need two length bytes ".repeat(3));
        round_trip(vec![0u8, 255, 7]);
        round_trip(vec![1i64, -2]);
        round_trip(vec!["a".to_string(), String::new()]);
        round_trip(Some(TimestampUs(-1)));
        round_trip(Option::<Date32>::None);
        round_trip(u64::MAX.to_string());
    }

    #[test]
    fn varints_cover_the_whole_range() {
        for n in [
            0,
            1,
            127,
            128,
            16_383,
            16_384,
            u64::from(u32::MAX),
            u64::MAX,
        ] {
            let mut bytes = Vec::new();
            write_varint(n, &mut bytes);
            assert_eq!(read_varint(&mut bytes.as_slice()).unwrap(), n);
        }
        assert!(read_varint(&mut [0x80u8; 11].as_slice()).is_err());
    }

    #[test]
    fn a_length_beyond_the_input_is_refused() {
        let mut bytes = Vec::new();
        write_varint(1 << 40, &mut bytes);
        let err = String::read_bytes(&mut bytes.as_slice()).unwrap_err();
        assert!(err.to_string().contains("malformed length"), "{err}");
    }
}
