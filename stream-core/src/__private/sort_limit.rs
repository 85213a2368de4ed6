//! Sorting and limits on a stream, where Spark allows them: `order_by` of an
//! aggregation's whole result in complete mode ([`sort_batch`]), `limit(n)` of the
//! result each batch in complete mode ([`limit_batch`]) and of the stream in append
//! mode ([`LimitExec`]: the first `n` rows ever, a count kept in the state store, as
//! Spark's `StreamingGlobalLimitExec`).
//!
//! Both run in the pipeline's last stage, on one task: the stage before routes every
//! row to shuffle partition 0 ([`gather_exchange`]), in task order, and that task gets
//! them as one batch ([`gather_input`]). The other tasks of the stage have no rows.

use std::cmp::Ordering;

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;

use super::slots::Slots;
use super::stateful::SparkOrd;
use crate::Result;
use crate::pipeline::{InputChunk, TaskContext, TaskOutput};
use crate::state::{AnyStore, HeapSize, KeyedState};
use crate::types::TypedRow;

/// The name of a streaming limit in the progress record, as Spark's.
const NAME: &str = "globalLimit";

/// `a` against `b` in the order of a sort key over a column that holds no null: Spark's
/// order of values ([`SparkOrd`]: NaN above every number, `-0.0` equal to `0.0`),
/// reversed when `descending`.
///
/// ```
/// use std::cmp::Ordering;
/// use stream_core::__private::sort_cmp;
/// assert_eq!(sort_cmp(&1i64, &2, false), Ordering::Less);
/// assert_eq!(sort_cmp(&1i64, &2, true), Ordering::Greater);
/// assert_eq!(sort_cmp(&f64::NAN, &f64::INFINITY, false), Ordering::Greater);
/// ```
#[inline]
pub fn sort_cmp<T: SparkOrd>(a: &T, b: &T, descending: bool) -> Ordering {
    let o = a.spark_cmp(b);
    if descending { o.reverse() } else { o }
}

/// [`sort_cmp`] over a nullable column: nulls first or last as `nulls_first` says,
/// whatever the direction (Spark's `asc` puts them first and `desc` last; the
/// `_nulls_first` and `_nulls_last` forms choose).
///
/// ```
/// use std::cmp::Ordering;
/// use stream_core::__private::sort_cmp_nullable;
/// assert_eq!(sort_cmp_nullable(&None, &Some(1i64), false, true), Ordering::Less);
/// assert_eq!(sort_cmp_nullable(&None, &Some(1i64), true, false), Ordering::Greater);
/// assert_eq!(sort_cmp_nullable(&Some(2i64), &Some(1), true, false), Ordering::Less);
/// ```
#[inline]
pub fn sort_cmp_nullable<T: SparkOrd>(
    a: &Option<T>,
    b: &Option<T>,
    descending: bool,
    nulls_first: bool,
) -> Ordering {
    match (a, b) {
        (Some(a), Some(b)) => sort_cmp(a, b, descending),
        (None, None) => Ordering::Equal,
        (None, Some(_)) if nulls_first => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) if nulls_first => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
    }
}

/// The rows of `batch` in the order `cmp` gives their sort keys: `K` is the row struct
/// of the key columns (`keys`, their indices in `batch`, in the key's field order).
/// Rows with equal keys keep their order.
///
/// ```
/// use std::sync::Arc;
/// use arrow_array::{Int64Array, RecordBatch, StringArray};
/// use arrow_schema::{DataType, Field, Schema};
/// use stream_core::__private::{sort_batch, sort_cmp};
///
/// #[derive(Clone, Debug, PartialEq)]
/// struct Key { n: i64 }
/// stream_core::__row!(typed Key { n: i64 = "n" [] });
///
/// let schema = Arc::new(Schema::new(vec![
///     Field::new("word", DataType::Utf8, false),
///     Field::new("n", DataType::Int64, false),
/// ]));
/// let batch = RecordBatch::try_new(schema, vec![
///     Arc::new(StringArray::from(vec!["a", "b", "c"])),
///     Arc::new(Int64Array::from(vec![2, 3, 1])),
/// ])?;
/// let sorted = sort_batch::<Key>(&batch, &[1], |a, b| sort_cmp(&a.n, &b.n, true))?;
/// let words = sorted.column(0).as_any().downcast_ref::<StringArray>().unwrap();
/// assert_eq!(words.iter().flatten().collect::<Vec<_>>(), ["b", "a", "c"]);
/// # Ok::<(), stream_core::StreamError>(())
/// ```
pub fn sort_batch<K: TypedRow>(
    batch: &RecordBatch,
    keys: &[usize],
    cmp: fn(&K, &K) -> Ordering,
) -> Result<RecordBatch> {
    if batch.num_rows() < 2 {
        return Ok(batch.clone());
    }
    let values = K::from_batch(&batch.project(keys)?)?;
    let mut order: Vec<u32> = (0..values.len() as u32).collect();
    // stable: equal keys keep the order the rows came in
    order.sort_by(|&a, &b| cmp(&values[a as usize], &values[b as usize]));
    super::kernels::take_rows(batch, order)
}

