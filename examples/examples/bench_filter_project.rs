//! Benchmark (figures only, nothing asserted about time): one filter + projection
//! pipeline written with `stream!` and run by the engine, against a hand-written typed
//! loop over the same Arrow batches.
//!
//! ```text
//! cargo run --release --example bench_filter_project -- --rows 5000000 --runs 5
//! ```
//!
//! The input, generated before any timing: `--rows` rows (default 5,000,000) in record
//! batches of 8192 rows of `user` (one of 1000 strings), `amount` (a multiple of 0.25 in
//! [0, 200]) and `country` (one of 20 codes). The pipeline:
//! `filter(amount > 50.0).select(user, amount * 2.0 as doubled)`.
//!
//! - (a) the `stream!` query: a `MemoryStream` source holding the batches,
//!   `trigger(available_now)` (one micro-batch), a `foreach_batch` sink that counts rows
//!   and keeps nothing; wall time from `start()` to termination (checkpoint included), at
//!   parallelism 1 and on all cores (the engine splits the micro-batch into one task per
//!   core). The `addBatch` column is the engine's own timing of running the pipeline's
//!   tasks and the sink (whole milliseconds).
//! - (b) the engine alone: the same query without the filter and the select (an identity
//!   pipeline); the generated code's share of (a) is (a)'s `addBatch` minus this one's.
//! - (c) hand-written loops over the same batches: the typed predicate
//!   (`as_primitive::<Float64Type>()`, `BooleanArray::from_unary`), arrow's filter kernel
//!   on the two used columns, a typed `unary` for `doubled`; on one thread, on one thread
//!   filtering all three columns (what the pipeline would do without the projection that
//!   column pruning puts before its filter), and on as many threads as there are cores.
//!   Each loop runs on threads of its own, as the engine's tasks do (the allocator behaves
//!   differently on the main thread).
//! - (d) the hand-written per-batch function of (c) run by the engine (`MapPipeline`), in
//!   place of the generated pipeline: same source, trigger and sink as (a).
//!
//! Every case runs once to warm up, then `--runs` times more (default 5); the best run
//! counts. `--only TEXT` keeps the cases whose name contains `TEXT` (and the hand-written
//! baseline); `--verbose` prints every run.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use arrow_array::builder::{Float64Builder, StringBuilder};
use arrow_array::cast::AsArray;
use arrow_array::types::Float64Type;
use arrow_array::{ArrayRef, BooleanArray, Float64Array, RecordBatch};
use arrow_schema::{ArrowError, DataType, Field, Schema, SchemaRef};
use stream_core::{
    ForeachBatchSink, MapPipeline, MemoryStream, QueryBuilder, StreamingQuery,
    StreamingQueryManager, Trigger, stream,
};

const BATCH_ROWS: usize = 8192;
const COUNTRIES: [&str; 20] = [
    "DE", "FR", "US", "JP", "GB", "IT", "ES", "NL", "BE", "AT", "CH", "SE", "NO", "DK", "FI", "PL",
    "PT", "IE", "CA", "BR",
];

type BoxError = Box<dyn std::error::Error>;

fn input_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("user", DataType::Utf8, false),
        Field::new("amount", DataType::Float64, false),
        Field::new("country", DataType::Utf8, false),
    ]))
}

fn output_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("user", DataType::Utf8, false),
        Field::new("doubled", DataType::Float64, false),
    ]))
}

/// A fixed pseudo-random sequence (xorshift64), so every run sees the same data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn generate(rows: usize) -> Result<Vec<RecordBatch>, ArrowError> {
    let users: Vec<String> = (0..1000).map(|i| format!("user_{i:04}")).collect();
    let schema = input_schema();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut batches = Vec::with_capacity(rows.div_ceil(BATCH_ROWS));
    let mut left = rows;
    while left > 0 {
        let n = left.min(BATCH_ROWS);
        let mut user = StringBuilder::with_capacity(n, n * 9);
        let mut amount = Float64Builder::with_capacity(n);
        let mut country = StringBuilder::with_capacity(n, n * 2);
        for _ in 0..n {
            let r = rng.next();
            user.append_value(&users[(r % 1000) as usize]);
            amount.append_value(((r >> 10) % 801) as f64 * 0.25);
            country.append_value(COUNTRIES[((r >> 20) % 20) as usize]);
        }
        let columns: Vec<ArrayRef> = vec![
            Arc::new(user.finish()),
            Arc::new(amount.finish()),
            Arc::new(country.finish()),
        ];
        batches.push(RecordBatch::try_new(schema.clone(), columns)?);
        left -= n;
    }
    Ok(batches)
}

