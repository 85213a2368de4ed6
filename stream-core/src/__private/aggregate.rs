//! [`AggregateExec`]: the executor of `group_by(..).agg(..)` — plain groups, tumbling
//! and sliding windows, session windows, and an aggregation of a windowed one — with
//! Spark's semantics: late rows dropped against the previous batch's watermark, partial
//! aggregates per task, the exchange by key, the merge into the partition's state,
//! emission per output mode, eviction by the watermark, the commit and the metrics.
//!
//! What depends on the user's types comes from an [`Aggregation`], which `stream!`
//! generates: the row, key and accumulator structs and the small functions that read a
//! key, fold a row into an accumulator, merge two accumulators and build an output row.

use std::hash::Hash;

use arrow_array::RecordBatch;

use super::exchange::{LateRows, PairBuckets, partition_of_key, report_dropped};
use super::session::{SessionPart, merge_sessions, session_of};
use super::slots::Slots;
use super::stateful::{from_ms, windows};
use crate::Result;
use crate::hash::{FastHashMap, FastHashSet};
use crate::output_mode::OutputMode;
use crate::pipeline::{InputChunk, TaskContext, TaskOutput};
use crate::state::{AnyStore, EntryTime, HeapSize, KeyedState, StateBytes};
use crate::types::TypedRow;

/// The sessions of each group (a key with its window cleared), each stored under a key
/// `K` (`()` for the sessions of a batch).
type SessionGroups<A, K> =
    FastHashMap<<A as Aggregation>::Key, Vec<SessionPart<K, <A as Aggregation>::Acc>>>;

/// The name of an aggregation in the progress record, as Spark's.
const NAME: &str = "stateStoreSave";

/// What `stream!` generates for one aggregation: its types and per-row functions.
///
/// ```
/// use arrow_array::RecordBatch;
/// use stream_core::Schema;
/// use stream_core::__private::{Aggregation, KeyColumn};
/// use stream_core::state::HeapSize;
///
/// /// `group_by(country).agg(sum(amount) as total)`
/// struct Total;
/// #[derive(Schema, Clone, Debug, PartialEq)] struct In { amount: f64 }
/// #[derive(Schema, Clone, Debug, Default, PartialEq, Eq, Hash)] struct Key { country: String }
/// impl HeapSize for Key { fn heap_size(&self) -> usize { self.country.heap_size() } }
/// #[derive(Schema, Clone, Debug, Default, PartialEq)] struct Acc { total: f64 }
/// impl HeapSize for Acc {}
/// #[derive(Schema, Clone, Debug, PartialEq)] struct Out { country: String, total: f64 }
///
/// impl Aggregation for Total {
///     type Input = In;
///     type Keys<'a> = <String as KeyColumn>::Reader<'a>;
///     type Key = Key;
///     type Acc = Acc;
///     type Out = Out;
///     fn keys(batch: &RecordBatch) -> stream_core::Result<Self::Keys<'_>> {
///         <String as KeyColumn>::reader(batch, "country", "In")
///     }
///     fn read_key(keys: &Self::Keys<'_>, row: usize, key: &mut Key) -> stream_core::Result<()> {
///         <String as KeyColumn>::read_into(keys, row, &mut key.country)
///     }
///     fn update(acc: &mut Acc, row: &In) { acc.total += row.amount }
///     fn merge(into: &mut Acc, from: Acc) { into.total += from.total }
///     fn finish(key: Key, acc: Acc) -> Out { Out { country: key.country, total: acc.total } }
/// }
/// ```
pub trait Aggregation: Send + Sync + 'static {
    /// The aggregation's input row: the values its aggregates read and its event time
    /// (the key columns are read in place, through [`Aggregation::Keys`]).
    type Input: TypedRow;
    /// A batch's key columns, typed.
    type Keys<'a>;
    /// The group key; with a window, its bounds are fields of it.
    type Key: TypedRow + StateBytes + HeapSize + Hash + Eq + Clone + Default + Send;
    /// The accumulator the state keeps per group.
    type Acc: TypedRow + StateBytes + HeapSize + Clone + Default + Send;
    /// The output row.
    type Out: TypedRow;

    /// How rows are grouped besides their key columns. A constant of the aggregation's
    /// type, not a setting of its executor: the map side's loop is compiled for it, so a
    /// window's size and slide divide as constants.
    const GROUPING: Grouping = Grouping::Keys;

    /// An aggregation without keys (Spark's `agg` without `groupBy`): its one group, of
    /// the empty key, has a row in every batch that runs, with the aggregates of no rows
    /// (a count of 0, a null sum) until rows come, as Spark's aggregate of no keys gives
    /// one row whatever its input holds.
    const GLOBAL: bool = false;

    /// The key columns of `batch`.
    fn keys(batch: &RecordBatch) -> Result<Self::Keys<'_>>;

    /// Sets `key`'s column fields (not its window) from row `row`, reusing its buffers.
    fn read_key(keys: &Self::Keys<'_>, row: usize, key: &mut Self::Key) -> Result<()>;

    /// A windowed row's event time in the time column's unit (`None` when null: the row
    /// has no window and is left out, as in Spark).
    fn time(_row: &Self::Input) -> Option<i64> {
        None
    }

    /// The key's window, `(start, end)`, in the time column's unit; for an aggregation
    /// of a windowed one, the end is the event time it closes by.
    fn window(_key: &Self::Key) -> (i64, i64) {
        (i64::MIN, i64::MAX)
    }

    /// Sets the key's window bounds.
    fn set_window(_key: &mut Self::Key, _start: i64, _end: i64) {}

    /// Folds one input row into the group's accumulator.
    fn update(acc: &mut Self::Acc, row: &Self::Input);

    /// Merges a partial accumulator into the stored one (`into` holds the older rows).
    fn merge(into: &mut Self::Acc, from: Self::Acc);

    /// The output row of a group.
    fn finish(key: Self::Key, acc: Self::Acc) -> Self::Out;
}

