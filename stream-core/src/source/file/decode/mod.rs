//! Turning one input file into record batches of the source's schema: decompression,
//! the format's decoder, partition columns from the path, and the bad-record modes.

#[cfg(feature = "csv")]
pub(crate) mod csv;
pub(crate) mod describe;
#[cfg(feature = "json")]
pub(crate) mod json;
#[cfg(feature = "parquet")]
mod parquet;
mod text;

pub(crate) use text::VALUE as TEXT_VALUE;

use std::path::Path;
use std::sync::Arc;

use arrow_array::{
    ArrayRef, RecordBatch, RecordBatchOptions, StringArray, UInt32Array, new_null_array,
};
use arrow_cast::{CastOptions, cast_with_options};
use arrow_schema::{DataType, Field, FieldRef, Schema, SchemaRef};

use super::{FileFormat, ParseMode};
use crate::{Result, StreamError};

/// Spark's value of a partition folder whose value was null.
const DEFAULT_PARTITION_NAME: &str = "__HIVE_DEFAULT_PARTITION__";

/// Part of a decoded file, in file order.
#[derive(Debug)]
pub(crate) enum Piece {
    /// Rows of the file's data schema.
    Rows(RecordBatch),
    /// Consecutive records that did not parse, in [`ParseMode::Permissive`]: each becomes
    /// a row of nulls whose corrupt-record column holds the raw record.
    Corrupt {
        /// The raw records.
        records: Vec<String>,
        /// The 1-based line of the first of them.
        first_line: u64,
    },
}

/// Counts of one read, for the source's metrics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct ReadCounts {
    /// Records dropped in [`ParseMode::DropMalformed`].
    pub(crate) dropped: u64,
    /// Records kept as corrupt rows in [`ParseMode::Permissive`].
    pub(crate) corrupt: u64,
    /// Files skipped because they were gone (`ignore_missing_files`).
    pub(crate) missing_files: u64,
    /// Files skipped because they could not be read (`ignore_corrupt_files`).
    pub(crate) corrupt_files: u64,
}

impl ReadCounts {
    /// Adds the counts of another read to these.
    pub(crate) fn add(&mut self, other: ReadCounts) {
        self.dropped += other.dropped;
        self.corrupt += other.corrupt;
        self.missing_files += other.missing_files;
        self.corrupt_files += other.corrupt_files;
    }
}

/// What a decoder needs to know besides the bytes.
pub(crate) struct DecodeContext<'a> {
    /// The file, for errors.
    pub(crate) path: &'a Path,
    /// The columns to read from the file (the schema without the columns that come
    /// from the path and without the corrupt-record column).
    pub(crate) data_schema: &'a SchemaRef,
    pub(crate) mode: ParseMode,
    pub(crate) counts: &'a mut ReadCounts,
}

impl DecodeContext<'_> {
    /// The error for a record that does not parse under [`ParseMode::FailFast`].
    pub(crate) fn malformed(&self, line: u64, message: impl Into<String>) -> StreamError {
        StreamError::MalformedRecord {
            path: self.path.to_path_buf(),
            line,
            message: message.into(),
        }
    }

    /// An error about the whole file.
    pub(crate) fn bad_file(&self, message: impl Into<String>) -> StreamError {
        StreamError::BadInputFile {
            path: self.path.to_path_buf(),
            message: message.into(),
        }
    }

    /// Handles one record that does not parse, according to the mode: an error, a
    /// count, or a corrupt row added to `pieces`.
    pub(crate) fn on_malformed(
        &mut self,
        pieces: &mut Vec<Piece>,
        line: u64,
        raw: &[u8],
        message: String,
    ) -> Result<()> {
        match self.mode {
            ParseMode::FailFast => Err(self.malformed(line, message)),
            ParseMode::DropMalformed => {
                self.counts.dropped += 1;
                tracing::debug!(file = %self.path.display(), line, "dropped malformed record: {message}");
                Ok(())
            }
            ParseMode::Permissive => {
                self.counts.corrupt += 1;
                let raw = String::from_utf8_lossy(raw).into_owned();
                match pieces.last_mut() {
                    Some(Piece::Corrupt { records, .. }) => records.push(raw),
                    _ => pieces.push(Piece::Corrupt {
                        records: vec![raw],
                        first_line: line,
                    }),
                }
                Ok(())
            }
        }
    }
}

