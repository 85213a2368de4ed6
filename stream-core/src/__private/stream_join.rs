//! [`StreamJoinExec`]: the executor of a stream–stream inner join,
//! `a.join(b, on = key, within = "..")`. Each side's rows are buffered in its state
//! until the watermark shows that no row of the other side can match them any more.
//!
//! A side keeps its rows in keyed state (so they are checkpointed and recovered like
//! any other state), each under a [`JoinRowId`], and an index from join key to row ids
//! in memory, rebuilt from the state when it is loaded from the checkpoint.

use std::hash::Hash;
use std::sync::Arc;

use arrow_array::{Int64Array, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef};

use super::exchange::{RowBuckets, late_mask, report_dropped};
use super::kernels;
use super::slots::Slots;
use super::stateful::{from_ms, zip_batches};
use crate::Result;
use crate::hash::FastHashMap;
use crate::pipeline::{InputChunk, TaskContext, TaskOutput};
use crate::state::{AnyStore, HeapSize, KeyedState, StateBytes, StateLocation, StateStoreConf};
use crate::types::{ColumnValue, TypedRow};

/// The name of a stream–stream join in the progress record, as Spark's.
const NAME: &str = "symmetricHashJoin";

/// The key one buffered row of a join side is kept under in its state store: a number
/// unique within the side's store in one shuffle partition.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct JoinRowId {
    /// The row's number.
    pub row_id: i64,
}

impl HeapSize for JoinRowId {}

impl StateBytes for JoinRowId {
    /// Big-endian, so that the rows of a side are kept in the order they came.
    #[inline]
    fn write_bytes(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.row_id.to_be_bytes());
    }
    #[inline]
    fn read_bytes(input: &mut &[u8]) -> Result<Self> {
        let Some((head, rest)) = input.split_first_chunk::<8>() else {
            return Err(crate::state::bytes::malformed("row id"));
        };
        *input = rest;
        Ok(JoinRowId {
            row_id: i64::from_be_bytes(*head),
        })
    }
}

impl JoinRowId {
    fn batch(ids: impl Iterator<Item = i64>) -> Result<RecordBatch> {
        Ok(RecordBatch::try_new(
            Self::arrow_schema(),
            vec![Arc::new(Int64Array::from_iter_values(ids))],
        )?)
    }
}

impl TypedRow for JoinRowId {
    fn arrow_schema() -> SchemaRef {
        Arc::new(Schema::new(vec![Field::new(
            "row_id",
            DataType::Int64,
            false,
        )]))
    }

    fn to_batch(rows: &[Self]) -> Result<RecordBatch> {
        Self::batch(rows.iter().map(|r| r.row_id))
    }

    fn to_batch_refs(rows: &[&Self]) -> Result<RecordBatch> {
        Self::batch(rows.iter().map(|r| r.row_id))
    }

    fn from_batch(batch: &RecordBatch) -> Result<Vec<Self>> {
        let column = super::derive::column(batch, "row_id", "JoinRowId")?;
        i64::from_array(column, "row_id")?
            .into_iter()
            .map(|id| {
                super::derive::required(Some(id), "row_id", "JoinRowId")
                    .map(|row_id| JoinRowId { row_id })
            })
            .collect()
    }
}

/// One side of a stream–stream join in one shuffle partition: its buffered rows `V`,
/// found by their join key `K`, kept in the state `S`.
///
/// ```
/// use stream_core::Schema;
/// use stream_core::state::{HeapSize, StateLocation};
/// use stream_core::__private::JoinSide;
///
/// #[derive(Schema, Clone, Debug, PartialEq)]
/// struct Click { user: String, ts_ms: i64 }
/// impl HeapSize for Click {}
///
/// # fn main() -> stream_core::Result<()> {
/// let checkpoint = tempfile::tempdir().unwrap();
/// let at = StateLocation { checkpoint: checkpoint.path(), operator: "0-left", partition: 0 };
/// let mut side: JoinSide<String, Click> =
///     JoinSide::open(at, None, Default::default(), |c: &Click| Some(c.user.clone()))?;
/// side.insert(Click { user: "ann".into(), ts_ms: 5 })?;
/// let mut found = Vec::new();
/// side.for_each_match(&"ann".to_string(), |c| found.push(c.ts_ms))?;
/// assert_eq!(found, [5]);
/// # Ok(()) }
/// ```
pub struct JoinSide<K, V, S = AnyStore<JoinRowId, V>> {
    state: S,
    index: FastHashMap<K, Vec<i64>>,
    next_id: i64,
    key_of: fn(&V) -> Option<K>,
}

impl<K, V, S: KeyedState<JoinRowId, V>> std::fmt::Debug for JoinSide<K, V, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JoinSide")
            .field("rows", &self.state.len())
            .field("keys", &self.index.len())
            .field("version", &self.state.version())
            .finish()
    }
}

