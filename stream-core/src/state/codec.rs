//! Rows ⇄ the sections of a state file, as Arrow IPC streams.
//!
//! A row of the state is a pair of one key and one value. Both are [`TypedRow`]s whose
//! column names may clash, so a file keeps them as two struct columns:
//!
//! ```text
//! upserts / snapshot rows:  key: Struct<key columns>, value: Struct<value columns>
//! removed keys:             key: Struct<key columns>
//! ```
//!
//! A delta file holds two sections (upserts, then removed keys), a snapshot one (every
//! row). Each section is one Arrow IPC stream: its schema, then its batches.

use std::path::Path;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::{Array, ArrayRef, RecordBatch, RecordBatchOptions, StructArray};
use arrow_ipc::reader::StreamReader;
use arrow_ipc::writer::StreamWriter;
use arrow_schema::{DataType, Field, Schema, SchemaRef};

use super::file;
use crate::types::TypedRow;
use crate::{Result, StreamError};

/// Rows per IPC batch of a snapshot, so that a large state is never cloned whole.
const SNAPSHOT_CHUNK_ROWS: usize = 16 * 1024;

/// The rows one delta file records.
#[derive(Debug)]
pub(crate) struct Delta<K, V> {
    /// Keys inserted or updated, with their new values.
    pub(crate) upserts: Vec<(K, V)>,
    /// Keys removed.
    pub(crate) removed: Vec<K>,
}

fn struct_field(name: &str, schema: &Schema) -> Field {
    Field::new(name, DataType::Struct(schema.fields().clone()), false)
}

/// The schema of a file's rows for the recorded `key` and `value` schemas.
pub(crate) fn untyped_pair_schema(key: &Schema, value: &Schema) -> Schema {
    Schema::new(vec![struct_field("key", key), struct_field("value", value)])
}

/// The batches of section `index` of the `sections`-section file `path` (whose bytes
/// are `bytes`), whose schema must be `expected`.
pub(crate) fn read_untyped(
    path: &Path,
    bytes: &[u8],
    sections: usize,
    index: usize,
    expected: &Schema,
) -> Result<Vec<RecordBatch>> {
    let found = file::decode(path, bytes, sections)?;
    read_ipc(path, found[index], expected, "rows")
}

fn pair_schema<K: TypedRow, V: TypedRow>() -> SchemaRef {
    Arc::new(Schema::new(vec![
        struct_field("key", &K::arrow_schema()),
        struct_field("value", &V::arrow_schema()),
    ]))
}

fn key_schema<K: TypedRow>() -> SchemaRef {
    Arc::new(Schema::new(vec![struct_field("key", &K::arrow_schema())]))
}

fn column(batch: RecordBatch) -> ArrayRef {
    Arc::new(StructArray::from(batch))
}

fn pair_batch<K: TypedRow + Clone, V: TypedRow + Clone>(
    keys: &[&K],
    values: &[&V],
) -> Result<RecordBatch> {
    Ok(RecordBatch::try_new(
        pair_schema::<K, V>(),
        vec![
            column(K::to_batch_refs(keys)?),
            column(V::to_batch_refs(values)?),
        ],
    )?)
}

/// Appends the IPC stream of `batches` (of `schema`) to `out`.
fn ipc(
    out: &mut Vec<u8>,
    schema: &Schema,
    batches: impl IntoIterator<Item = Result<RecordBatch>>,
) -> Result<()> {
    ipc_to(out, schema, batches)
}

/// The bytes of a delta file recording `upserts` and `removed`.
pub(crate) fn delta_bytes<K: TypedRow + Clone, V: TypedRow + Clone>(
    upsert_keys: &[&K],
    upsert_values: &[&V],
    removed: &[K],
) -> Result<Vec<u8>> {
    let upserts = pair_batch(upsert_keys, upsert_values)?;
    let removed = RecordBatch::try_new(key_schema::<K>(), vec![column(K::to_batch(removed)?)])?;
    let mut file = file::Encoder::with_capacity(
        upserts.get_array_memory_size() + removed.get_array_memory_size(),
    );
    file.section(|out| ipc(out, &upserts.schema(), [Ok(upserts.clone())]))?;
    file.section(|out| ipc(out, &removed.schema(), [Ok(removed.clone())]))?;
    Ok(file.finish())
}

