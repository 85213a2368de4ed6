//! The hand-written baselines: what a Rust programmer would write for each workload over
//! the decoded Arrow batches, with no engine: typed loops over the columns, arrow's filter
//! kernel, a `HashMap` of the groups keyed by borrowed `&str`s, with foldhash's fast
//! hasher (the hasher the engine's state uses). Each produces the rows the `stream!` workload emits when
//! it reads the same batches as one micro-batch (plus the trailing no-data batch that
//! `available_now` runs), and reports them as a digest: the number of rows and the sum
//! of the workload's digest column.

use std::sync::Arc;

use arrow_array::builder::{Float64Builder, Int64Builder, StringBuilder};
use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, TimestampMillisecondType};
use arrow_array::{ArrayRef, BooleanArray, Float64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};

use crate::BoxError;

type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
type HashSet<K> = std::collections::HashSet<K, foldhash::fast::RandomState>;
use crate::workloads::Workload;

const MINUTE: i64 = 60_000;

/// The rows a baseline produced and the sum of the digest column over them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct BaselineDigest {
    pub(crate) rows: u64,
    pub(crate) sum: f64,
}

/// Runs the baseline of `workload` over `batches`.
pub(crate) fn run(workload: Workload, batches: &[RecordBatch]) -> Result<BaselineDigest, BoxError> {
    match workload {
        Workload::FilterProject => filter_project(batches),
        Workload::TumblingCount => tumbling_count(batches),
        Workload::SlidingAvg => sliding_avg(batches),
        Workload::Dedup => dedup(batches),
        Workload::StreamStaticJoin => stream_static_join(batches),
    }
}

struct Columns<'a> {
    ts: &'a arrow_array::TimestampMillisecondArray,
    user: &'a StringArray,
    page: &'a StringArray,
    amount: &'a Float64Array,
    country: &'a StringArray,
}

fn columns(batch: &RecordBatch) -> Columns<'_> {
    Columns {
        ts: batch.column(0).as_primitive::<TimestampMillisecondType>(),
        user: batch.column(1).as_string::<i32>(),
        page: batch.column(2).as_string::<i32>(),
        amount: batch.column(3).as_primitive::<Float64Type>(),
        country: batch.column(4).as_string::<i32>(),
    }
}

/// `amount > 50`, then `user` and `amount * 2 as doubled`: arrow's filter kernel on the
/// two columns, a typed unary for the product.
fn filter_project(batches: &[RecordBatch]) -> Result<BaselineDigest, BoxError> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("user", DataType::Utf8, false),
        Field::new("doubled", DataType::Float64, false),
    ]));
    let mut digest = BaselineDigest { rows: 0, sum: 0.0 };
    for batch in batches {
        let c = columns(batch);
        let keep = BooleanArray::from_unary(c.amount, |a| a > 50.0);
        let user = arrow_select::filter::filter(c.user, &keep)?;
        let amount = arrow_select::filter::filter(c.amount, &keep)?;
        let doubled: Float64Array = amount.as_primitive::<Float64Type>().unary(|a| a * 2.0);
        digest.sum += doubled.values().iter().sum::<f64>();
        let out = RecordBatch::try_new(schema.clone(), vec![user, Arc::new(doubled) as ArrayRef])?;
        digest.rows += out.num_rows() as u64;
    }
    Ok(digest)
}

/// Count and sum of `amount` per 1-minute window and country; every group emitted once
/// (update mode, one batch, nothing late in the first batch).
fn tumbling_count(batches: &[RecordBatch]) -> Result<BaselineDigest, BoxError> {
    let mut groups: HashMap<(i64, &str), (i64, f64)> = HashMap::default();
    for batch in batches {
        let c = columns(batch);
        for i in 0..batch.num_rows() {
            let start = c.ts.value(i).div_euclid(MINUTE) * MINUTE;
            let group = groups
                .entry((start, c.country.value(i)))
                .or_insert((0, 0.0));
            group.0 += 1;
            group.1 += c.amount.value(i);
        }
    }
    let out = emit_windows(groups.into_iter(), MINUTE)?;
    digest_of(&out, 3)
}

/// Average and count of `amount` per 10-minute window sliding by 5 and page; a window
/// emitted when the final watermark (maximum event time minus 5 minutes) reaches its end.
fn sliding_avg(batches: &[RecordBatch]) -> Result<BaselineDigest, BoxError> {
    let (size, slide) = (10 * MINUTE, 5 * MINUTE);
    let mut groups: HashMap<(i64, &str), (i64, f64)> = HashMap::default();
    let mut max_ts = i64::MIN;
    for batch in batches {
        let c = columns(batch);
        for i in 0..batch.num_rows() {
            let ts = c.ts.value(i);
            max_ts = max_ts.max(ts);
            let last_start = ts.div_euclid(slide) * slide;
            let mut start = last_start;
            while start > ts - size {
                let group = groups.entry((start, c.page.value(i))).or_insert((0, 0.0));
                group.0 += 1;
                group.1 += c.amount.value(i);
                start -= slide;
            }
        }
    }
    let watermark = max_ts - 5 * MINUTE;
    let closed = groups
        .into_iter()
        .filter(|((start, _), _)| start + size <= watermark)
        .map(|(key, (n, sum))| (key, (n, sum / n as f64)));
    let out = emit_windows(closed, size)?;
    digest_of(&out, 3)
}

