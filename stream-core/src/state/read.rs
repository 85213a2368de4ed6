//! The state of a checkpoint as a table, as Spark 4's state data source reads it: an
//! operator's keys and values at a committed batch, whichever store wrote them (both
//! write the same files).

use std::collections::HashMap;
use std::fs;
use std::path::Path;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::{Array, ArrayRef, Int32Array, RecordBatch};
use arrow_row::{RowConverter, SortField};
use arrow_schema::{DataType, Field, Schema, SchemaRef};

use super::codec;
use super::layout::{FileKind, StateDir};
use super::schema;
use super::store::resume_chain;
use crate::checkpoint::MetadataLog;
use crate::{Result, StreamError};

/// One stateful operator of a checkpoint, as [`operators`] lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StateOperatorInfo {
    /// Its folder name under `state/`: the operator's id (`0`, `1`, ...), with `-left`
    /// or `-right` for a side of a stream–stream join.
    pub operator: String,
    /// Its shuffle partitions (one folder each).
    pub partitions: usize,
    /// The bytes of its state files (deltas, snapshots and schema) in the checkpoint.
    pub checkpoint_bytes: u64,
}

/// The stateful operators of the checkpoint `checkpoint`, by folder name.
///
/// ```
/// let checkpoint = tempfile::tempdir().unwrap();
/// assert!(stream_core::state::operators(checkpoint.path())?.is_empty());
/// # Ok::<(), stream_core::StreamError>(())
/// ```
pub fn operators(checkpoint: &Path) -> Result<Vec<StateOperatorInfo>> {
    let state = checkpoint.join("state");
    let mut found = Vec::new();
    for operator in super::verify::subfolders(&state)? {
        let dir = state.join(&operator);
        let partitions = super::verify::subfolders(&dir)?
            .iter()
            .filter(|p| p.parse::<usize>().is_ok())
            .count();
        found.push(StateOperatorInfo {
            checkpoint_bytes: folder_bytes(&dir)?,
            operator,
            partitions,
        });
    }
    Ok(found)
}

/// A committed batch of a checkpoint: its id and the time it was planned at (its
/// `batchTimestampMs` in `offsets/<id>`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CommittedBatch {
    /// The batch id.
    pub id: u64,
    /// Milliseconds since the epoch; `None` if its offsets entry is gone.
    pub timestamp_ms: Option<i64>,
}

/// The last committed batch of the checkpoint `checkpoint`, `None` before the first.
///
/// ```
/// let checkpoint = tempfile::tempdir().unwrap();
/// assert_eq!(stream_core::state::last_committed(checkpoint.path())?, None);
/// # Ok::<(), stream_core::StreamError>(())
/// ```
pub fn last_committed(checkpoint: &Path) -> Result<Option<CommittedBatch>> {
    let commits = MetadataLog::existing(checkpoint.join("commits"));
    if !commits.dir().is_dir() {
        return Ok(None);
    }
    let Some(id) = commits.latest_id()? else {
        return Ok(None);
    };
    // the offsets entry's first line is the batch's metadata
    let offsets = MetadataLog::existing(checkpoint.join("offsets"));
    let timestamp_ms = offsets.get(id).ok().flatten().and_then(|lines| {
        let metadata = serde_json::from_str::<serde_json::Value>(lines.first()?).ok()?;
        metadata["batchTimestampMs"].as_i64()
    });
    Ok(Some(CommittedBatch { id, timestamp_ms }))
}

fn folder_bytes(dir: &Path) -> Result<u64> {
    let mut total = 0;
    for entry in fs::read_dir(dir).map_err(|e| StreamError::io(dir, e))? {
        let entry = entry.map_err(|e| StreamError::io(dir, e))?;
        let meta = entry
            .metadata()
            .map_err(|e| StreamError::io(entry.path(), e))?;
        total += if meta.is_dir() {
            folder_bytes(&entry.path())?
        } else {
            meta.len()
        };
    }
    Ok(total)
}

