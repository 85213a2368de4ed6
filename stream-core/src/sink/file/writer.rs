//! Writing one partition folder's rows of a batch into data files: temp name, encode,
//! fsync, rename; a new file whenever the current one reaches the row or size limit.

use std::fs::{self, File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;

use super::manifest::sink_file;
use super::{FileSinkFormat, ParquetCompression};
use crate::{Result, StreamError};

/// With a target file size, rows are written in slices of at most this many rows, and
/// the size is checked after each: files end up at most one slice over the target.
const SIZE_CHECK_ROWS: usize = 1024;

/// The settings that shape the data files.
#[derive(Clone, Debug)]
pub(crate) struct WriteOptions {
    pub(crate) format: FileSinkFormat,
    pub(crate) compression: ParquetCompression,
    pub(crate) max_rows_per_file: Option<usize>,
    pub(crate) target_file_size: Option<u64>,
}

impl WriteOptions {
    /// The data file extension, with the codec as Spark names it (`snappy.parquet`).
    pub(crate) fn extension(&self) -> &'static str {
        match (self.format, self.compression) {
            (FileSinkFormat::Parquet, ParquetCompression::Snappy) => "snappy.parquet",
            (FileSinkFormat::Parquet, ParquetCompression::Zstd) => "zstd.parquet",
            (FileSinkFormat::Parquet, ParquetCompression::Uncompressed) => "parquet",
            (FileSinkFormat::Json, _) => "json",
            (FileSinkFormat::Csv, _) => "csv",
        }
    }
}

/// A data file that was written and renamed to its final name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct WrittenFile {
    /// Relative to the sink's folder, `/`-separated.
    pub(crate) relative_path: String,
    pub(crate) size: u64,
    pub(crate) rows: u64,
}

/// The name of data file `seq` of batch `batch_id`: `part-<batch>-<seq>-<uuid>.<ext>`.
pub(crate) fn data_file_name(batch_id: u64, seq: u32, extension: &str) -> String {
    format!(
        "part-{batch_id:05}-{seq:05}-{}.{extension}",
        uuid::Uuid::new_v4()
    )
}

/// The batch id in a data file name this sink wrote, or `None` for any other name.
pub(crate) fn batch_of_data_file(name: &str) -> Option<u64> {
    let rest = name.strip_prefix("part-")?;
    let (batch, rest) = rest.split_once('-')?;
    let (seq, rest) = rest.split_once('-')?;
    if !batch.bytes().all(|b| b.is_ascii_digit()) || !seq.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    uuid::Uuid::parse_str(rest.get(..36)?).ok()?;
    batch.parse().ok()
}

/// Whether `name` is a temp file of a data file being written (`.part-….tmp`).
pub(crate) fn is_temp_data_file(name: &str) -> bool {
    name.starts_with(".part-") && name.ends_with(".tmp")
}

/// Writes one folder's rows into one or more data files.
pub(crate) struct FolderWriter<'a> {
    pub(crate) root: &'a Path,
    /// The folder relative to the root (`a=1/b=x`, or empty).
    pub(crate) folder: &'a str,
    pub(crate) schema: SchemaRef,
    pub(crate) options: &'a WriteOptions,
    pub(crate) batch_id: u64,
}