/// The `stream!` pipeline under test, counting its output rows into `count`.
fn filter_project(input: &MemoryStream, count: Arc<AtomicUsize>) -> QueryBuilder {
    stream! {
        schema Order { user: string, amount: f64, country: string }
        read(memory, stream = {input}, schema = Order)
            .filter(amount > 50.0)
            .select(user, amount * 2.0 as doubled)
            .write(foreach_batch, f = {move |_batch_id: u64, batches: &[RecordBatch]| {
                let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
                count.fetch_add(rows, Ordering::Relaxed);
                Ok::<(), std::convert::Infallible>(())
            }})
            .trigger(available_now)
    }
}

/// The engine alone: the same source and sink, no operator.
fn identity(input: &MemoryStream, count: Arc<AtomicUsize>) -> QueryBuilder {
    stream! {
        schema Order { user: string, amount: f64, country: string }
        read(memory, stream = {input}, schema = Order)
            .write(foreach_batch, f = {move |_batch_id: u64, batches: &[RecordBatch]| {
                let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
                count.fetch_add(rows, Ordering::Relaxed);
                Ok::<(), std::convert::Infallible>(())
            }})
            .trigger(available_now)
    }
}

/// The hand-written per-batch function run by the engine, in place of the generated
/// pipeline: same source, trigger and sink.
fn by_hand_query(input: &MemoryStream, count: Arc<AtomicUsize>) -> QueryBuilder {
    let schema = output_schema();
    StreamingQuery::builder()
        .source(input.clone())
        .pipeline(MapPipeline::new(
            "by_hand",
            input_schema(),
            schema.clone(),
            move |batch| Ok(by_hand(batch, &schema, true)?),
        ))
        .sink(ForeachBatchSink::new(
            move |_batch_id: u64, batches: &[RecordBatch]| {
                let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
                count.fetch_add(rows, Ordering::Relaxed);
                Ok::<(), std::convert::Infallible>(())
            },
        ))
        .trigger(Trigger::AvailableNow)
}

/// One run of a query: output rows, wall time, `addBatch` time.
fn run_query(
    make: fn(&MemoryStream, Arc<AtomicUsize>) -> QueryBuilder,
    input: &MemoryStream,
    parallelism: usize,
    checkpoint: &PathBuf,
    runtime: &tokio::runtime::Runtime,
) -> Result<(usize, Duration, Duration), BoxError> {
    let _ = std::fs::remove_dir_all(checkpoint);
    let count = Arc::new(AtomicUsize::new(0));
    let builder = make(input, count.clone())
        .parallelism(parallelism)
        .manager(&StreamingQueryManager::new())
        .checkpoint_location(checkpoint);
    let start = Instant::now();
    let query = builder.start()?;
    runtime.block_on(query.await_termination())?;
    let wall = start.elapsed();
    let add_batch_ms: i64 = query
        .recent_progress()
        .iter()
        .map(|p| p.duration_ms.get("addBatch").copied().unwrap_or(0))
        .sum();
    let _ = std::fs::remove_dir_all(checkpoint);
    Ok((
        count.load(Ordering::Relaxed),
        wall,
        Duration::from_millis(add_batch_ms.max(0) as u64),
    ))
}

/// The hand-written pipeline on one batch; `prune`: filter only the two used columns.
fn by_hand(
    batch: &RecordBatch,
    schema: &SchemaRef,
    prune: bool,
) -> Result<RecordBatch, ArrowError> {
    let amount = batch.column(1).as_primitive::<Float64Type>();
    let keep = BooleanArray::from_unary(amount, |v| v > 50.0);
    let kept = if prune {
        arrow_select::filter::filter_record_batch(&batch.project(&[0, 1])?, &keep)?
    } else {
        arrow_select::filter::filter_record_batch(batch, &keep)?
    };
    let doubled: Float64Array = kept
        .column(1)
        .as_primitive::<Float64Type>()
        .unary(|v| v * 2.0);
    RecordBatch::try_new(
        schema.clone(),
        vec![kept.column(0).clone(), Arc::new(doubled)],
    )
}