/// The first row of every distinct (`user`, `ts`).
fn dedup(batches: &[RecordBatch]) -> Result<BaselineDigest, BoxError> {
    let mut seen: HashSet<(&str, i64)> = HashSet::default();
    let mut digest = BaselineDigest { rows: 0, sum: 0.0 };
    for batch in batches {
        let c = columns(batch);
        let keep = BooleanArray::from(
            (0..batch.num_rows())
                .map(|i| seen.insert((c.user.value(i), c.ts.value(i))))
                .collect::<Vec<bool>>(),
        );
        let out = arrow_select::filter::filter_record_batch(batch, &keep)?;
        let _ = c.page;
        digest.rows += out.num_rows() as u64;
        digest.sum += out
            .column(3)
            .as_primitive::<Float64Type>()
            .values()
            .iter()
            .sum::<f64>();
    }
    Ok(digest)
}

/// Each event with its country's region (an inner join with the 20-row table of
/// `dataset::regions`), as `user`, `region`, `amount`: a `HashMap` from the code to the
/// table row, then arrow's take kernel for the three columns.
fn stream_static_join(batches: &[RecordBatch]) -> Result<BaselineDigest, BoxError> {
    let regions = crate::dataset::regions();
    let codes = regions.column(0).as_string::<i32>();
    let row_of: HashMap<&str, u32> = (0..regions.num_rows())
        .map(|r| (codes.value(r), r as u32))
        .collect();
    let schema = Arc::new(Schema::new(vec![
        Field::new("user", DataType::Utf8, false),
        Field::new("region", DataType::Utf8, false),
        Field::new("amount", DataType::Float64, false),
    ]));
    let mut digest = BaselineDigest { rows: 0, sum: 0.0 };
    for batch in batches {
        let c = columns(batch);
        let mut left = Vec::with_capacity(batch.num_rows());
        let mut right = Vec::with_capacity(batch.num_rows());
        for i in 0..batch.num_rows() {
            if let Some(&r) = row_of.get(c.country.value(i)) {
                left.push(i as u32);
                right.push(r);
            }
        }
        let (left, right) = (
            arrow_array::UInt32Array::from(left),
            arrow_array::UInt32Array::from(right),
        );
        let out = RecordBatch::try_new(
            schema.clone(),
            vec![
                arrow_select::take::take(c.user, &left, None)?,
                arrow_select::take::take(regions.column(1), &right, None)?,
                arrow_select::take::take(c.amount, &left, None)?,
            ],
        )?;
        digest.rows += out.num_rows() as u64;
        digest.sum += out
            .column(2)
            .as_primitive::<Float64Type>()
            .values()
            .iter()
            .sum::<f64>();
    }
    Ok(digest)
}

/// The groups as one batch: window start and end, key, count, and the second figure.
fn emit_windows<'a>(
    groups: impl Iterator<Item = ((i64, &'a str), (i64, f64))>,
    size: i64,
) -> Result<RecordBatch, BoxError> {
    let mut start = Int64Builder::new();
    let mut end = Int64Builder::new();
    let mut key = StringBuilder::new();
    let mut n = Int64Builder::new();
    let mut figure = Float64Builder::new();
    for ((s, k), (count, value)) in groups {
        start.append_value(s);
        end.append_value(s + size);
        key.append_value(k);
        n.append_value(count);
        figure.append_value(value);
    }
    let schema = Arc::new(Schema::new(vec![
        Field::new("window_start", DataType::Int64, false),
        Field::new("window_end", DataType::Int64, false),
        Field::new("key", DataType::Utf8, false),
        Field::new("n", DataType::Int64, false),
        Field::new("figure", DataType::Float64, false),
    ]));
    Ok(RecordBatch::try_new(
        schema,
        vec![
            Arc::new(start.finish()),
            Arc::new(end.finish()),
            Arc::new(key.finish()),
            Arc::new(n.finish()),
            Arc::new(figure.finish()),
        ],
    )?)
}

fn digest_of(batch: &RecordBatch, count_column: usize) -> Result<BaselineDigest, BoxError> {
    let counts = batch
        .column(count_column)
        .as_primitive::<arrow_array::types::Int64Type>();
    Ok(BaselineDigest {
        rows: batch.num_rows() as u64,
        sum: counts.values().iter().map(|&v| v as f64).sum(),
    })
}