/// Everything about the source that decoding a file depends on.
#[derive(Debug)]
pub(crate) struct FileDecoder {
    pub(crate) schema: SchemaRef,
    pub(crate) format: FileFormat,
    pub(crate) mode: ParseMode,
    /// The corrupt-record column, when the schema declares it and the format has
    /// records (JSON, CSV): never read from the data.
    pub(crate) corrupt_column: Option<String>,
    #[cfg(feature = "csv")]
    pub(crate) csv: csv::CsvSettings,
}

impl FileDecoder {
    /// Decodes the file at `path`. `partitions` are the `key=value` folders of its path;
    /// `gone` turns an error opening the file into the source's error.
    pub(crate) fn read(
        &self,
        path: &Path,
        partitions: &[(String, String)],
        counts: &mut ReadCounts,
        gone: &dyn Fn(std::io::Error) -> StreamError,
    ) -> Result<Vec<RecordBatch>> {
        let columns = self.columns(path, partitions)?;
        let data_schema: SchemaRef = Arc::new(Schema::new(
            columns
                .iter()
                .filter_map(|c| match c {
                    Column::Data(field) => Some(field.clone()),
                    _ => None,
                })
                .collect::<Vec<FieldRef>>(),
        ));
        let mut cx = DecodeContext {
            path,
            data_schema: &data_schema,
            mode: self.mode,
            counts,
        };
        // The decoders are not expected to panic on any input; should one do so, the
        // error still names the file instead of taking the query down with a panic.
        let decoded =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match self.format {
                #[cfg(feature = "json")]
                FileFormat::Json => json::decode(&read_bytes(path, gone)?, &mut cx),
                #[cfg(feature = "csv")]
                FileFormat::Csv => csv::decode(&read_bytes(path, gone)?, &self.csv, &mut cx),
                #[cfg(feature = "parquet")]
                FileFormat::Parquet => parquet::decode(path, gone, &cx),
                FileFormat::Text => text::decode(&read_bytes(path, gone)?, &mut cx),
            }));
        let pieces = match decoded {
            Ok(pieces) => pieces?,
            Err(payload) => {
                return Err(StreamError::BadInputFile {
                    path: path.to_path_buf(),
                    message: format!(
                        "the {} decoder failed on it: {}",
                        self.format.name(),
                        crate::engine::panic_message(&*payload)
                    ),
                });
            }
        };
        pieces
            .into_iter()
            .map(|piece| self.assemble(path, &columns, piece))
            .filter(|b| !matches!(b, Ok(b) if b.num_rows() == 0))
            .collect()
    }

    /// Where each column of the schema comes from, for the file at `path`.
    fn columns(&self, path: &Path, partitions: &[(String, String)]) -> Result<Vec<Column>> {
        self.schema
            .fields()
            .iter()
            .map(|field| {
                if self.corrupt_column.as_deref() == Some(field.name().as_str()) {
                    return Ok(Column::Corrupt);
                }
                // the innermost folder wins if a key repeats
                match partitions.iter().rev().find(|(k, _)| k == field.name()) {
                    Some((key, value)) => partition_value(path, field, key, value),
                    None => Ok(Column::Data(field.clone())),
                }
            })
            .collect()
    }

    /// One output batch from one piece of a file.
    fn assemble(&self, path: &Path, columns: &[Column], piece: Piece) -> Result<RecordBatch> {
        let (rows, data, corrupt) = match piece {
            Piece::Rows(batch) => (batch.num_rows(), Some(batch), None),
            Piece::Corrupt {
                records,
                first_line,
            } => (records.len(), None, Some((records, first_line))),
        };
        let mut arrays: Vec<ArrayRef> = Vec::with_capacity(columns.len());
        let mut data_index = 0;
        for (column, field) in columns.iter().zip(self.schema.fields()) {
            let array = match column {
                Column::Data(_) => {
                    let array = match &data {
                        Some(batch) => batch.column(data_index).clone(),
                        None if field.is_nullable() => new_null_array(field.data_type(), rows),
                        None => {
                            let line = corrupt.as_ref().map_or(0, |(_, l)| *l);
                            return Err(StreamError::MalformedRecord {
                                path: path.to_path_buf(),
                                line,
                                message: format!(
                                    "mode `permissive` keeps a malformed record as a row of \
                                     nulls, but column `{}` is not nullable; make it nullable \
                                     or use mode `drop_malformed`",
                                    field.name()
                                ),
                            });
                        }
                    };
                    data_index += 1;
                    array
                }
                Column::Corrupt => match &corrupt {
                    Some((records, _)) => Arc::new(StringArray::from_iter_values(records)),
                    None => new_null_array(&DataType::Utf8, rows),
                },
                Column::Partition(value) => repeat(value, rows)?,
            };
            arrays.push(array);
        }
        let options = RecordBatchOptions::new().with_row_count(Some(rows));
        RecordBatch::try_new_with_options(self.schema.clone(), arrays, &options).map_err(|e| {
            StreamError::BadInputFile {
                path: path.to_path_buf(),
                message: format!("its rows do not fit the schema: {e}"),
            }
        })
    }
}

