//! [`DedupExec`]: the executor of `drop_duplicates(cols..)` and
//! `drop_duplicates_within_watermark(cols..)`: each key passes once. With a watermark,
//! input at or below the previous batch's watermark is dropped as late, and keys are
//! evicted once the watermark passes them (`drop_duplicates`: their event time, when the
//! event-time column is a key; `..._within_watermark`: their first event time plus the
//! delay), as Spark does. Without a watermark every key is kept forever.

use std::hash::Hash;
use std::sync::Arc;

use arrow_array::{Int64Array, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef};

use super::exchange::{LateRows, RowBuckets, late_mask, report_dropped};
use super::kernels;
use super::key_hash::key_hashes;
use super::slots::Slots;
use super::stateful::from_ms;
use crate::Result;
use crate::pipeline::{InputChunk, TaskContext, TaskOutput};
use crate::state::{AnyStore, EntryTime, HeapSize, KeyedState, StateBytes};
use crate::types::{ColumnValue, TypedRow};

/// The name of a deduplication in the progress record, as Spark's.
const NAME: &str = "dedupe";

/// What the state keeps per key: the event time of the key's first row (in the event
/// time column's unit), to evict it by. Eight bytes, with no time kept as `i64::MIN`:
/// the deduplication state is mostly these entries, and an `Option` would make each
/// one a third larger. (A row at that instant, 292 million years before 1970, is kept
/// as if it had no time: never evicted.)
///
/// ```
/// use stream_core::__private::DedupSeen;
/// assert_eq!(DedupSeen::new(Some(5)).event_time(), Some(5));
/// assert_eq!(DedupSeen::new(None).event_time(), None);
/// assert_eq!(size_of::<DedupSeen>(), 8);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DedupSeen {
    event_time: i64,
}

impl DedupSeen {
    const NO_TIME: i64 = i64::MIN;

    /// The first row's event time; `None` without a watermark or for a null time.
    #[inline]
    pub fn new(event_time: Option<i64>) -> Self {
        DedupSeen {
            event_time: event_time.unwrap_or(Self::NO_TIME),
        }
    }

    /// The first row's event time, if it had one.
    #[inline]
    pub fn event_time(&self) -> Option<i64> {
        (self.event_time != Self::NO_TIME).then_some(self.event_time)
    }
}

impl HeapSize for DedupSeen {}

impl StateBytes for DedupSeen {
    #[inline]
    fn write_bytes(&self, out: &mut Vec<u8>) {
        self.event_time.write_bytes(out);
    }
    #[inline]
    fn read_bytes(input: &mut &[u8]) -> Result<Self> {
        i64::read_bytes(input).map(|event_time| DedupSeen { event_time })
    }
}

impl DedupSeen {
    fn batch(times: impl Iterator<Item = Option<i64>>) -> Result<RecordBatch> {
        Ok(RecordBatch::try_new(
            Self::arrow_schema(),
            vec![Arc::new(Int64Array::from_iter(times))],
        )?)
    }
}

/// The column name in the state files (the name the generated value struct had).
const EVENT_TIME: &str = "__event_time";

impl TypedRow for DedupSeen {
    fn arrow_schema() -> SchemaRef {
        Arc::new(Schema::new(vec![Field::new(
            EVENT_TIME,
            DataType::Int64,
            true,
        )]))
    }

    fn to_batch(rows: &[Self]) -> Result<RecordBatch> {
        Self::batch(rows.iter().map(|r| r.event_time()))
    }

    fn to_batch_refs(rows: &[&Self]) -> Result<RecordBatch> {
        Self::batch(rows.iter().map(|r| r.event_time()))
    }

    fn from_batch(batch: &RecordBatch) -> Result<Vec<Self>> {
        let column = super::derive::column(batch, EVENT_TIME, "DedupSeen")?;
        Ok(i64::from_array(column, EVENT_TIME)?
            .into_iter()
            .map(DedupSeen::new)
            .collect())
    }
}

/// The time a key's state expires by: its first row's event time.
fn seen_time<K>(_: &K, seen: &DedupSeen) -> Option<i64> {
    seen.event_time()
}

/// The watermarked event-time column of a deduplicated stream.
#[derive(Clone, Copy, Debug)]
pub struct DedupTime {
    /// Its index in the stream.
    pub index: usize,
    /// Its name, for errors.
    pub name: &'static str,
    /// Its ticks per millisecond (1 for `timestamp_ms`, 1000 for µs).
    pub unit_per_ms: i64,
    /// The watermark's delay, in ms.
    pub delay_ms: i64,
}

/// The settings of a deduplication, fixed by the compiled plan.
#[derive(Clone, Debug)]
pub struct DedupConf {
    /// The stateful operator's id.
    pub id: usize,
    /// The key columns' indices in the stream, in the key struct's field order.
    pub keys: Vec<usize>,
    /// The stream's event time, if it has a watermark.
    pub event_time: Option<DedupTime>,
    /// `drop_duplicates_within_watermark`.
    pub within: bool,
    /// Whether keys are evicted by the watermark.
    pub evict: bool,
    /// Whether the rows dropped as late go to the query's late-rows sink.
    pub late_rows: bool,
}

