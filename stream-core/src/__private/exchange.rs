//! The map side's end of every stateful executor: rows or partial aggregates routed to
//! the shuffle partition that owns their key, and the late rows it dropped reported.

use std::hash::{Hash, Hasher};

use arrow_array::RecordBatch;

use super::kernels;
use super::stateful::{StableHasher, partition_of, zip_batches};
use crate::Result;
use crate::pipeline::{InputChunk, TaskContext, TaskOutput};
use crate::progress::StateOperatorProgress;
use crate::state::StateOperatorMetrics;
use crate::types::TypedRow;

/// The hash that picks a key's shuffle partition: the same in every process and every
/// version, since a checkpoint's state is partitioned by it. A key's `Hash` feeds its
/// parts' canonical bytes (see [`super::KeyPart`]).
///
/// ```
/// use stream_core::__private::stable_hash;
/// assert_eq!(stable_hash(&7i64), stable_hash(&7i64));
/// assert_ne!(stable_hash(&7i64), stable_hash(&8i64));
/// ```
#[inline]
pub fn stable_hash<K: Hash + ?Sized>(key: &K) -> u64 {
    let mut hasher = StableHasher::default();
    key.hash(&mut hasher);
    hasher.finish()
}

/// The shuffle partition of `key` among `ctx`'s shuffle partitions.
#[inline]
pub(crate) fn partition_of_key<K: Hash>(key: &K, partitions: usize) -> usize {
    partition_of(stable_hash(key), partitions)
}

/// Keys and values bound for each shuffle partition, sent as one batch per partition
/// whose columns are the key's then the value's.
pub(crate) struct PairBuckets<K, V> {
    keys: Vec<Vec<K>>,
    values: Vec<Vec<V>>,
}

impl<K: TypedRow + Hash, V: TypedRow> PairBuckets<K, V> {
    pub(crate) fn new(ctx: &TaskContext) -> Self {
        let parts = ctx.shuffle_partitions.max(1);
        PairBuckets {
            keys: (0..parts).map(|_| Vec::new()).collect(),
            values: (0..parts).map(|_| Vec::new()).collect(),
        }
    }

    /// Sends `key` and `value` to the partition of `route` (the key, or for a session
    /// its group).
    #[inline]
    pub(crate) fn push_routed<R: Hash>(&mut self, route: &R, key: K, value: V) {
        let p = partition_of_key(route, self.keys.len());
        self.keys[p].push(key);
        self.values[p].push(value);
    }

    /// Sends `key` and `value` to the partition of `key`.
    #[inline]
    pub(crate) fn push(&mut self, key: K, value: V) {
        let p = partition_of_key(&key, self.keys.len());
        self.keys[p].push(key);
        self.values[p].push(value);
    }

    pub(crate) fn into_exchange(self) -> Result<TaskOutput> {
        let mut buckets = Vec::with_capacity(self.keys.len());
        for (keys, values) in self.keys.into_iter().zip(self.values) {
            if keys.is_empty() {
                buckets.push(Vec::new());
                continue;
            }
            let batch = zip_batches(&K::to_batch(&keys)?, &V::to_batch(&values)?)?;
            buckets.push(vec![InputChunk { input: 0, batch }]);
        }
        Ok(TaskOutput::Exchange(buckets))
    }
}

/// Whole rows bound for each shuffle partition, tagged with their input (a join's side).
pub(crate) struct RowBuckets {
    buckets: Vec<Vec<InputChunk>>,
}

impl RowBuckets {
    pub(crate) fn new(ctx: &TaskContext) -> Self {
        RowBuckets {
            buckets: (0..ctx.shuffle_partitions.max(1))
                .map(|_| Vec::new())
                .collect(),
        }
    }

    /// Routes the rows of `batch` whose key `keys` gives (`None`: the row goes nowhere,
    /// a null join key) to their keys' partitions.
    pub(crate) fn route<K: Hash>(
        &mut self,
        input: usize,
        batch: &RecordBatch,
        keys: impl Iterator<Item = Option<K>>,
    ) -> Result<()> {
        self.route_hashed(input, batch, keys.map(|k| k.map(|k| stable_hash(&k))))
    }