/// The state of `operator` (its folder name under `state/`, see [`operators`]) in the
/// checkpoint `checkpoint` after batch `batch`: one row per key, with columns `key` and
/// `value` (structs of the key's and the value's columns, as the operator keeps them)
/// and `partition_id`, as Spark's state data source. The rows of a partition are in no
/// particular order. Errors name the file: a batch whose state the checkpoint no longer
/// keeps (retention), a damaged file, an operator without state.
///
/// ```
/// use stream_core::{MemoryStream, Schema, stream};
///
/// #[derive(Schema, Clone)]
/// struct Click { user: String }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let checkpoint = tempfile::tempdir()?;
/// let input = MemoryStream::of::<Click>();
/// let query = stream! {
///     schema Click = Click;
///     read(memory, stream = {input.clone()}, schema = Click)
///         .group_by(user)
///         .agg(count() as clicks)
///         .write(memory, name = "doc_state_read")
///         .output_mode(complete)
/// }
/// .checkpoint_location(checkpoint.path())
/// .start()?;
/// input.add_rows(&[Click { user: "ann".into() }, Click { user: "ann".into() }, Click { user: "bob".into() }])?;
/// query.process_all_available().await?;
/// query.stop().await;
///
/// let state = stream_core::state::read(checkpoint.path(), "0", 0)?;
/// assert_eq!(state.num_rows(), 2);
/// let names: Vec<_> = state.schema().fields().iter().map(|f| f.name().clone()).collect();
/// assert_eq!(names, ["key", "value", "partition_id"]);
/// # Ok(()) }
/// ```
pub fn read(checkpoint: &Path, operator: &str, batch: u64) -> Result<RecordBatch> {
    let operator_dir = checkpoint.join("state").join(operator);
    if !operator_dir.is_dir() {
        let known: Vec<String> = operators(checkpoint)?
            .into_iter()
            .map(|o| o.operator)
            .collect();
        return Err(StreamError::InvalidQuery(format!(
            "the checkpoint `{}` has no state of operator `{operator}`; it has: {}",
            checkpoint.display(),
            if known.is_empty() {
                "none".to_string()
            } else {
                known.join(", ")
            }
        )));
    }
    match last_committed(checkpoint)? {
        Some(last) if last.id >= batch => {}
        last => {
            return Err(StreamError::InvalidQuery(format!(
                "batch {batch} of `{}` is not committed: {}",
                checkpoint.display(),
                last.map_or("it has no committed batch".to_string(), |l| format!(
                    "its last committed batch is {}",
                    l.id
                ))
            )));
        }
    }
    let mut parts = Vec::new();
    let mut schemas: Option<(Schema, Schema)> = None;
    for name in super::verify::subfolders(&operator_dir)? {
        let Ok(partition) = name.parse::<usize>() else {
            continue;
        };
        let dir = StateDir::new(checkpoint, operator, partition)?;
        let Some((key, value)) = schema::read_schemas(&dir)? else {
            continue;
        };
        let pairs = read_partition(&dir, &key, &value, batch)?;
        parts.push((partition, pairs));
        schemas.get_or_insert((key, value));
    }
    let Some((key, value)) = schemas else {
        return Err(StreamError::InvalidQuery(format!(
            "operator `{operator}` of the checkpoint `{}` has no state written yet",
            checkpoint.display()
        )));
    };
    parts.sort_by_key(|(p, _)| *p);
    let schema = table_schema(&key, &value);
    let mut batches = Vec::new();
    for (partition, pairs) in parts {
        let rows = pairs.num_rows();
        let id = i32::try_from(partition).unwrap_or(i32::MAX);
        batches.push(RecordBatch::try_new(
            schema.clone(),
            vec![
                pairs.column(0).clone(),
                pairs.column(1).clone(),
                Arc::new(Int32Array::from(vec![id; rows])),
            ],
        )?);
    }
    Ok(arrow_select::concat::concat_batches(&schema, &batches)?)
}

fn table_schema(key: &Schema, value: &Schema) -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("key", DataType::Struct(key.fields().clone()), false),
        Field::new("value", DataType::Struct(value.fields().clone()), false),
        Field::new("partition_id", DataType::Int32, false),
    ]))
}

/// One partition's rows at `version`, as a batch of the two struct columns.
fn read_partition(
    dir: &StateDir,
    key: &Schema,
    value: &Schema,
    version: u64,
) -> Result<RecordBatch> {
    let files = dir.list()?;
    let Some(chain) = resume_chain(dir, &files, true, Some(version))? else {
        unreachable!("a version is asked for");
    };
    let pair = codec::untyped_pair_schema(key, value);
    let converter = RowConverter::new(vec![SortField::new(pair.field(0).data_type().clone())])?;
    // the latest (batch, row) of each key
    let mut loaded: Vec<RecordBatch> = Vec::new();
    let mut latest: HashMap<Vec<u8>, (usize, usize)> = HashMap::new();
    let upsert = |batch: RecordBatch,
                  loaded: &mut Vec<RecordBatch>,
                  latest: &mut HashMap<Vec<u8>, (usize, usize)>|
     -> Result<()> {
        let rows = converter.convert_columns(&[batch.column(0).clone()])?;
        let b = loaded.len();
        for (i, row) in rows.iter().enumerate() {
            latest.insert(row.as_ref().to_vec(), (b, i));
        }
        loaded.push(batch);
        Ok(())
    };
    if let Some(s) = chain.snapshot {
        let path = dir.path(s, FileKind::Snapshot);
        let bytes = fs::read(&path).map_err(|e| StreamError::io(&path, e))?;
        for batch in codec::read_untyped(&path, &bytes, 1, 0, &pair)? {
            upsert(batch, &mut loaded, &mut latest)?;
        }
    }
    let removed_schema = Schema::new(vec![pair.field(0).clone()]);
    for d in chain.deltas {
        let path = dir.path(d, FileKind::Delta);
        let bytes = fs::read(&path).map_err(|e| StreamError::io(&path, e))?;
        for batch in codec::read_untyped(&path, &bytes, 2, 1, &removed_schema)? {
            let rows = converter.convert_columns(&[batch.column(0).clone()])?;
            for row in rows.iter() {
                latest.remove(row.as_ref());
            }
        }
        for batch in codec::read_untyped(&path, &bytes, 2, 0, &pair)? {
            upsert(batch, &mut loaded, &mut latest)?;
        }
    }
    let mut at: Vec<(usize, usize)> = latest.into_values().collect();
    at.sort_unstable();
    let column = |c: usize| -> Result<ArrayRef> {
        let arrays: Vec<&dyn Array> = loaded.iter().map(|b| b.column(c).as_ref()).collect();
        if at.is_empty() {
            return Ok(arrow_array::new_empty_array(pair.field(c).data_type()));
        }
        Ok(arrow_select::interleave::interleave(&arrays, &at)?)
    };
    let (keys, values) = (column(0)?, column(1)?);
    debug_assert!(keys.as_struct_opt().is_some());
    Ok(RecordBatch::try_new(Arc::new(pair), vec![keys, values])?)
}