/// The first `n` rows of `batch`: a limit of complete mode, on the whole result table of
/// each batch.
///
/// ```
/// use std::sync::Arc;
/// use arrow_array::{Int64Array, RecordBatch};
/// use arrow_schema::{DataType, Field, Schema};
/// let schema = Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, false)]));
/// let batch = RecordBatch::try_new(schema, vec![Arc::new(Int64Array::from(vec![1, 2, 3]))])?;
/// assert_eq!(stream_core::__private::limit_batch(&batch, 2).num_rows(), 2);
/// assert_eq!(stream_core::__private::limit_batch(&batch, 5).num_rows(), 3);
/// # Ok::<(), arrow_schema::ArrowError>(())
/// ```
pub fn limit_batch(batch: &RecordBatch, n: u64) -> RecordBatch {
    let keep = usize::try_from(n)
        .unwrap_or(usize::MAX)
        .min(batch.num_rows());
    batch.slice(0, keep)
}

/// The end of the stage before a sort or limit: every row of `batches` (at most `local`
/// of them, when the stage's output is limited to that many right after it, Spark's
/// local limit) routed to shuffle partition 0, in order.
///
/// ```
/// use std::sync::Arc;
/// use arrow_array::{Int64Array, RecordBatch};
/// use arrow_schema::{DataType, Field, Schema};
/// use stream_core::{TaskContext, TaskOutput};
/// use stream_core::__private::{gather_exchange, gather_input};
///
/// # fn run(ctx: &TaskContext) -> stream_core::Result<()> {
/// let schema = Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, false)]));
/// let batch = RecordBatch::try_new(schema.clone(), vec![Arc::new(Int64Array::from(vec![1, 2, 3]))])?;
/// // at most two rows leave this task, all for partition 0
/// let TaskOutput::Exchange(buckets) = gather_exchange(ctx, vec![batch], Some(2))? else { unreachable!() };
/// let first = buckets.into_iter().next().unwrap_or_default();
/// assert_eq!(gather_input(&schema, first)?.num_rows(), 2);
/// # Ok(()) }
/// ```
pub fn gather_exchange(
    ctx: &TaskContext,
    batches: Vec<RecordBatch>,
    local: Option<u64>,
) -> Result<TaskOutput> {
    let mut buckets: Vec<Vec<InputChunk>> = (0..ctx.shuffle_partitions.max(1))
        .map(|_| Vec::new())
        .collect();
    let mut left = local.unwrap_or(u64::MAX);
    for batch in batches {
        if left == 0 {
            break;
        }
        let batch = limit_batch(&batch, left);
        left -= batch.num_rows() as u64;
        buckets[0].push(InputChunk { input: 0, batch });
    }
    Ok(TaskOutput::Exchange(buckets))
}

/// The rows a task of the stage after [`gather_exchange`] sorts or limits: all of them
/// as one batch of `schema` (on partition 0; none on the others); see
/// [`gather_exchange`].
pub fn gather_input(schema: &SchemaRef, input: Vec<InputChunk>) -> Result<RecordBatch> {
    let batches: Vec<RecordBatch> = input.into_iter().map(|c| c.batch).collect();
    Ok(arrow_select::concat::concat_batches(schema, &batches)?)
}