impl FolderWriter<'_> {
    /// Writes `batches` (all of this folder's rows), rolling files at the limits; calls
    /// `file_done` after each file is complete under its final name.
    pub(crate) fn write(
        &self,
        batches: &[RecordBatch],
        next_seq: &mut u32,
        file_done: &mut dyn FnMut(WrittenFile) -> Result<()>,
    ) -> Result<()> {
        let dir = if self.folder.is_empty() {
            self.root.to_path_buf()
        } else {
            self.root.join(self.folder)
        };
        crate::checkpoint::atomic::create_dir_synced(&dir)?;
        let max_rows = self.options.max_rows_per_file.unwrap_or(usize::MAX).max(1);
        let slice_rows = if self.options.target_file_size.is_some() {
            SIZE_CHECK_ROWS
        } else {
            usize::MAX
        };
        let mut current: Option<OpenFile> = None;
        for batch in batches {
            let mut offset = 0;
            while offset < batch.num_rows() {
                let file = match current.as_mut() {
                    Some(file) => file,
                    None => {
                        let name =
                            data_file_name(self.batch_id, *next_seq, self.options.extension());
                        *next_seq += 1;
                        current.insert(OpenFile::create(&dir, name, &self.schema, self.options)?)
                    }
                };
                let room = max_rows - file.rows;
                let take = (batch.num_rows() - offset).min(room).min(slice_rows);
                file.write(&batch.slice(offset, take))?;
                offset += take;
                let full = file.rows >= max_rows
                    || self
                        .options
                        .target_file_size
                        .is_some_and(|target| file.size_estimate() >= target);
                if full && let Some(file) = current.take() {
                    file_done(file.finish(self.folder)?)?;
                }
            }
        }
        if let Some(file) = current.take() {
            file_done(file.finish(self.folder)?)?;
        }
        Ok(())
    }
}

/// A `Write` that counts the bytes going through it.
struct Counting {
    inner: BufWriter<File>,
    bytes: Arc<AtomicU64>,
}

impl Write for Counting {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.bytes.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

enum Encoder {
    #[cfg(feature = "parquet")]
    Parquet(parquet::arrow::ArrowWriter<Counting>),
    #[cfg(feature = "json")]
    Json(arrow_json::LineDelimitedWriter<Counting>),
    #[cfg(feature = "csv")]
    Csv(arrow_csv::Writer<Counting>),
}

/// A data file being written under its temp name.
struct OpenFile {
    temp: PathBuf,
    dir: PathBuf,
    name: String,
    /// `None` once finished.
    encoder: Option<Encoder>,
    bytes: Arc<AtomicU64>,
    rows: usize,
}

impl OpenFile {
    fn create(
        dir: &Path,
        name: String,
        schema: &SchemaRef,
        options: &WriteOptions,
    ) -> Result<Self> {
        let temp = dir.join(format!(".{name}.tmp"));
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)
            .map_err(|e| StreamError::io(&temp, e))?;
        let bytes = Arc::new(AtomicU64::new(0));
        let out = Counting {
            inner: BufWriter::with_capacity(256 * 1024, file),
            bytes: bytes.clone(),
        };
        let encoder = new_encoder(out, schema, options).map_err(|m| sink_file(&temp, m))?;
        Ok(OpenFile {
            temp,
            dir: dir.to_path_buf(),
            name,
            encoder: Some(encoder),
            bytes,
            rows: 0,
        })
    }

    fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        let result = match &mut self.encoder {
            #[cfg(feature = "parquet")]
            Some(Encoder::Parquet(w)) => w.write(batch).map_err(|e| e.to_string()),
            #[cfg(feature = "json")]
            Some(Encoder::Json(w)) => w.write(batch).map_err(|e| e.to_string()),
            #[cfg(feature = "csv")]
            Some(Encoder::Csv(w)) => w.write(batch).map_err(|e| e.to_string()),
            None => Err("the file was already finished".to_string()),
        };
        result.map_err(|m| sink_file(&self.temp, format!("cannot encode rows: {m}")))?;
        self.rows += batch.num_rows();
        Ok(())
    }

    /// Bytes written so far plus, for Parquet, the encoded size of the open row group.
    fn size_estimate(&self) -> u64 {
        let written = self.bytes.load(Ordering::Relaxed);
        match &self.encoder {
            #[cfg(feature = "parquet")]
            Some(Encoder::Parquet(w)) => written + w.in_progress_size() as u64,
            _ => written,
        }
    }

    /// Closes the encoder, fsyncs the file and renames it to its final name.
    fn finish(mut self, folder: &str) -> Result<WrittenFile> {
        let temp = self.temp.clone();
        let Some(encoder) = self.encoder.take() else {
            return Err(sink_file(&temp, "was already finished".into()));
        };
        let finished: std::result::Result<Counting, String> = match encoder {
            #[cfg(feature = "parquet")]
            Encoder::Parquet(w) => w.into_inner().map_err(|e| e.to_string()),
            #[cfg(feature = "json")]
            Encoder::Json(mut w) => w
                .finish()
                .map(|()| w.into_inner())
                .map_err(|e| e.to_string()),
            #[cfg(feature = "csv")]
            Encoder::Csv(w) => Ok(w.into_inner()),
        };
        let counting =
            finished.map_err(|m| sink_file(&temp, format!("cannot finish the file: {m}")))?;
        let file = counting
            .inner
            .into_inner()
            .map_err(|e| StreamError::io(&temp, e.into_error()))?;
        file.sync_all().map_err(|e| StreamError::io(&temp, e))?;
        let size = file
            .metadata()
            .map_err(|e| StreamError::io(&temp, e))?
            .len();
        drop(file);
        let path = self.dir.join(&self.name);
        fs::rename(&temp, &path).map_err(|e| StreamError::io(&path, e))?;
        let relative_path = if folder.is_empty() {
            self.name.clone()
        } else {
            format!("{folder}/{}", self.name)
        };
        Ok(WrittenFile {
            relative_path,
            size,
            rows: self.rows as u64,
        })
    }
}

