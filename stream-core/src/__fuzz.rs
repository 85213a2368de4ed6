//! Entry points for the fuzz targets of `fuzz/`: each hands bytes from the fuzzer to one
//! of the engine's readers, the same code a query runs on the files it reads.
//!
//! **Not an API.** Compiled only with the `fuzz` feature, which nothing but
//! `fuzz/Cargo.toml` enables; it changes whenever the readers do. Every function returns
//! the reader's `Result`: an error is a correct answer to bad bytes, a panic or a hang
//! is a bug.

use std::path::{Path, PathBuf};

use arrow_array::RecordBatch;
use arrow_schema::{DataType, SchemaRef};

use crate::checkpoint::{parse_commit, parse_log_file, parse_metadata, parse_offsets};
use crate::source::{CsvSettings, FileDecoder, ReadCounts};
use crate::types::TypedRow;
use crate::{FileFormat, ParseMode, Result, StreamError};

/// The CSV options of [`decode_file`], as the file source's builder takes them.
#[derive(Clone, Debug)]
pub struct CsvOptions {
    /// `header`.
    pub header: bool,
    /// `delimiter` (one byte).
    pub delimiter: u8,
    /// `quote` (one byte).
    pub quote: u8,
    /// `escape`: `None` for none.
    pub escape: Option<u8>,
    /// `null_value`.
    pub null_value: Option<String>,
}

/// The name of the corrupt-record column [`decode_file`] fills in when the schema has it.
pub const CORRUPT_COLUMN: &str = "_corrupt_record";

/// Decodes `bytes` as one input file of a file source of `format` with `schema` and
/// `mode`: through `FileDecoder::read`, the call the source makes per file (byte-order
/// mark, the format's decoder, the bad-record mode, the output batches). The decoder
/// reads a path, so the bytes go to a scratch file of this process in the temporary
/// folder first. The schema must be one the source's builder accepts for the format
/// (for text: one `value: Utf8` column).
pub fn decode_file(
    schema: SchemaRef,
    format: FileFormat,
    mode: ParseMode,
    csv: &CsvOptions,
    bytes: &[u8],
) -> Result<Vec<RecordBatch>> {
    let corrupt_column = match schema.field_with_name(CORRUPT_COLUMN) {
        Ok(field) if format != FileFormat::Text && field.data_type() == &DataType::Utf8 => {
            Some(CORRUPT_COLUMN.to_string())
        }
        _ => None,
    };
    let null_regex = match &csv.null_value {
        Some(value) => Some(CsvSettings::null_value_regex(value)?),
        None => None,
    };
    let decoder = FileDecoder {
        schema,
        format,
        mode,
        corrupt_column,
        csv: CsvSettings {
            header: csv.header,
            delimiter: csv.delimiter,
            quote: csv.quote,
            escape: csv.escape,
            null_regex,
        },
    };
    let path = scratch_file(format.name());
    std::fs::write(&path, bytes).map_err(|e| StreamError::io(&path, e))?;
    let mut counts = ReadCounts::default();
    let read = decoder.read(&path, &[], &mut counts, &|e| StreamError::io(&path, e));
    let _ = std::fs::remove_file(&path);
    read
}

fn scratch_file(extension: &str) -> PathBuf {
    std::env::temp_dir().join(format!(
        "stream-core-fuzz-{}.{extension}",
        std::process::id()
    ))
}

/// A path for the errors of the checkpoint readers (nothing is read from it).
fn named(name: &str) -> PathBuf {
    Path::new("checkpoint").join(name)
}

/// Reads `bytes` as `offsets/0` of a query with `sources` sources.
pub fn read_offsets(bytes: &[u8], sources: usize) -> Result<()> {
    let path = named("offsets/0");
    let lines = parse_log_file(&path, bytes)?;
    parse_offsets(&path, &lines, sources).map(drop)
}

/// Reads `bytes` as `commits/0`.
pub fn read_commit(bytes: &[u8]) -> Result<()> {
    let path = named("commits/0");
    let lines = parse_log_file(&path, bytes)?;
    parse_commit(&path, &lines).map(drop)
}