/// Where one column of the output comes from.
#[derive(Debug)]
enum Column {
    /// Read from the file.
    Data(FieldRef),
    /// A `key=value` folder: the value, as a one-row array of the column's type.
    Partition(ArrayRef),
    /// The corrupt-record column.
    Corrupt,
}

/// Moves the good rows gathered so far into one piece.
#[cfg(any(feature = "json", feature = "csv"))]
pub(crate) fn flush_good(
    schema: &SchemaRef,
    good: &mut Vec<RecordBatch>,
    pieces: &mut Vec<Piece>,
) -> Result<()> {
    if good.is_empty() {
        return Ok(());
    }
    let batch = arrow_select::concat::concat_batches(schema, good.iter())?;
    good.clear();
    pieces.push(Piece::Rows(batch));
    Ok(())
}

/// Parses the value of the partition folder `key=value` into `field`'s type.
fn partition_value(path: &Path, field: &Field, key: &str, value: &str) -> Result<Column> {
    let bad = |message: String| StreamError::BadInputFile {
        path: path.to_path_buf(),
        message,
    };
    if value == DEFAULT_PARTITION_NAME {
        if !field.is_nullable() {
            return Err(bad(format!(
                "partition folder `{key}={value}` means null, but column `{key}` is not nullable"
            )));
        }
        return Ok(Column::Partition(new_null_array(field.data_type(), 1)));
    }
    let text: ArrayRef = Arc::new(StringArray::from(vec![value]));
    let options = CastOptions {
        safe: false,
        ..Default::default()
    };
    match cast_with_options(&text, field.data_type(), &options) {
        Ok(array) if array.null_count() == 0 => Ok(Column::Partition(array)),
        Ok(_) => Err(bad(format!(
            "partition folder `{key}={value}`: `{value}` is not a {} value for column `{key}`",
            field.data_type()
        ))),
        Err(e) => Err(bad(format!(
            "partition folder `{key}={value}`: `{value}` is not a {} value for column `{key}` ({e})",
            field.data_type()
        ))),
    }
}

/// `rows` copies of the one value of `value`.
fn repeat(value: &ArrayRef, rows: usize) -> Result<ArrayRef> {
    let indices = UInt32Array::from(vec![0u32; rows]);
    Ok(arrow_select::take::take(value.as_ref(), &indices, None)?)
}

/// How an input file is compressed, from its name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Compression {
    None,
    Gzip,
    Zstd,
}

impl Compression {
    /// `.gz` is gzip and `.zst` is zstd (case-insensitive), as Hadoop's codecs decide.
    pub(crate) fn of(path: &Path) -> Compression {
        match path.extension().and_then(|e| e.to_str()) {
            Some(e) if e.eq_ignore_ascii_case("gz") => Compression::Gzip,
            Some(e) if e.eq_ignore_ascii_case("zst") => Compression::Zstd,
            _ => Compression::None,
        }
    }
}

/// The UTF-8 byte-order mark some editors put at the start of a text file.
const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// The bytes of the text file at `path`, decompressed if its name says it is
/// compressed, without a UTF-8 byte-order mark at its start (as Hadoop's line reader
/// skips it for Spark), so that its first record or header reads like the others.
pub(crate) fn read_bytes(
    path: &Path,
    gone: &dyn Fn(std::io::Error) -> StreamError,
) -> Result<Vec<u8>> {
    let mut bytes = decompressed(path, gone)?;
    if bytes.starts_with(UTF8_BOM) {
        bytes.drain(..UTF8_BOM.len());
    }
    Ok(bytes)
}