/// The hand-written pipeline over `batches` on `threads` threads (`0`: this one).
fn hand_loop(batches: &[RecordBatch], threads: usize, prune: bool) -> Result<usize, ArrowError> {
    let schema = output_schema();
    if threads == 1 {
        // on a thread of its own, as the engine's tasks run on worker threads
        return std::thread::scope(|scope| {
            scope
                .spawn(|| hand_loop(batches, 0, prune))
                .join()
                .map_err(|_| ArrowError::ComputeError("a thread panicked".into()))?
        });
    }
    if threads == 0 {
        let mut rows = 0;
        for batch in batches {
            rows += by_hand(batch, &schema, prune)?.num_rows();
        }
        return Ok(rows);
    }
    let chunk = batches.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = batches
            .chunks(chunk)
            .map(|part| {
                let schema = schema.clone();
                scope.spawn(move || -> Result<usize, ArrowError> {
                    let mut rows = 0;
                    for batch in part {
                        rows += by_hand(batch, &schema, prune)?.num_rows();
                    }
                    Ok(rows)
                })
            })
            .collect();
        let mut rows = 0;
        for h in handles {
            rows += h
                .join()
                .map_err(|_| ArrowError::ComputeError("a thread panicked".into()))??;
        }
        Ok(rows)
    })
}

fn arg(name: &str, default: usize) -> Result<usize, BoxError> {
    let args: Vec<String> = std::env::args().collect();
    match args.iter().position(|a| a == name) {
        Some(i) => {
            let v = args
                .get(i + 1)
                .ok_or_else(|| format!("{name} takes a number"))?;
            Ok(v.replace('_', "").parse()?)
        }
        None => Ok(default),
    }
}

fn text_arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    let i = args.iter().position(|a| a == name)?;
    args.get(i + 1).cloned()
}

fn per_second(rows: usize, time: Duration) -> String {
    let secs = time.as_secs_f64();
    if secs <= 0.0 {
        return "-".into();
    }
    format!("{:.1} M", rows as f64 / secs / 1e6)
}

/// What one run measured: output rows, wall time, `addBatch` time (queries only).
type Measure = (usize, Duration, Option<Duration>);

/// One measured case: its name, a run of it, and its best run so far.
struct Case<'a> {
    name: String,
    run: Box<dyn FnMut() -> Result<Measure, BoxError> + 'a>,
    best: Option<Measure>,
}

fn hand_case<'a>(name: &str, batches: &'a [RecordBatch], threads: usize, prune: bool) -> Case<'a> {
    Case {
        name: name.to_string(),
        run: Box::new(move || {
            let t = Instant::now();
            let rows = hand_loop(batches, threads, prune)?;
            Ok((rows, t.elapsed(), None))
        }),
        best: None,
    }
}

fn query_case<'a>(
    name: String,
    make: fn(&MemoryStream, Arc<AtomicUsize>) -> QueryBuilder,
    input: &'a MemoryStream,
    parallelism: usize,
    checkpoint: &'a PathBuf,
    runtime: &'a tokio::runtime::Runtime,
) -> Case<'a> {
    Case {
        name,
        run: Box::new(move || {
            let (rows, wall, add) = run_query(make, input, parallelism, checkpoint, runtime)?;
            Ok((rows, wall, Some(add)))
        }),
        best: None,
    }
}