/// Reads `bytes` as the checkpoint's `metadata` file.
pub fn read_metadata(bytes: &[u8]) -> Result<()> {
    parse_metadata(&named("metadata"), bytes).map(drop)
}

/// Reads `bytes` as an entry of a `MetadataLog` (what `MetadataLog::get` returns).
pub fn read_log_entry(bytes: &[u8]) -> Result<Vec<String>> {
    parse_log_file(&named("sources/0/0"), bytes)
}

/// The bytes of a state file holding `sections`, with a valid version line, length and
/// checksum: so that a fuzzer's sections reach the section readers, which a checksum
/// mismatch stops before.
pub fn state_file(sections: &[&[u8]]) -> Vec<u8> {
    let mut file = crate::state::Encoder::with_capacity(sections.iter().map(|s| s.len()).sum());
    for section in sections {
        let _ = file.section(|out| {
            out.extend_from_slice(section);
            Ok(())
        });
    }
    file.finish()
}

/// Reads `bytes` as a delta file of a state of keys `K` and values `V`, as the state
/// store does (typed) and as `state::read` does (columns of the recorded schemas);
/// the counts of upserts and removed keys.
pub fn read_state_delta<K: TypedRow, V: TypedRow>(bytes: &[u8]) -> Result<(usize, usize)> {
    let path = named("state/0/0/1.delta");
    let untyped = untyped_schemas::<K, V>();
    let rows = crate::state::read_untyped(&path, bytes, 2, 0, &untyped.0)?;
    let removed = crate::state::read_untyped(&path, bytes, 2, 1, &untyped.1)?;
    let delta = crate::state::read_delta::<K, V>(&path, bytes)?;
    debug_assert_eq!(
        rows.iter().map(|b| b.num_rows()).sum::<usize>(),
        delta.upserts.len()
    );
    debug_assert_eq!(
        removed.iter().map(|b| b.num_rows()).sum::<usize>(),
        delta.removed.len()
    );
    Ok((delta.upserts.len(), delta.removed.len()))
}

/// Reads `bytes` as a snapshot file of a state of keys `K` and values `V`, typed and
/// untyped; the count of rows.
pub fn read_state_snapshot<K: TypedRow, V: TypedRow>(bytes: &[u8]) -> Result<usize> {
    let path = named("state/0/0/1.snapshot");
    let rows = crate::state::read_untyped(&path, bytes, 1, 0, &untyped_schemas::<K, V>().0)?;
    let typed = crate::state::read_snapshot::<K, V>(&path, bytes)?;
    debug_assert_eq!(
        rows.iter().map(|b| b.num_rows()).sum::<usize>(),
        typed.len()
    );
    Ok(typed.len())
}

/// The schemas `state::read` expects of a state's rows and of its removed keys.
fn untyped_schemas<K: TypedRow, V: TypedRow>() -> (arrow_schema::Schema, arrow_schema::Schema) {
    let (key, value) = (K::arrow_schema(), V::arrow_schema());
    let pair = crate::state::untyped_pair_schema(&key, &value);
    let removed = arrow_schema::Schema::new(vec![pair.field(0).clone()]);
    (pair, removed)
}

/// Reads `bytes` as a manifest file of the file sink (`_stream_metadata/N`); the count of
/// entries.
pub fn read_manifest(bytes: &[u8]) -> Result<usize> {
    let path = PathBuf::from("out/_stream_metadata/0");
    let text = std::str::from_utf8(bytes).map_err(|e| {
        StreamError::io(
            &path,
            std::io::Error::new(std::io::ErrorKind::InvalidData, e),
        )
    })?;
    crate::sink::parse_manifest(&path, text).map(|entries| entries.len())
}

/// Reads `bytes` as the file sink's layout file (`_stream_metadata/format`).
pub fn read_manifest_layout(bytes: &[u8]) -> Result<()> {
    let path = PathBuf::from("out/_stream_metadata/format");
    let text = std::str::from_utf8(bytes).map_err(|e| {
        StreamError::io(
            &path,
            std::io::Error::new(std::io::ErrorKind::InvalidData, e),
        )
    })?;
    crate::sink::parse_manifest_layout(&path, text).map(drop)
}

/// The Arrow schema types, for the schemas the targets give [`decode_file`].
pub use arrow_schema;