/// How rows are grouped besides their key columns: an aggregation's
/// [`Aggregation::GROUPING`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Grouping {
    /// By the key columns alone.
    Keys,
    /// By the key columns, one of which is the watermarked event-time column itself (the
    /// end of [`Aggregation::window`]): a row is late when the previous batch's watermark
    /// had reached its time, and a group closes when the watermark reaches its time, as
    /// a window does at its end (Spark's rule for a timestamp key with a watermark).
    EventTime,
    /// `window(time, size, slide, start)`: each row in every window that holds its time.
    Window {
        /// The window's length, in the time column's unit.
        size: i64,
        /// The distance between window starts.
        slide: i64,
        /// The offset of window starts from the epoch.
        start: i64,
    },
    /// `session_window(time, gap)`: sessions of a group that overlap or touch merge.
    Session {
        /// The gap, in the time column's unit.
        gap: i64,
    },
}

/// The settings of an aggregation, fixed by the compiled plan.
#[derive(Clone, Copy, Debug)]
pub struct AggregateConf {
    /// The stateful operator's id: its folder under `state/` and its place in the
    /// progress record.
    pub id: usize,
    /// The query's output mode.
    pub mode: OutputMode,
    /// Whether groups close (are emitted in append mode and evicted) once the
    /// watermark reaches their window's end.
    pub evict: bool,
    /// The time column's ticks per millisecond (1 for `timestamp_ms`, 1000 for µs).
    pub unit_per_ms: i64,
    /// Whether the rows dropped as late go to the query's late-rows sink.
    pub late_rows: bool,
}

/// The executor of one aggregation: its map side (late rows, partial aggregates, the
/// exchange) and its reduce side (merge, emit, evict, commit), over the state `S` of each
/// shuffle partition.
pub struct AggregateExec<
    A: Aggregation,
    S = AnyStore<<A as Aggregation>::Key, <A as Aggregation>::Acc>,
> {
    conf: AggregateConf,
    slots: Slots<S>,
    aggregation: std::marker::PhantomData<fn() -> A>,
}

impl<A: Aggregation, S> std::fmt::Debug for AggregateExec<A, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AggregateExec")
            .field("conf", &self.conf)
            .finish()
    }
}