impl Drop for OpenFile {
    fn drop(&mut self) {
        // an abandoned file (an error mid-write) leaves no temp file behind; after
        // `finish` the temp name no longer exists and this does nothing
        let _ = fs::remove_file(&self.temp);
    }
}

fn new_encoder(
    out: Counting,
    schema: &SchemaRef,
    options: &WriteOptions,
) -> std::result::Result<Encoder, String> {
    let _ = (&out, schema);
    match options.format {
        FileSinkFormat::Parquet => {
            #[cfg(feature = "parquet")]
            {
                use parquet::basic::{Compression, ZstdLevel};
                use parquet::file::properties::WriterProperties;
                let compression = match options.compression {
                    ParquetCompression::Snappy => Compression::SNAPPY,
                    ParquetCompression::Zstd => Compression::ZSTD(ZstdLevel::default()),
                    ParquetCompression::Uncompressed => Compression::UNCOMPRESSED,
                };
                let props = WriterProperties::builder()
                    .set_compression(compression)
                    .set_created_by(format!("stream-core {}", env!("CARGO_PKG_VERSION")))
                    .build();
                parquet::arrow::ArrowWriter::try_new(out, schema.clone(), Some(props))
                    .map(Encoder::Parquet)
                    .map_err(|e| e.to_string())
            }
            #[cfg(not(feature = "parquet"))]
            Err(super::missing_feature(options.format))
        }
        FileSinkFormat::Json => {
            #[cfg(feature = "json")]
            {
                Ok(Encoder::Json(arrow_json::LineDelimitedWriter::new(out)))
            }
            #[cfg(not(feature = "json"))]
            Err(super::missing_feature(options.format))
        }
        FileSinkFormat::Csv => {
            #[cfg(feature = "csv")]
            {
                Ok(Encoder::Csv(
                    arrow_csv::WriterBuilder::new().with_header(true).build(out),
                ))
            }
            #[cfg(not(feature = "csv"))]
            Err(super::missing_feature(options.format))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_file_names_carry_the_batch_id() {
        let name = data_file_name(42, 3, "snappy.parquet");
        assert!(name.starts_with("part-00042-00003-"), "{name}");
        assert!(name.ends_with(".snappy.parquet"), "{name}");
        assert_eq!(batch_of_data_file(&name), Some(42));
        assert_eq!(
            batch_of_data_file(&data_file_name(123456, 0, "csv")),
            Some(123456)
        );
        for other in [
            "part-1.parquet",
            "part-00001-00000-notauuid.json",
            "data.csv",
            "part--1-x",
        ] {
            assert_eq!(batch_of_data_file(other), None, "{other}");
        }
        assert!(is_temp_data_file(&format!(".{name}.tmp")));
        assert!(!is_temp_data_file(&name));
    }
}