fn main() -> Result<(), BoxError> {
    let rows = arg("--rows", 5_000_000)?;
    let runs = arg("--runs", 5)?.max(1);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    if cfg!(debug_assertions) {
        println!("note: a debug build; run with --release for meaningful figures");
    }

    let t = Instant::now();
    let batches = generate(rows)?;
    let input = MemoryStream::new(input_schema());
    for batch in &batches {
        input.add_batch(batch.clone())?;
    }
    println!(
        "input: {rows} rows in {} batches of up to {BATCH_ROWS} (user: 1000 strings, amount: \
         multiples of 0.25 in [0, 200], country: 20 codes), generated in {:.0} ms before timing",
        batches.len(),
        t.elapsed().as_secs_f64() * 1e3
    );
    println!("pipeline: filter(amount > 50.0).select(user, amount * 2.0 as doubled)");
    println!(
        "{cores} core(s); every case runs once to warm up, then {runs} times; the best run \
         counts\n"
    );

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let checkpoint =
        std::env::temp_dir().join(format!("bench_filter_project-{}", std::process::id()));

    let mut levels = vec![1];
    if cores > 1 {
        levels.push(cores);
    }
    let mut cases = Vec::new();
    for &p in &levels {
        cases.push(query_case(
            format!("(a) stream! query, parallelism {p}"),
            filter_project,
            &input,
            p,
            &checkpoint,
            &runtime,
        ));
        cases.push(query_case(
            format!("(d) hand-written function run by the engine, parallelism {p}"),
            by_hand_query,
            &input,
            p,
            &checkpoint,
            &runtime,
        ));
        cases.push(query_case(
            format!("(b) engine alone (identity query), parallelism {p}"),
            identity,
            &input,
            p,
            &checkpoint,
            &runtime,
        ));
    }
    cases.push(hand_case(
        "(c) hand-written loop, 1 thread",
        &batches,
        1,
        true,
    ));
    cases.push(hand_case(
        "(c) hand-written loop filtering all 3 columns, 1 thread",
        &batches,
        1,
        false,
    ));
    if cores > 1 {
        cases.push(hand_case(
            &format!("(c) hand-written loop, {cores} threads"),
            &batches,
            cores,
            true,
        ));
    }

    if let Some(only) = text_arg("--only") {
        cases.retain(|c| c.name.contains(&only) || c.name.starts_with("(c) hand-written loop, 1"));
    }
    let verbose = std::env::args().any(|a| a == "--verbose");
    for case in &mut cases {
        for round in 0..=runs {
            let (r, wall, add) = (case.run)()?;
            if verbose {
                println!(
                    "run {round}: {} {:.1} ms",
                    case.name,
                    wall.as_secs_f64() * 1e3
                );
            }
            if round == 0 {
                continue;
            }
            case.best = Some(match case.best {
                None => (r, wall, add),
                Some((r0, _, _)) if r0 != r => {
                    return Err(format!("`{}` gave {r0} rows, then {r}", case.name).into());
                }
                Some((_, w0, a0)) => (r, w0.min(wall), a0.zip(add).map(|(x, y)| x.min(y))),
            });
        }
    }

    let result = |prefix: &str| {
        cases
            .iter()
            .find(|c| c.name.starts_with(prefix))
            .and_then(|c| c.best)
    };
    let hand = result("(c) hand-written loop, 1 thread")
        .ok_or("no hand-written case")?
        .1;
    println!(
        "{:<58} {:>9} {:>9} {:>10} {:>11} {:>10}",
        "case", "rows out", "wall ms", "in rows/s", "addBatch ms", "÷ hand 1t"
    );
    for case in &cases {
        let Some((r, wall, add)) = case.best else {
            continue;
        };
        println!(
            "{:<58} {:>9} {:>9.1} {:>10} {:>11} {:>10.2}",
            case.name,
            r,
            wall.as_secs_f64() * 1e3,
            per_second(rows, wall),
            add.map_or_else(|| "-".to_string(), |a| a.as_millis().to_string()),
            wall.as_secs_f64() / hand.as_secs_f64()
        );
    }
    if let (Some((_, _, Some(a1))), Some((_, _, Some(b1)))) = (
        result("(a) stream! query, parallelism 1"),
        result("(b) engine alone (identity query), parallelism 1"),
    ) {
        let work = a1.saturating_sub(b1);
        println!(
            "\n(b) generated code at parallelism 1, with the engine's task and sink around it \
             (addBatch of (a) minus that of the identity query): ~{} ms, {} rows/s; \
             hand-written loop: {:.1} ms",
            work.as_millis(),
            per_second(rows, work),
            hand.as_secs_f64() * 1e3
        );
    }
    for p in &levels {
        if let (Some((_, wa, Some(aa))), Some((_, wd, Some(ad)))) = (
            result(&format!("(a) stream! query, parallelism {p}")),
            result(&format!(
                "(d) hand-written function run by the engine, parallelism {p}"
            )),
        ) {
            println!(
                "generated ÷ hand-written, both run by the engine at parallelism {p}: wall {:.2}, \
                 addBatch {:.2}",
                wa.as_secs_f64() / wd.as_secs_f64(),
                aa.as_secs_f64() / ad.as_secs_f64().max(1e-3)
            );
        }
    }
    let out_rows = result("(c) hand-written loop, 1 thread").map_or(0, |r| r.0);
    let bad: Vec<&str> = cases
        .iter()
        .filter(|c| !c.name.starts_with("(b)") && c.best.map(|b| b.0) != Some(out_rows))
        .map(|c| c.name.as_str())
        .collect();
    if !bad.is_empty() {
        return Err(format!("these cases disagree on the output rows: {bad:?}").into());
    }
    println!("every filter + select case returned the same {out_rows} rows");
    Ok(())
}