impl<A, S> AggregateExec<A, S>
where
    A: Aggregation,
    S: KeyedState<A::Key, A::Acc>,
{
    /// The executor of an aggregation with settings `conf`.
    pub fn new(conf: AggregateConf) -> Self {
        AggregateExec {
            conf,
            slots: Slots::default(),
            aggregation: std::marker::PhantomData,
        }
    }

    /// Whether input rows whose window the previous batch's watermark closed are
    /// dropped: in append and update mode (complete mode keeps every row, as Spark's
    /// result is the whole table); for session windows in every mode (Spark drops them
    /// before the state is read).
    fn drops_late(&self) -> bool {
        self.conf.evict
            && match A::GROUPING {
                Grouping::Keys => false,
                Grouping::Window { .. } | Grouping::EventTime => {
                    self.conf.mode != OutputMode::Complete
                }
                Grouping::Session { .. } => true,
            }
    }

    /// The map side: `batches` (the branches' rows, as the aggregation's input; with a
    /// late-rows sink, as the stream's rows, which `project` turns into that input)
    /// aggregated per group, routed to the groups' shuffle partitions.
    pub fn map(
        &self,
        ctx: &TaskContext,
        batches: Vec<RecordBatch>,
        project: Option<&dyn Fn(RecordBatch) -> Result<RecordBatch>>,
    ) -> Result<TaskOutput> {
        let (stream_batches, batches) = match project {
            Some(project) => {
                let input = batches
                    .iter()
                    .map(|b| project(b.clone()))
                    .collect::<Result<Vec<_>>>()?;
                (batches, input)
            }
            None => (Vec::new(), batches),
        };
        let mut fold = Fold::<A> {
            late: from_ms(ctx.late_watermark_ms, self.conf.unit_per_ms),
            drops_late: self.drops_late(),
            late_rows: self.conf.late_rows.then(LateRows::default),
            late_groups: FastHashSet::default(),
            partial: FastHashMap::default(),
            key: A::Key::default(),
        };
        for (b, batch) in batches.iter().enumerate() {
            // a slice at a time: the rows of one are decoded into structs while the
            // slice is in cache, and a large batch is never held as structs whole
            let mut offset = 0;
            while offset < batch.num_rows() {
                let len = ROWS_PER_SLICE.min(batch.num_rows() - offset);
                fold.rows(&batch.slice(offset, len), offset)?;
                offset += len;
            }
            if let Some(l) = &mut fold.late_rows {
                l.end_batch(stream_batches.get(b))?;
            }
        }
        let Fold {
            late_groups,
            late_rows,
            partial,
            ..
        } = fold;
        report_dropped(ctx, self.conf.id, NAME, late_groups.len() as u64);
        if let Some(l) = late_rows {
            l.report(ctx, self.conf.id);
        }
        let mut buckets = PairBuckets::new(ctx);
        match A::GROUPING {
            Grouping::Session { .. } => {
                // this task's sessions of each group, merged, and routed by the group
                let mut groups: SessionGroups<A, ()> = FastHashMap::default();
                for (k, value) in partial {
                    add_session::<A, ()>(&mut groups, k, value);
                }
                for (group, sessions) in groups {
                    for m in merge_sessions(sessions, A::merge) {
                        let mut k = group.clone();
                        A::set_window(&mut k, m.start, m.end);
                        buckets.push_routed(&group, k, m.value);
                    }
                }
            }
            _ => {
                for (k, a) in partial {
                    buckets.push(k, a);
                }
            }
        }
        buckets.into_exchange()
    }

    /// Checks that the state this aggregation keeps in `checkpoint`, if any, was
    /// written with its key and accumulator columns (when the query starts).
    pub fn check_state(&self, checkpoint: &std::path::Path) -> Result<()> {
        crate::state::check_operator::<A::Key, A::Acc>(checkpoint, &self.conf.id.to_string())
    }

    /// The reduce side: this partition's exchanged partial aggregates (`input`) merged
    /// into its state, and the rows the output mode emits.
    pub fn reduce(&self, ctx: &TaskContext, input: Vec<InputChunk>) -> Result<Vec<RecordBatch>> {
        let operator = self.conf.id.to_string();
        let time = self
            .conf
            .evict
            .then_some(window_end::<A> as EntryTime<_, _>);
        let mut state: S = self.slots.take_state(ctx, &operator, time)?;
        let wm = from_ms(ctx.watermark_ms, self.conf.unit_per_ms);
        let out = if let Grouping::Session { .. } = A::GROUPING {
            self.merge_sessions(&mut state, input, wm)?
        } else {
            self.merge_groups(ctx, &mut state, input, wm)?
        };
        self.slots.commit_state(ctx, self.conf.id, NAME, state)?;
        Ok(vec![A::Out::to_batch(&out)?])
    }

    fn merge_groups(
        &self,
        ctx: &TaskContext,
        state: &mut S,
        input: Vec<InputChunk>,
        wm: i64,
    ) -> Result<Vec<A::Out>> {
        let update = self.conf.mode == OutputMode::Update;
        let mut touched: FastHashSet<A::Key> = FastHashSet::default();
        // the one group of an aggregation without keys, in the partition its key routes
        // to: updated in every batch, with no rows if none came (Spark's partial
        // aggregate of no keys sends its row of initial values from an empty input too)
        if A::GLOBAL
            && partition_of_key(&A::Key::default(), ctx.num_partitions.max(1)) == ctx.partition
        {
            let key = A::Key::default();
            if update {
                touched.insert(key.clone());
            }
            state.update(key, A::Acc::default, |_| {})?;
        }
        for chunk in input {
            let keys = A::Key::from_batch(&chunk.batch)?;
            let accs = A::Acc::from_batch(&chunk.batch)?;
            for (k, from) in keys.into_iter().zip(accs) {
                if update {
                    touched.insert(k.clone());
                }
                state.update(k, A::Acc::default, |into| A::merge(into, from))?;
            }
        }
        let out = match self.conf.mode {
            OutputMode::Update => {
                let mut out = Vec::with_capacity(touched.len());
                for k in touched {
                    if let Some(a) = state.get(&k)? {
                        out.push(A::finish(k, a));
                    }
                }
                self.evict(state, wm)?;
                out
            }
            OutputMode::Complete => all_rows::<A, S>(state)?,
            OutputMode::Append => self
                .evict(state, wm)?
                .into_iter()
                .map(|(k, a)| A::finish(k, a))
                .collect(),
        };
        Ok(out)
    }

    /// The exchanged sessions merged with the stored sessions of their groups; then
    /// append mode emits (and evicts) the sessions the watermark closed, complete mode
    /// every session.
    fn merge_sessions(
        &self,
        state: &mut S,
        input: Vec<InputChunk>,
        wm: i64,
    ) -> Result<Vec<A::Out>> {
        let mut groups: SessionGroups<A, A::Key> = FastHashMap::default();
        for chunk in input {
            let keys = A::Key::from_batch(&chunk.batch)?;
            let accs = A::Acc::from_batch(&chunk.batch)?;
            for (k, value) in keys.into_iter().zip(accs) {
                add_session::<A, A::Key>(&mut groups, k, value);
            }
        }
        // the stored sessions of the groups this batch has sessions for
        if !groups.is_empty() {
            let mut stored: Vec<(A::Key, A::Acc)> = Vec::new();
            state.scan(|k, a| {
                if groups.contains_key(&group_of::<A>(k.clone())) {
                    stored.push((k.clone(), a.clone()));
                }
            })?;
            for (k, value) in stored {
                let (start, end) = A::window(&k);
                if let Some(sessions) = groups.get_mut(&group_of::<A>(k.clone())) {
                    sessions.push(SessionPart {
                        start,
                        end,
                        value,
                        stored: Some(k),
                    });
                }
            }
        }
        for (group, sessions) in groups {
            for m in merge_sessions(sessions, A::merge) {
                if !m.changed {
                    continue;
                }
                for old in &m.replaces {
                    state.remove(old)?;
                }
                let mut k = group.clone();
                A::set_window(&mut k, m.start, m.end);
                state.put(k, m.value)?;
            }
        }
        match self.conf.mode {
            OutputMode::Complete => all_rows::<A, S>(state),
            _ if self.conf.evict => Ok(self
                .evict(state, wm)?
                .into_iter()
                .map(|(k, a)| A::finish(k, a))
                .collect()),
            // refused by the checker (append needs the watermark on the session's time)
            _ => Ok(Vec::new()),
        }
    }

    /// Removes the groups whose window the watermark `wm` closed, if groups close.
    fn evict(&self, state: &mut S, wm: i64) -> Result<Vec<(A::Key, A::Acc)>> {
        if !self.conf.evict {
            return Ok(Vec::new());
        }
        state.remove_expired(window_end::<A>, wm)
    }
}