/// The executor of one deduplication, keyed by `K` (the key columns' row struct).
///
/// ```
/// use stream_core::Schema;
/// use stream_core::__private::{DedupConf, DedupExec};
/// use stream_core::state::HeapSize;
///
/// #[derive(Schema, Clone, Debug, PartialEq, Eq, Hash)] struct UserKey { user: String }
/// impl HeapSize for UserKey {}
/// let exec: DedupExec<UserKey> = DedupExec::new(DedupConf {
///     id: 0, keys: vec![1], event_time: None, within: false, evict: false, late_rows: false,
/// });
/// # let _ = exec;
/// ```
pub struct DedupExec<K, S = AnyStore<K, DedupSeen>> {
    conf: DedupConf,
    slots: Slots<S>,
    key: std::marker::PhantomData<fn() -> K>,
}

impl<K, S> std::fmt::Debug for DedupExec<K, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DedupExec")
            .field("conf", &self.conf)
            .finish()
    }
}

impl<K, S> DedupExec<K, S>
where
    K: TypedRow + StateBytes + HeapSize + Hash + Eq + Clone + Send,
    S: KeyedState<K, DedupSeen>,
{
    /// The executor of a deduplication with settings `conf`.
    pub fn new(conf: DedupConf) -> Self {
        DedupExec {
            conf,
            slots: Slots::default(),
            key: std::marker::PhantomData,
        }
    }

    /// The event times of `batch` in the column's unit, one per row.
    fn times(&self, batch: &RecordBatch) -> Result<Vec<Option<i64>>> {
        match self.conf.event_time {
            Some(t) => kernels::event_times(batch, t.index, t.name, t.unit_per_ms),
            None => Ok(vec![None; batch.num_rows()]),
        }
    }

    fn keys(&self, batch: &RecordBatch) -> Result<Vec<K>> {
        K::from_batch(&batch.project(&self.conf.keys)?)
    }

    /// The map side: each row routed to its key's shuffle partition; rows at or below
    /// the previous batch's watermark dropped as late (and, with a late-rows sink, sent
    /// there).
    pub fn map(&self, ctx: &TaskContext, batches: Vec<RecordBatch>) -> Result<TaskOutput> {
        let mut buckets = RowBuckets::new(ctx);
        let mut dropped = 0u64;
        let mut late_rows = self.conf.late_rows.then(LateRows::default);
        for mut batch in batches {
            if let Some(t) = self.conf.event_time {
                let late = from_ms(ctx.late_watermark_ms, t.unit_per_ms);
                if let Some((keep, n)) = late_mask(&self.times(&batch)?, late) {
                    dropped += n;
                    if let Some(l) = &mut late_rows {
                        l.push_dropped(&batch, &keep)?;
                    }
                    batch = kernels::keep_rows(&batch, keep)?;
                }
            }
            // hashed from the columns; decoded only for a key type the kernel does not read
            let columns: Vec<_> = self
                .conf
                .keys
                .iter()
                .map(|&i| batch.column(i).clone())
                .collect();
            match key_hashes(&columns, K::arrow_schema().fields()) {
                Some(hashes) => buckets.route_hashed(0, &batch, hashes.into_iter().map(Some))?,
                None => buckets.route(0, &batch, self.keys(&batch)?.iter().map(Some))?,
            }
        }
        report_dropped(ctx, self.conf.id, NAME, dropped);
        if let Some(l) = late_rows {
            l.report(ctx, self.conf.id);
        }
        Ok(buckets.into_exchange())
    }

    /// Checks that the state this deduplication keeps in `checkpoint`, if any, was
    /// written with its key columns (when the query starts).
    pub fn check_state(&self, checkpoint: &std::path::Path) -> Result<()> {
        crate::state::check_operator::<K, DedupSeen>(checkpoint, &self.conf.id.to_string())
    }

    /// The reduce side: the rows of keys not seen before, in order; then the keys the
    /// watermark passed evicted.
    pub fn reduce(&self, ctx: &TaskContext, input: Vec<InputChunk>) -> Result<Vec<RecordBatch>> {
        let operator = self.conf.id.to_string();
        let evicts = self.conf.evict && self.conf.event_time.is_some();
        let time = evicts.then_some(seen_time::<K> as EntryTime<_, _>);
        let mut state: S = self.slots.take_state(ctx, &operator, time)?;
        let mut out = Vec::with_capacity(input.len());
        for chunk in input {
            let batch = chunk.batch;
            let times = self.times(&batch)?;
            let keys = self.keys(&batch)?;
            let entries = keys
                .into_iter()
                .zip(times)
                .map(|(key, event_time)| (key, DedupSeen::new(event_time)))
                .collect();
            let keep = state.insert_all_if_absent(entries)?;
            out.push(kernels::keep_rows(&batch, keep)?);
        }
        if self.conf.evict
            && let Some(t) = self.conf.event_time
        {
            let wm = from_ms(ctx.watermark_ms, t.unit_per_ms);
            let delay = if self.conf.within {
                t.delay_ms.saturating_mul(t.unit_per_ms)
            } else {
                0
            };
            // a key goes once its time plus the delay is at or below the watermark
            state.drop_expired(seen_time::<K>, wm.saturating_sub(delay))?;
        }
        self.slots.commit_state(ctx, self.conf.id, NAME, state)?;
        Ok(out)
    }
}