impl<K, V, S> JoinSide<K, V, S>
where
    K: Hash + Eq,
    V: TypedRow + HeapSize + Clone,
    S: KeyedState<JoinRowId, V>,
{
    /// Opens the side kept at `location` at `version` (see [`KeyedState::open`], whose
    /// errors it returns), and indexes its rows by `key_of` (a row whose key is `None`
    /// matches nothing and is not kept).
    pub fn open(
        location: StateLocation<'_>,
        version: Option<u64>,
        conf: StateStoreConf,
        key_of: fn(&V) -> Option<K>,
    ) -> Result<Self> {
        let state = S::open(location, version, conf)?;
        let mut index: FastHashMap<K, Vec<i64>> = FastHashMap::default();
        let mut next_id = 0;
        state.scan(|id, row| {
            next_id = next_id.max(id.row_id.saturating_add(1));
            if let Some(key) = key_of(row) {
                index.entry(key).or_default().push(id.row_id);
            }
        })?;
        // the rows of a key in the order they came, as they are matched
        for ids in index.values_mut() {
            ids.sort_unstable();
        }
        Ok(JoinSide {
            state,
            index,
            next_id,
            key_of,
        })
    }

    /// Calls `f` with the buffered rows whose key is `key`, in the order they came.
    pub fn for_each_match(&self, key: &K, mut f: impl FnMut(&V)) -> Result<()> {
        for id in self.index.get(key).into_iter().flatten() {
            self.state.read(&JoinRowId { row_id: *id }, &mut f)?;
        }
        Ok(())
    }

    /// Buffers `row` (a row without a key is not kept: it can never match).
    pub fn insert(&mut self, row: V) -> Result<()> {
        let Some(key) = (self.key_of)(&row) else {
            return Ok(());
        };
        let id = self.next_id;
        self.next_id += 1;
        self.state.put(JoinRowId { row_id: id }, row)?;
        self.index.entry(key).or_default().push(id);
        Ok(())
    }

    /// Removes the rows for which `expired` is true; how many went.
    pub fn evict(&mut self, mut expired: impl FnMut(&V) -> bool) -> Result<usize> {
        let gone = self.state.remove_where(|_, row| expired(row))?;
        // the ids that went, per key: each key's list is then filtered once
        let mut gone_ids: FastHashMap<K, Vec<i64>> = FastHashMap::default();
        for (id, row) in &gone {
            if let Some(key) = (self.key_of)(row) {
                gone_ids.entry(key).or_default().push(id.row_id);
            }
        }
        for (key, mut went) in gone_ids {
            went.sort_unstable();
            if let Some(ids) = self.index.get_mut(&key) {
                ids.retain(|i| went.binary_search(i).is_err());
                if ids.is_empty() {
                    self.index.remove(&key);
                }
            }
        }
        Ok(gone.len())
    }

    /// The number of buffered rows.
    pub fn len(&self) -> usize {
        self.state.len()
    }

    /// Whether no row is buffered.
    pub fn is_empty(&self) -> bool {
        self.state.is_empty()
    }
}

/// What `stream!` generates for one join of two streams: the join key, each side's row
/// struct, and how to read a row's key and event time.
pub trait StreamJoin: Send + Sync + 'static {
    /// The join key, all of its fields `Option`s (a null part matches nothing).
    type Key: TypedRow + Hash + Eq + Send;
    /// A row of the left stream.
    type Left: TypedRow + StateBytes + HeapSize + Clone + Send;
    /// A row of the right stream.
    type Right: TypedRow + StateBytes + HeapSize + Clone + Send;

    /// Whether no part of a key read from a side's key columns is null.
    fn is_valid(key: &Self::Key) -> bool;
    /// A left row's key, `None` when a part of it is null.
    fn left_key(row: &Self::Left) -> Option<Self::Key>;
    /// A right row's key, `None` when a part of it is null.
    fn right_key(row: &Self::Right) -> Option<Self::Key>;
    /// A left row's event time in µs (`None` without one).
    fn left_time(_row: &Self::Left) -> Option<i64> {
        None
    }
    /// A right row's event time in µs (`None` without one).
    fn right_time(_row: &Self::Right) -> Option<i64> {
        None
    }
}