/// The key of a streaming limit's one state entry: one `key` column (0), as the
/// state files and the state reader show it.
///
/// ```
/// use stream_core::types::TypedRow;
/// let schema = stream_core::__private::LimitKey::arrow_schema();
/// assert_eq!(schema.field(0).name(), "key");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct LimitKey {
    key: i32,
}
crate::__row!(typed LimitKey { key: i32 = "key" [] });
impl HeapSize for LimitKey {}

/// What a streaming limit keeps: how many rows it has let through (`value`, as Spark's
/// state of its `StreamingGlobalLimitExec`).
///
/// ```
/// use stream_core::types::TypedRow;
/// let schema = stream_core::__private::LimitCount::arrow_schema();
/// assert_eq!(schema.field(0).name(), "value");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LimitCount {
    value: i64,
}
crate::__row!(typed LimitCount { value: i64 = "value" [] });
impl HeapSize for LimitCount {}

/// The settings of a streaming limit, fixed by the compiled plan.
///
/// ```
/// let conf = stream_core::__private::LimitConf { id: 1, limit: 10 };
/// assert_eq!(conf.limit, 10);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct LimitConf {
    /// The stateful operator's id (its state folder).
    pub id: usize,
    /// How many rows the query writes in all.
    pub limit: u64,
}

/// The executor of `limit(n)` in append mode: the first `n` rows of the stream in all,
/// across batches and restarts; the count of rows let through so far is its state (one
/// entry, in shuffle partition 0), committed with each batch.
///
/// ```
/// use stream_core::__private::{LimitConf, LimitExec};
/// let exec: LimitExec = LimitExec::new(LimitConf { id: 0, limit: 10 });
/// # let _ = exec;
/// ```
pub struct LimitExec<S = AnyStore<LimitKey, LimitCount>> {
    conf: LimitConf,
    slots: Slots<S>,
}

impl<S> std::fmt::Debug for LimitExec<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LimitExec")
            .field("conf", &self.conf)
            .finish()
    }
}

const KEY: LimitKey = LimitKey { key: 0 };

impl<S: KeyedState<LimitKey, LimitCount>> LimitExec<S> {
    /// The executor of a streaming limit with settings `conf`.
    pub fn new(conf: LimitConf) -> Self {
        LimitExec {
            conf,
            slots: Slots::default(),
        }
    }

    /// Checks that the state this limit keeps in `checkpoint`, if any, is a limit's
    /// (when the query starts).
    pub fn check_state(&self, checkpoint: &std::path::Path) -> Result<()> {
        crate::state::check_operator::<LimitKey, LimitCount>(checkpoint, &self.conf.id.to_string())
    }

    /// The rows of `batch` that still fit under the limit, given the rows let through
    /// in the batches before; commits the new count as this batch's version of the
    /// state. Runs on the one task that gets the stream's rows.
    pub fn apply(&self, ctx: &TaskContext, batch: RecordBatch) -> Result<RecordBatch> {
        let operator = self.conf.id.to_string();
        let mut state: S = self.slots.take_state(ctx, &operator, None)?;
        let before = state.get(&KEY)?.map_or(0, |c| c.value);
        let before_rows = u64::try_from(before).unwrap_or(0);
        let left = self.conf.limit.saturating_sub(before_rows);
        let out = limit_batch(&batch, left);
        if out.num_rows() > 0 {
            let after = before.saturating_add(i64::try_from(out.num_rows()).unwrap_or(i64::MAX));
            state.put(KEY, LimitCount { value: after })?;
        }
        self.slots.commit_state(ctx, self.conf.id, NAME, state)?;
        Ok(out)
    }
}