    /// Routes the rows of `batch` by their keys' stable hashes (`None`: nowhere).
    pub(crate) fn route_hashed(
        &mut self,
        input: usize,
        batch: &RecordBatch,
        hashes: impl Iterator<Item = Option<u64>>,
    ) -> Result<()> {
        let parts = self.buckets.len();
        // each row's partition, then the rows grouped by partition (a counting sort):
        // one take of the batch, sliced per partition, instead of one take per partition
        let of_row: Vec<Option<u32>> = hashes
            .map(|h| h.map(|h| partition_of(h, parts) as u32))
            .collect();
        let mut starts = vec![0usize; parts + 1];
        for p in of_row.iter().flatten() {
            starts[*p as usize + 1] += 1;
        }
        for p in 0..parts {
            starts[p + 1] += starts[p];
        }
        let mut next = starts.clone();
        let mut order = vec![0u32; starts[parts]];
        for (i, p) in of_row.iter().enumerate() {
            if let Some(p) = p {
                order[next[*p as usize]] = i as u32;
                next[*p as usize] += 1;
            }
        }
        let grouped = kernels::take_rows(batch, order)?;
        for p in 0..parts {
            let (start, end) = (starts[p], starts[p + 1]);
            if end > start {
                self.buckets[p].push(InputChunk {
                    input,
                    batch: grouped.slice(start, end - start),
                });
            }
        }
        Ok(())
    }

    pub(crate) fn into_exchange(self) -> TaskOutput {
        TaskOutput::Exchange(self.buckets)
    }
}

/// Which rows of a batch whose event times are `times` are kept against the watermark
/// `late` (a row at or below it is late; a null time never is), and how many are
/// dropped; `None` when none is.
pub(crate) fn late_mask(times: &[Option<i64>], late: i64) -> Option<(Vec<bool>, u64)> {
    let keep: Vec<bool> = times.iter().map(|t| t.is_none_or(|t| t > late)).collect();
    let dropped = keep.iter().filter(|k| !**k).count() as u64;
    (dropped > 0).then_some((keep, dropped))
}

/// Reports the `dropped` input rows the map side of stateful operator `id` (named `name`
/// in the progress) dropped as late, if any.
pub(crate) fn report_dropped(ctx: &TaskContext, id: usize, name: &str, dropped: u64) {
    if dropped > 0 {
        ctx.metrics.add_state(
            id,
            name,
            &StateOperatorProgress {
                operator_name: String::new(),
                metrics: StateOperatorMetrics {
                    num_rows_dropped_by_watermark: dropped,
                    ..Default::default()
                },
            },
        );
    }
}

/// The rows dropped as late of each batch, for the query's late-rows sink: each batch's
/// indices taken from the batch as it came (the stream's columns).
#[derive(Default)]
pub(crate) struct LateRows {
    rows: Vec<RecordBatch>,
    indices: Vec<u32>,
}

impl LateRows {
    /// Row `row` of the current batch was dropped (once per late window it falls in).
    #[inline]
    pub(crate) fn push(&mut self, row: usize) {
        self.indices.push(row as u32);
    }

    /// The current batch ends: its dropped rows are taken from `stream_batch`.
    pub(crate) fn end_batch(&mut self, stream_batch: Option<&RecordBatch>) -> Result<()> {
        if let Some(batch) = stream_batch
            && !self.indices.is_empty()
        {
            self.rows.push(kernels::take_rows(
                batch,
                std::mem::take(&mut self.indices),
            )?);
        }
        self.indices.clear();
        Ok(())
    }

    /// Rows of `batch` whose `keep` is false.
    pub(crate) fn push_dropped(&mut self, batch: &RecordBatch, keep: &[bool]) -> Result<()> {
        self.rows.push(kernels::keep_rows(
            batch,
            keep.iter().map(|k| !*k).collect(),
        )?);
        Ok(())
    }

    /// Hands the rows to the engine for the late-rows sink of operator `id`.
    pub(crate) fn report(self, ctx: &TaskContext, id: usize) {
        ctx.metrics
            .add_late_rows(id, ctx.stage, ctx.partition, self.rows);
    }
}