/// One side's columns that the join reads.
#[derive(Clone, Debug)]
pub struct JoinSideConf {
    /// The key columns' indices, in the key struct's field order.
    pub key: Vec<usize>,
    /// The watermarked event-time column: its index, name and ticks per ms.
    pub time: Option<(usize, &'static str, i64)>,
}

/// The settings of a stream–stream join, fixed by the compiled plan.
#[derive(Clone, Debug)]
pub struct StreamJoinConf {
    /// The stateful operator's id (its sides' folders are `<id>-left`, `<id>-right`).
    pub id: usize,
    /// The left stream's columns.
    pub left: JoinSideConf,
    /// The right stream's columns.
    pub right: JoinSideConf,
    /// The bound on the distance of a pair's event times, in ms.
    pub within_ms: Option<i64>,
    /// The right row's columns in the output (the key columns are the left's).
    pub right_out: Vec<usize>,
}

type Sides<J> = (
    JoinSide<<J as StreamJoin>::Key, <J as StreamJoin>::Left>,
    JoinSide<<J as StreamJoin>::Key, <J as StreamJoin>::Right>,
);

/// The executor of one join of two streams.
pub struct StreamJoinExec<J: StreamJoin> {
    conf: StreamJoinConf,
    left: Slots<JoinSide<J::Key, J::Left>>,
    right: Slots<JoinSide<J::Key, J::Right>>,
}

impl<J: StreamJoin> std::fmt::Debug for StreamJoinExec<J> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamJoinExec")
            .field("conf", &self.conf)
            .finish()
    }
}

fn take_side<K, V>(
    slots: &Slots<JoinSide<K, V>>,
    ctx: &TaskContext,
    operator: &str,
    key_of: fn(&V) -> Option<K>,
) -> Result<JoinSide<K, V>>
where
    K: Hash + Eq,
    V: TypedRow + StateBytes + HeapSize + Clone + Send,
{
    slots
        .take(
            ctx,
            |side| side.state.version(),
            |version, conf| {
                let location = StateLocation {
                    checkpoint: &ctx.state.dir,
                    operator,
                    partition: ctx.partition,
                };
                JoinSide::open(location, version, conf, key_of)
            },
        )
        .and_then(|mut side| {
            side.state.prepare()?;
            Ok(side)
        })
}

impl<J: StreamJoin> StreamJoinExec<J> {
    /// The executor of a join with settings `conf`.
    pub fn new(conf: StreamJoinConf) -> Self {
        StreamJoinExec {
            conf,
            left: Slots::default(),
            right: Slots::default(),
        }
    }

    /// The map side: each row (tagged with its side, 0 or 1) routed to its key's shuffle
    /// partition; late rows and rows with a null key dropped.
    pub fn map(&self, ctx: &TaskContext, chunks: Vec<InputChunk>) -> Result<TaskOutput> {
        let mut buckets = RowBuckets::new(ctx);
        let mut dropped = 0u64;
        for chunk in chunks {
            let side = chunk.input;
            let mut batch = chunk.batch;
            let conf = if side == 0 {
                &self.conf.left
            } else {
                &self.conf.right
            };
            if let Some((index, name, unit)) = conf.time {
                let late = from_ms(ctx.late_watermark_ms, unit);
                let times = kernels::event_times(&batch, index, name, unit)?;
                if let Some((keep, n)) = late_mask(&times, late) {
                    dropped += n;
                    batch = kernels::keep_rows(&batch, keep)?;
                }
            }
            let keys = J::Key::from_batch(&batch.project(&conf.key)?)?;
            // a null key matches nothing
            buckets.route(
                side,
                &batch,
                keys.iter().map(|k| J::is_valid(k).then_some(k)),
            )?;
        }
        report_dropped(ctx, self.conf.id, NAME, dropped);
        Ok(buckets.into_exchange())
    }

    /// Checks that the state this join keeps in `checkpoint` for each side, if any, was
    /// written with that side's columns (when the query starts).
    pub fn check_state(&self, checkpoint: &std::path::Path) -> Result<()> {
        let id = self.conf.id;
        crate::state::check_operator::<JoinRowId, J::Left>(checkpoint, &format!("{id}-left"))?;
        crate::state::check_operator::<JoinRowId, J::Right>(checkpoint, &format!("{id}-right"))
    }

    fn take(&self, ctx: &TaskContext) -> Result<Sides<J>> {
        let id = self.conf.id;
        Ok((
            take_side(&self.left, ctx, &format!("{id}-left"), J::left_key)?,
            take_side(&self.right, ctx, &format!("{id}-right"), J::right_key)?,
        ))
    }