/// The time a group's state expires at: its window's end.
fn window_end<A: Aggregation>(key: &A::Key, _: &A::Acc) -> Option<i64> {
    Some(A::window(key).1)
}

/// The rows a map side decodes into structs at a time.
const ROWS_PER_SLICE: usize = 8192;

/// A map side's partial aggregates while it folds its rows in.
struct Fold<A: Aggregation> {
    /// The watermark input is late against, in the time column's unit.
    late: i64,
    drops_late: bool,
    late_rows: Option<LateRows>,
    /// The groups (key and window) of this task's late rows. Spark aggregates each
    /// task's rows per group before its stateful operator drops the late ones, so it
    /// counts late groups, not rows: two late events of one group count once.
    late_groups: FastHashSet<A::Key>,
    partial: FastHashMap<A::Key, A::Acc>,
    /// One key whose strings keep their buffers, cloned only for a group the map does
    /// not hold yet: no allocation per row.
    key: A::Key,
}

impl<A: Aggregation> Fold<A> {
    /// Folds the rows of `slice`, which starts at row `offset` of its batch.
    fn rows(&mut self, slice: &RecordBatch, offset: usize) -> Result<()> {
        let keys = A::keys(slice)?;
        for (i, row) in A::Input::from_batch(slice)?.iter().enumerate() {
            match A::GROUPING {
                Grouping::Keys => {
                    A::read_key(&keys, i, &mut self.key)?;
                    fold::<A>(&mut self.partial, &self.key, row);
                }
                Grouping::EventTime => {
                    A::read_key(&keys, i, &mut self.key)?;
                    if self.is_late(A::window(&self.key).1, offset + i) {
                        continue;
                    }
                    fold::<A>(&mut self.partial, &self.key, row);
                }
                Grouping::Window { size, slide, start } => {
                    let Some(t) = A::time(row) else { continue };
                    A::read_key(&keys, i, &mut self.key)?;
                    for (ws, we) in windows(t, size, slide, start) {
                        A::set_window(&mut self.key, ws, we);
                        if self.is_late(we, offset + i) {
                            continue;
                        }
                        fold::<A>(&mut self.partial, &self.key, row);
                    }
                }
                Grouping::Session { gap } => {
                    let Some(t) = A::time(row) else { continue };
                    let (start, end) = session_of(t, gap);
                    A::read_key(&keys, i, &mut self.key)?;
                    A::set_window(&mut self.key, start, end);
                    if self.is_late(end, offset + i) {
                        continue;
                    }
                    fold::<A>(&mut self.partial, &self.key, row);
                }
            }
        }
        Ok(())
    }