/// The bytes of a snapshot file holding the `len` rows of `entries`, written in chunks
/// of [`SNAPSHOT_CHUNK_ROWS`] rows.
pub(crate) fn snapshot_bytes<'a, K: TypedRow + Clone + 'a, V: TypedRow + Clone + 'a>(
    mut entries: impl Iterator<Item = (&'a K, &'a V)>,
    len: usize,
) -> Result<Vec<u8>> {
    let mut left = len;
    let chunks = std::iter::from_fn(|| {
        let take = left.min(SNAPSHOT_CHUNK_ROWS);
        left -= take;
        let (keys, values): (Vec<&K>, Vec<&V>) = entries.by_ref().take(take).unzip();
        (!keys.is_empty()).then(|| pair_batch(&keys, &values))
    });
    let mut file = file::Encoder::with_capacity(0);
    file.section(|out| ipc(out, &pair_schema::<K, V>(), chunks))?;
    Ok(file.finish())
}

/// Writes a snapshot file into `file` (see [`file::write_one_section`]) from `chunks`
/// of rows, each a batch of [`pair_schema`] made by [`pair_batch_of`]: a state too large
/// to hold in memory is written as it is read.
#[cfg(feature = "disk-state")]
pub(crate) fn write_snapshot_chunks<K: TypedRow, V: TypedRow>(
    file: &mut std::fs::File,
    path: &Path,
    chunks: impl Iterator<Item = Result<RecordBatch>>,
) -> Result<()> {
    file::write_one_section(file, path, |out| {
        ipc_to(out, &pair_schema::<K, V>(), chunks)
    })
}

/// One chunk of a snapshot's rows.
#[cfg(feature = "disk-state")]
pub(crate) fn pair_batch_of<K: TypedRow, V: TypedRow>(
    keys: &[K],
    values: &[V],
) -> Result<RecordBatch> {
    Ok(RecordBatch::try_new(
        pair_schema::<K, V>(),
        vec![column(K::to_batch(keys)?), column(V::to_batch(values)?)],
    )?)
}

fn ipc_to(
    out: &mut dyn std::io::Write,
    schema: &Schema,
    batches: impl IntoIterator<Item = Result<RecordBatch>>,
) -> Result<()> {
    let mut writer = StreamWriter::try_new(out, schema)?;
    for batch in batches {
        writer.write(&batch?)?;
    }
    writer.finish()?;
    Ok(())
}

/// The rows recorded by the delta file `path`.
pub(crate) fn read_delta<K: TypedRow, V: TypedRow>(
    path: &Path,
    bytes: &[u8],
) -> Result<Delta<K, V>> {
    let sections = file::decode(path, bytes, 2)?;
    let upserts = read_pairs(path, sections[0])?;
    let mut removed = Vec::new();
    for batch in read_ipc(path, sections[1], &key_schema::<K>(), "removed keys")? {
        removed.extend(rows_of::<K>(path, &batch, 0)?);
    }
    Ok(Delta { upserts, removed })
}

/// The rows of the snapshot file `path`.
pub(crate) fn read_snapshot<K: TypedRow, V: TypedRow>(
    path: &Path,
    bytes: &[u8],
) -> Result<Vec<(K, V)>> {
    let sections = file::decode(path, bytes, 1)?;
    read_pairs(path, sections[0])
}

fn read_pairs<K: TypedRow, V: TypedRow>(path: &Path, section: &[u8]) -> Result<Vec<(K, V)>> {
    let mut rows = Vec::new();
    for batch in read_ipc(path, section, &pair_schema::<K, V>(), "rows")? {
        let keys = rows_of::<K>(path, &batch, 0)?;
        let values = rows_of::<V>(path, &batch, 1)?;
        rows.extend(keys.into_iter().zip(values));
    }
    Ok(rows)
}