    /// The reduce side: the partition's rows joined with both sides' state in Spark's
    /// order (left rows first, meeting the right state; then right rows, meeting the
    /// left state, which holds this batch's left rows by then), so each pair comes out
    /// once; then the rows no later row can meet evicted, and both sides committed.
    pub fn reduce(&self, ctx: &TaskContext, input: Vec<InputChunk>) -> Result<Vec<RecordBatch>> {
        let within_us = self.conf.within_ms.map(|ms| ms.saturating_mul(1_000));
        let meets = |a: Option<i64>, b: Option<i64>| match (within_us, a, b) {
            (None, _, _) => true,
            (Some(us), Some(a), Some(b)) => a.abs_diff(b) <= us as u64,
            _ => false,
        };
        let wm_us = from_ms(ctx.watermark_ms, 1_000);
        // whether a buffered row can no longer meet a row that is not late
        let expired = |t: Option<i64>| match within_us {
            Some(us) => t.is_none_or(|t| t.saturating_add(us) <= wm_us),
            None => false,
        };
        let (mut left, mut right) = self.take(ctx)?;
        let mut out_left: Vec<J::Left> = Vec::new();
        let mut out_right: Vec<J::Right> = Vec::new();
        for chunk in input.iter().filter(|c| c.input == 0) {
            for row in J::Left::from_batch(&chunk.batch)? {
                let Some(key) = J::left_key(&row) else {
                    continue;
                };
                let t = J::left_time(&row);
                right.for_each_match(&key, |m| {
                    if meets(t, J::right_time(m)) {
                        out_left.push(row.clone());
                        out_right.push(m.clone());
                    }
                })?;
                left.insert(row)?;
            }
        }
        for chunk in input.iter().filter(|c| c.input == 1) {
            for row in J::Right::from_batch(&chunk.batch)? {
                let Some(key) = J::right_key(&row) else {
                    continue;
                };
                let t = J::right_time(&row);
                left.for_each_match(&key, |m| {
                    if meets(J::left_time(m), t) {
                        out_left.push(m.clone());
                        out_right.push(row.clone());
                    }
                })?;
                right.insert(row)?;
            }
        }
        // evicted only now: a row of this batch meets every row of the batch
        left.evict(|r| expired(J::left_time(r)))?;
        right.evict(|r| expired(J::right_time(r)))?;
        for metrics in [
            left.state.commit(ctx.batch_id)?,
            right.state.commit(ctx.batch_id)?,
        ] {
            ctx.metrics
                .add_state(self.conf.id, NAME, &metrics.into_progress(NAME));
        }
        self.left.keep(ctx, left);
        self.right.keep(ctx, right);
        let l = J::Left::to_batch(&out_left)?;
        let r = J::Right::to_batch(&out_right)?.project(&self.conf.right_out)?;
        Ok(vec![zip_batches(&l, &r)?])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(crate::Schema, Clone, Debug, PartialEq)]
    struct Row {
        k: Option<i64>,
        v: String,
    }
    impl HeapSize for Row {}

    fn key_of(r: &Row) -> Option<i64> {
        r.k
    }

    fn row(k: Option<i64>, v: &str) -> Row {
        Row { k, v: v.into() }
    }

    fn at(dir: &std::path::Path) -> StateLocation<'_> {
        StateLocation {
            checkpoint: dir,
            operator: "0-left",
            partition: 0,
        }
    }

    fn matches(side: &JoinSide<i64, Row>, key: i64) -> Vec<String> {
        let mut found = Vec::new();
        side.for_each_match(&key, |r| found.push(r.v.clone()))
            .unwrap();
        found
    }

    #[test]
    fn rows_are_found_by_key_in_order_and_null_keys_are_not_kept() {
        let dir = tempfile::tempdir().unwrap();
        let mut side: JoinSide<i64, Row> =
            JoinSide::open(at(dir.path()), None, Default::default(), key_of).unwrap();
        side.insert(row(Some(1), "a")).unwrap();
        side.insert(row(Some(2), "b")).unwrap();
        side.insert(row(None, "n")).unwrap();
        side.insert(row(Some(1), "c")).unwrap();
        assert_eq!(matches(&side, 1), ["a", "c"]);
        assert_eq!(side.len(), 3);
        assert_eq!(side.evict(|r| r.v == "a").unwrap(), 1);
        assert_eq!(matches(&side, 1).len(), 1);
        assert_eq!(side.evict(|r| r.v == "b").unwrap(), 1);
        assert!(!side.index.contains_key(&2));
    }

    #[test]
    fn a_reloaded_side_has_its_rows_index_and_fresh_ids() {
        let dir = tempfile::tempdir().unwrap();
        let mut side: JoinSide<i64, Row> =
            JoinSide::open(at(dir.path()), None, Default::default(), key_of).unwrap();
        side.insert(row(Some(1), "a")).unwrap();
        side.insert(row(Some(1), "b")).unwrap();
        side.insert(row(Some(2), "c")).unwrap();
        side.evict(|r| r.v == "b").unwrap();
        side.state.commit(0).unwrap();
        let mut again: JoinSide<i64, Row> =
            JoinSide::open(at(dir.path()), Some(0), Default::default(), key_of).unwrap();
        assert_eq!(again.len(), 2);
        assert_eq!(matches(&again, 1), ["a"]);
        // a new row must not take the id of a kept one
        again.insert(row(Some(1), "d")).unwrap();
        assert_eq!(again.len(), 3);
        assert_eq!(matches(&again, 1), ["a", "d"]);
        assert_eq!(matches(&again, 2).len(), 1);
    }
}