/// The bytes of the file at `path`, decompressed if its name says it is compressed.
fn decompressed(path: &Path, gone: &dyn Fn(std::io::Error) -> StreamError) -> Result<Vec<u8>> {
    let raw = std::fs::read(path).map_err(gone)?;
    let bad = |message: String| StreamError::BadInputFile {
        path: path.to_path_buf(),
        message,
    };
    match Compression::of(path) {
        Compression::None => Ok(raw),
        #[cfg(feature = "gzip")]
        Compression::Gzip => {
            use std::io::Read;
            let mut out = Vec::new();
            flate2::read::MultiGzDecoder::new(raw.as_slice())
                .read_to_end(&mut out)
                .map_err(|e| bad(format!("the gzip stream is corrupt or truncated: {e}")))?;
            Ok(out)
        }
        #[cfg(feature = "zstd")]
        Compression::Zstd => {
            use std::io::Read;
            let mut out = Vec::new();
            zstd::stream::read::Decoder::new(raw.as_slice())
                .and_then(|mut d| d.read_to_end(&mut out))
                .map_err(|e| bad(format!("the zstd stream is corrupt or truncated: {e}")))?;
            Ok(out)
        }
        #[cfg(not(feature = "gzip"))]
        Compression::Gzip => Err(bad(
            "the file is gzip compressed (`.gz`), which needs stream-core's `gzip` feature".into(),
        )),
        #[cfg(not(feature = "zstd"))]
        Compression::Zstd => Err(bad(
            "the file is zstd compressed (`.zst`), which needs stream-core's `zstd` feature".into(),
        )),
    }
}

/// Splits `bytes` into lines the way Hadoop's line reader does: at `\n`, `\r\n` or a
/// lone `\r`; a final line without a terminator counts, an empty end does not. Yields
/// (1-based line number, line without its terminator).
pub(crate) fn lines(bytes: &[u8]) -> impl Iterator<Item = (u64, &[u8])> {
    let mut rest = bytes;
    let mut number = 0u64;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        number += 1;
        let end = rest.iter().position(|&b| b == b'\n' || b == b'\r');
        let (line, next) = match end {
            None => (rest, &rest[rest.len()..]),
            Some(i) if rest[i] == b'\r' && rest.get(i + 1) == Some(&b'\n') => {
                (&rest[..i], &rest[i + 2..])
            }
            Some(i) => (&rest[..i], &rest[i + 1..]),
        };
        rest = next;
        Some((number, line))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_split_at_every_terminator() {
        let got: Vec<(u64, &[u8])> = lines(b"a\nb\r\nc\rd").collect();
        assert_eq!(
            got,
            [
                (1, &b"a"[..]),
                (2, &b"b"[..]),
                (3, &b"c"[..]),
                (4, &b"d"[..])
            ]
        );
        assert_eq!(lines(b"a\n\nb\n").count(), 3);
        assert_eq!(lines(b"").count(), 0);
    }

    #[test]
    fn compression_comes_from_the_extension() {
        assert_eq!(Compression::of(Path::new("a.json.gz")), Compression::Gzip);
        assert_eq!(Compression::of(Path::new("a.CSV.GZ")), Compression::Gzip);
        assert_eq!(Compression::of(Path::new("a.txt.zst")), Compression::Zstd);
        assert_eq!(Compression::of(Path::new("a.json")), Compression::None);
        assert_eq!(Compression::of(Path::new("gz")), Compression::None);
    }

    #[test]
    fn partition_values_parse_into_the_column_type() {
        let p = Path::new("/in/f");
        let date = Field::new("date", DataType::Date32, true);
        match partition_value(p, &date, "date", "2024-01-02").unwrap() {
            Column::Partition(a) => {
                assert_eq!(a.data_type(), &DataType::Date32);
                assert_eq!(a.as_ref(), &arrow_array::Date32Array::from(vec![19724]));
            }
            other => panic!("{other:?}"),
        }
        let err = partition_value(p, &date, "date", "2024-13-02").unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, StreamError::BadInputFile { .. }), "{text}");
        assert!(
            text.contains("`date=2024-13-02`") && text.contains("/in/f"),
            "{text}"
        );
        let n = Field::new("n", DataType::Int32, false);
        assert!(partition_value(p, &n, "n", "x1").is_err());
        assert!(partition_value(p, &n, "n", DEFAULT_PARTITION_NAME).is_err());
        let nullable = Field::new("n", DataType::Int32, true);
        match partition_value(p, &nullable, "n", DEFAULT_PARTITION_NAME).unwrap() {
            Column::Partition(a) => assert_eq!(a.null_count(), 1),
            other => panic!("{other:?}"),
        }
    }
}