/// A batch of one `i64` column `n`, for tests.
#[cfg(test)]
fn numbers(values: &[Option<i64>]) -> RecordBatch {
    let schema = std::sync::Arc::new(arrow_schema::Schema::new(vec![arrow_schema::Field::new(
        "n",
        arrow_schema::DataType::Int64,
        true,
    )]));
    RecordBatch::try_new(
        schema,
        vec![std::sync::Arc::new(arrow_array::Int64Array::from(
            values.to_vec(),
        ))],
    )
    .unwrap()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use arrow_array::Int64Array;

    #[derive(Clone, Debug, PartialEq)]
    struct Key {
        n: Option<i64>,
    }
    crate::__row!(typed Key { n: i64 = "n" [?] });

    fn values(batch: &RecordBatch) -> Vec<Option<i64>> {
        let column = batch.column(0).as_any().downcast_ref::<Int64Array>();
        column.unwrap().iter().collect()
    }

    #[test]
    fn nulls_go_first_ascending_and_last_descending_as_in_spark() {
        let batch = numbers(&[Some(2), None, Some(1), Some(3)]);
        let asc = sort_batch::<Key>(&batch, &[0], |a, b| {
            sort_cmp_nullable(&a.n, &b.n, false, true)
        })
        .unwrap();
        assert_eq!(values(&asc), [None, Some(1), Some(2), Some(3)]);
        let desc = sort_batch::<Key>(&batch, &[0], |a, b| {
            sort_cmp_nullable(&a.n, &b.n, true, false)
        })
        .unwrap();
        assert_eq!(values(&desc), [Some(3), Some(2), Some(1), None]);
        let desc_first = sort_batch::<Key>(&batch, &[0], |a, b| {
            sort_cmp_nullable(&a.n, &b.n, true, true)
        })
        .unwrap();
        assert_eq!(values(&desc_first), [None, Some(3), Some(2), Some(1)]);
    }

    fn ctx(dir: &std::path::Path, batch_id: u64, partitions: usize) -> TaskContext {
        TaskContext {
            batch_id,
            stage: 1,
            partition: 0,
            num_partitions: partitions,
            shuffle_partitions: partitions,
            watermark_ms: 0,
            late_watermark_ms: 0,
            metrics: Arc::new(crate::metrics::BatchMetrics::default()),
            state: Arc::new(crate::pipeline::StateContext {
                dir: dir.to_path_buf(),
                min_versions_to_retain: 10,
                store: crate::state::StateStoreKind::Memory,
                memory_bytes: crate::state::DEFAULT_STATE_MEMORY,
                partitions: partitions as u64,
            }),
            batch_timestamp_ms: 0,
        }
    }

    #[test]
    fn the_limit_counts_across_batches_and_a_new_executor_reads_the_count_back() {
        let dir = tempfile::tempdir().unwrap();
        let exec: LimitExec = LimitExec::new(LimitConf { id: 0, limit: 5 });
        let first = exec
            .apply(
                &ctx(dir.path(), 0, 2),
                numbers(&[Some(1), Some(2), Some(3)]),
            )
            .unwrap();
        assert_eq!(values(&first), [Some(1), Some(2), Some(3)]);
        // a restart: a new executor opens version 0 from the checkpoint
        let again: LimitExec = LimitExec::new(LimitConf { id: 0, limit: 5 });
        let second = again
            .apply(
                &ctx(dir.path(), 1, 2),
                numbers(&[Some(4), Some(5), Some(6)]),
            )
            .unwrap();
        assert_eq!(values(&second), [Some(4), Some(5)]);
        let third = again
            .apply(&ctx(dir.path(), 2, 2), numbers(&[Some(7)]))
            .unwrap();
        assert_eq!(third.num_rows(), 0);
        // batch 1 run again after a crash: from version 0, the same two rows
        let replay: LimitExec = LimitExec::new(LimitConf { id: 0, limit: 5 });
        let rerun = replay
            .apply(
                &ctx(dir.path(), 1, 2),
                numbers(&[Some(4), Some(5), Some(6)]),
            )
            .unwrap();
        assert_eq!(values(&rerun), [Some(4), Some(5)]);
    }

    #[test]
    fn the_gather_routes_everything_to_partition_zero_within_the_local_limit() {
        let dir = tempfile::tempdir().unwrap();
        let c = ctx(dir.path(), 0, 3);
        let out = gather_exchange(
            &c,
            vec![numbers(&[Some(1), Some(2)]), numbers(&[Some(3), Some(4)])],
            Some(3),
        )
        .unwrap();
        let TaskOutput::Exchange(buckets) = out else {
            panic!("an exchange")
        };
        assert_eq!(buckets.len(), 3);
        assert!(buckets[1].is_empty() && buckets[2].is_empty());
        let rows: usize = buckets[0].iter().map(|c| c.batch.num_rows()).sum();
        assert_eq!(rows, 3);
        let schema = numbers(&[]).schema();
        let all = gather_input(&schema, buckets.into_iter().next().unwrap()).unwrap();
        assert_eq!(values(&all), [Some(1), Some(2), Some(3)]);
    }
}