/// The batches of the IPC stream `section`, whose schema must be `expected`.
///
/// Arrow's IPC reader panics on some malformed streams where it should return an error
/// (a field whose type is the flatbuffer's `NONE`, found by the `state_file` fuzz
/// target); such a panic is an error naming the file, as any other damage. It also
/// allocates whatever length a message announces, so the lengths are checked against
/// the section first ([`check_ipc_lengths`]).
fn read_ipc(
    path: &Path,
    section: &[u8],
    expected: &Schema,
    what: &str,
) -> Result<Vec<RecordBatch>> {
    let unreadable =
        |message: String| StreamError::corrupt(path, format!("{what} cannot be read: {message}"));
    check_ipc_lengths(section).map_err(unreadable)?;
    let read = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let reader = StreamReader::try_new(section, None).map_err(|e| unreadable(e.to_string()))?;
        if reader.schema().fields() != expected.fields() {
            return Err(StreamError::corrupt(
                path,
                format!(
                    "{what} have columns {} but the state's are {}",
                    reader.schema(),
                    expected
                ),
            ));
        }
        reader
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| unreadable(e.to_string()))
    }));
    read.unwrap_or_else(|payload| {
        Err(unreadable(format!(
            "the Arrow IPC reader failed on it: {}",
            crate::engine::panic_message(&*payload)
        )))
    })
}

/// What precedes a message's metadata length in an IPC stream.
const IPC_CONTINUATION: [u8; 4] = [0xff; 4];

/// Checks that each message of the IPC stream `section` (its metadata and its body) fits
/// in what is left of the section, reading the lengths as arrow's `StreamReader` does:
/// it allocates the announced lengths before reading, and a damaged length made it ask
/// for terabytes and abort the process (found by the `state_file` fuzz target).
fn check_ipc_lengths(section: &[u8]) -> std::result::Result<(), String> {
    let mut rest = section;
    loop {
        // fewer than 4 bytes left: the reader takes it for the end of the stream
        let Some((mut word, after)) = rest.split_first_chunk::<4>() else {
            return Ok(());
        };
        rest = after;
        if *word == IPC_CONTINUATION {
            (word, rest) = rest
                .split_first_chunk::<4>()
                .ok_or("the stream ends inside a message's length")?;
        }
        let len = i32::from_le_bytes(*word);
        if len == 0 {
            return Ok(()); // the end-of-stream marker
        }
        let meta = usize::try_from(len)
            .ok()
            .and_then(|len| rest.get(..len))
            .ok_or_else(|| {
                format!(
                    "a message announces {len} bytes of metadata where {} are left",
                    rest.len()
                )
            })?;
        let message = arrow_ipc::root_as_message(meta)
            .map_err(|e| format!("a message's metadata does not parse: {e}"))?;
        rest = &rest[meta.len()..];
        let body = message.bodyLength();
        let body = usize::try_from(body)
            .ok()
            .filter(|&b| b <= rest.len())
            .ok_or_else(|| {
                format!(
                    "a message announces a body of {body} bytes where {} are left",
                    rest.len()
                )
            })?;
        rest = &rest[body..];
    }
}

