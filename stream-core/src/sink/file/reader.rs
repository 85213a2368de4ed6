//! Reading a file sink's output back through its manifest.

use std::fs::File;
use std::path::{Path, PathBuf};

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;

use super::FileSinkFormat;
use super::manifest::{Layout, Manifest, ManifestEntry, sink_file};
use super::partition::{PartitionSpec, attach_partition_values};
use crate::{Result, StreamError};

/// How often a read starts over when a manifest file it listed was deleted meanwhile
/// (a compaction by the running query).
const READ_ATTEMPTS: usize = 3;

/// The committed files of the sink folder `path` and its layout.
pub(crate) fn committed(path: &Path) -> Result<(Layout, Vec<ManifestEntry>)> {
    let manifest = Manifest::new(path);
    let mut attempt = 0;
    loop {
        attempt += 1;
        let layout = manifest.read_layout()?.ok_or_else(|| {
            sink_file(
                &path.join(super::manifest::METADATA_DIR),
                "holds no file sink output (no `format` file); was the folder written by a FileSink?"
                    .into(),
            )
        })?;
        match manifest.live_entries() {
            Ok(entries) => return Ok((layout, entries)),
            Err(StreamError::Io { source, .. })
                if source.kind() == std::io::ErrorKind::NotFound && attempt < READ_ATTEMPTS => {}
            Err(e) => return Err(e),
        }
    }
}

/// The absolute paths of the committed files.
pub(crate) fn committed_paths(path: &Path) -> Result<Vec<PathBuf>> {
    let (_, entries) = committed(path)?;
    Ok(entries
        .iter()
        .map(|e| path.join(e.path.replace('/', std::path::MAIN_SEPARATOR_STR)))
        .collect())
}

/// Every committed row, in batch order, with the partition columns back in their place.
pub(crate) fn read(path: &Path) -> Result<Vec<RecordBatch>> {
    let (layout, entries) = committed(path)?;
    let format: FileSinkFormat = layout.format.parse()?;
    let schema: SchemaRef = std::sync::Arc::new(layout.schema.clone());
    let spec = PartitionSpec::new(&schema, &layout.partition_by)?;
    let mut out = Vec::new();
    for entry in &entries {
        let file_path = path.join(&entry.path);
        for data in read_data_file(&file_path, format, spec.data_schema())? {
            out.push(
                attach_partition_values(&schema, &layout.partition_by, &entry.path, &data)
                    .map_err(|e| sink_file(&file_path, e.to_string()))?,
            );
        }
    }
    Ok(out)
}

fn read_data_file(
    path: &Path,
    format: FileSinkFormat,
    schema: &SchemaRef,
) -> Result<Vec<RecordBatch>> {
    let file = File::open(path).map_err(|e| StreamError::io(path, e))?;
    let decoded: std::result::Result<Vec<RecordBatch>, String> = match format {
        FileSinkFormat::Parquet => read_parquet(file),
        FileSinkFormat::Json => read_json(file, schema),
        FileSinkFormat::Csv => read_csv(file, schema),
    };
    decoded.map_err(|m| sink_file(path, format!("cannot read the data file: {m}")))
}

#[cfg(feature = "parquet")]
fn read_parquet(file: File) -> std::result::Result<Vec<RecordBatch>, String> {
    parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
        .and_then(|b| b.build())
        .map_err(|e| e.to_string())?
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())
}

#[cfg(not(feature = "parquet"))]
fn read_parquet(_: File) -> std::result::Result<Vec<RecordBatch>, String> {
    Err(super::missing_feature(FileSinkFormat::Parquet))
}

#[cfg(feature = "json")]
fn read_json(file: File, schema: &SchemaRef) -> std::result::Result<Vec<RecordBatch>, String> {
    arrow_json::ReaderBuilder::new(schema.clone())
        .build(std::io::BufReader::new(file))
        .map_err(|e| e.to_string())?
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())
}

#[cfg(not(feature = "json"))]
fn read_json(_: File, _: &SchemaRef) -> std::result::Result<Vec<RecordBatch>, String> {
    Err(super::missing_feature(FileSinkFormat::Json))
}

#[cfg(feature = "csv")]
fn read_csv(file: File, schema: &SchemaRef) -> std::result::Result<Vec<RecordBatch>, String> {
    arrow_csv::ReaderBuilder::new(schema.clone())
        .with_header(true)
        .build(std::io::BufReader::new(file))
        .map_err(|e| e.to_string())?
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())
}

#[cfg(not(feature = "csv"))]
fn read_csv(_: File, _: &SchemaRef) -> std::result::Result<Vec<RecordBatch>, String> {
    Err(super::missing_feature(FileSinkFormat::Csv))
}