    /// Whether the window ending at `end` of row `row` (whose group is `self.key`) was
    /// closed by the previous batch's watermark; a late one's group is counted and,
    /// with a late-rows sink, the row kept.
    #[inline]
    fn is_late(&mut self, end: i64, row: usize) -> bool {
        if !(self.drops_late && end <= self.late) {
            return false;
        }
        if !self.late_groups.contains(&self.key) {
            self.late_groups.insert(self.key.clone());
        }
        if let Some(l) = &mut self.late_rows {
            l.push(row);
        }
        true
    }
}

/// Folds `row` into `key`'s partial aggregate, cloning the key only for a new group.
#[inline]
fn fold<A: Aggregation>(partial: &mut FastHashMap<A::Key, A::Acc>, key: &A::Key, row: &A::Input) {
    match partial.get_mut(key) {
        Some(acc) => A::update(acc, row),
        None => A::update(partial.entry(key.clone()).or_default(), row),
    }
}

/// Adds the new session of key `key` (its window) with `value` to its group's.
fn add_session<A: Aggregation, K>(groups: &mut SessionGroups<A, K>, key: A::Key, value: A::Acc) {
    let (start, end) = A::window(&key);
    groups
        .entry(group_of::<A>(key))
        .or_default()
        .push(SessionPart {
            start,
            end,
            value,
            stored: None,
        });
}

/// The key with its window cleared: it stands for the group of its sessions.
fn group_of<A: Aggregation>(mut key: A::Key) -> A::Key {
    A::set_window(&mut key, 0, 0);
    key
}

/// Every group of the state: the whole result table of complete mode.
fn all_rows<A: Aggregation, S: KeyedState<A::Key, A::Acc>>(state: &S) -> Result<Vec<A::Out>> {
    let mut out = Vec::with_capacity(state.len());
    state.scan(|k, a| out.push(A::finish(k.clone(), a.clone())))?;
    Ok(out)
}