/// The rows of struct column `index` of `batch`.
fn rows_of<T: TypedRow>(path: &Path, batch: &RecordBatch, index: usize) -> Result<Vec<T>> {
    let Some(array) = batch.column(index).as_struct_opt() else {
        return Err(StreamError::corrupt(
            path,
            "a key or value column is not a struct",
        ));
    };
    if array.null_count() > 0 {
        return Err(StreamError::corrupt(path, "holds a null key or value"));
    }
    let (fields, columns, _) = array.clone().into_parts();
    let rows = RecordBatch::try_new_with_options(
        Arc::new(Schema::new(fields)),
        columns,
        &RecordBatchOptions::new().with_row_count(Some(array.len())),
    )?;
    T::from_batch(&rows)
        .map_err(|e| StreamError::corrupt(path, format!("rows cannot be decoded: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Schema;
    use crate::types::TimestampMs;

    #[derive(Schema, Clone, Debug, PartialEq)]
    struct Key {
        start: TimestampMs,
        country: String,
    }

    #[derive(Schema, Clone, Debug, PartialEq)]
    struct Count {
        n: i64,
    }

    /// The sections of a file written by [`file::Encoder`].
    fn sections(bytes: &[u8]) -> Vec<Vec<u8>> {
        let path = Path::new("x");
        file::decode(path, bytes, 2)
            .unwrap()
            .into_iter()
            .map(<[u8]>::to_vec)
            .collect()
    }

    #[test]
    fn a_damaged_ipc_section_with_a_valid_checksum_is_an_error_naming_the_file() {
        let key = Key {
            start: TimestampMs(1_000),
            country: "DE".into(),
        };
        let good = delta_bytes(&[&key], &[&Count { n: 3 }], std::slice::from_ref(&key)).unwrap();
        let path = Path::new("state/0/0/1.delta");
        assert_eq!(
            read_delta::<Key, Count>(path, &good).unwrap().upserts.len(),
            1
        );
        let [upserts, removed] = <[Vec<u8>; 2]>::try_from(sections(&good)).unwrap();
        // every byte of the upserts' IPC stream zeroed in turn, in a file whose length
        // and checksum are right: the zeroed type tag of a field (the flatbuffer's
        // `NONE`) made arrow-ipc panic
        let mut refused = 0;
        for i in 0..upserts.len() {
            let mut damaged = upserts.clone();
            if damaged[i] == 0 {
                continue;
            }
            damaged[i] = 0;
            let bytes = file::encode(&[&damaged, &removed]);
            if let Err(e) = read_delta::<Key, Count>(path, &bytes) {
                assert!(
                    matches!(&e, StreamError::CorruptCheckpoint { path: p, .. } if p == path),
                    "byte {i}: {e}"
                );
                refused += 1;
            }
        }
        assert!(refused > 0);
    }

    #[test]
    fn an_ipc_message_announcing_more_bytes_than_the_file_has_is_an_error_not_an_allocation() {
        let key = Key {
            start: TimestampMs(1_000),
            country: "DE".into(),
        };
        let good = delta_bytes(&[&key], &[&Count { n: 3 }], &[]).unwrap();
        let [upserts, removed] = <[Vec<u8>; 2]>::try_from(sections(&good)).unwrap();
        assert_eq!(check_ipc_lengths(&upserts), Ok(()));
        assert_eq!(check_ipc_lengths(&removed), Ok(()));
        // the first message (the schema) announces 2^31 - 1 bytes of metadata
        let mut long_meta = upserts.clone();
        long_meta[4..8].copy_from_slice(&i32::MAX.to_le_bytes());
        // the record batch's body length (an i64 in its flatbuffer) made enormous:
        // found as the little-endian bytes of the body length the writer put there
        let schema_len = 8 + i32::from_le_bytes(upserts[4..8].try_into().unwrap()) as usize;
        let batch = &upserts[schema_len..];
        let meta_len = i32::from_le_bytes(batch[4..8].try_into().unwrap()) as usize;
        let message = arrow_ipc::root_as_message(&batch[8..8 + meta_len]).unwrap();
        let body = message.bodyLength().to_le_bytes();
        let at = batch[8..8 + meta_len]
            .windows(8)
            .position(|w| w == body)
            .unwrap();
        let mut long_body = upserts.clone();
        long_body[schema_len + 8 + at..schema_len + 8 + at + 8]
            .copy_from_slice(&(1i64 << 47).to_le_bytes());
        let path = Path::new("state/0/0/1.delta");
        for damaged in [long_meta, long_body] {
            assert!(check_ipc_lengths(&damaged).is_err());
            let bytes = file::encode(&[&damaged, &removed]);
            let e = read_delta::<Key, Count>(path, &bytes).unwrap_err();
            let text = e.to_string();
            assert!(
                matches!(&e, StreamError::CorruptCheckpoint { path: p, .. } if p == path)
                    && text.contains("where")
                    && text.contains("are left"),
                "{text}"
            );
        }
    }
}
