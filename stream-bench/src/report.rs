//! The benchmark run: prepares the dataset, runs the three parts and prints their tables.

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use stream_core::MemoryStream;

use crate::args::Args;
use crate::baseline::{self, BaselineDigest};
use crate::child::{self, ChildResult};
use crate::workloads::{Input, Workload};
use crate::{BoxError, dataset, engine_run, measure, nexmark_bench};

pub(crate) fn main(args: Args) -> Result<(), BoxError> {
    let root = match &args.input {
        Some(dir) => dir.clone(),
        None => {
            let started = Instant::now();
            if dataset::ensure(&args.data, args.size)? {
                println!(
                    "generated {} files x {} events ({}) into {} in {:.1} s",
                    args.size.files,
                    args.size.events_per_file,
                    args.size.events(),
                    args.data.display(),
                    started.elapsed().as_secs_f64()
                );
            }
            args.data.clone()
        }
    };
    println!("stream-bench on {}", measure::machine());
    println!(
        "command: stream-bench {}",
        std::env::args().skip(1).collect::<Vec<_>>().join(" ")
    );
    println!("dataset: {}", root.display());
    let _ = engine_run::STATE.set((args.state_store, args.state_memory_mb << 20));
    println!(
        "state store: {}{}",
        args.state_store.as_str(),
        if args.state_store == stream_core::state::StateStoreKind::Disk {
            format!(" ({} MiB budget)", args.state_memory_mb)
        } else {
            String::new()
        }
    );
    let mut mismatches = Vec::new();
    let mut baselines = Vec::new();
    let batches = if args.skip_memory && !args.check {
        Vec::new()
    } else {
        dataset::decode(&root)?
    };
    for &workload in &args.workloads {
        if !batches.is_empty() {
            baselines.push((workload, baseline::run(workload, &batches)?));
        }
    }
    if !args.skip_files {
        file_runs(&args, &root, &baselines, &mut mismatches)?;
    }
    if !args.skip_memory {
        memory_runs(&args, &batches, &mut mismatches)?;
    }
    if args.nexmark_events > 0 {
        nexmark_bench::run(args.nexmark_events, &args.nexmark_queries, args.runs)?;
    }
    if args.check && !mismatches.is_empty() {
        return Err(format!("rows differ from the baseline's: {}", mismatches.join("; ")).into());
    }
    Ok(())
}

fn millions_per_second(events: u64, time: Duration) -> f64 {
    events as f64 / time.as_secs_f64().max(1e-9) / 1e6
}

fn ms(time: Duration) -> f64 {
    time.as_secs_f64() * 1e3
}

/// Every workload over the files, each run in a child process.
fn file_runs(
    args: &Args,
    root: &Path,
    baselines: &[(Workload, BaselineDigest)],
    mismatches: &mut Vec<String>,
) -> Result<(), BoxError> {
    println!();
    println!("file runs: trigger available_now, all cores, one child process per run");
    println!(
        "{:<18} {:<8} {:>9} {:>10} {:>7} {:>8} {:>10} {:>8} {:>8} {:>9} {:>11}",
        "workload",
        "input",
        "max_files",
        "events",
        "batches",
        "wall s",
        "M ev/s",
        "p50 ms",
        "p99 ms",
        "peak MiB",
        "1st batch"
    );
    let mut first_batches = Vec::new();
    for &workload in &args.workloads {
        for &input in &args.inputs {
            let dir = match input {
                Input::Json => dataset::json_dir(root),
                _ => dataset::parquet_dir(root),
            };
            for max_files in [None, Some(1)] {
                let (result, first_batch) = run_child(workload, input, max_files, &dir)?;
                let wall = Duration::from_micros(result.wall_us);
                println!(
                    "{:<18} {:<8} {:>9} {:>10} {:>7} {:>8.2} {:>10.2} {:>8.1} {:>8.1} {:>9.1} {:>8.1} ms",
                    workload.name(),
                    input.name(),
                    max_files.map_or("-".to_string(), |n| n.to_string()),
                    result.input_rows,
                    result.batches,
                    wall.as_secs_f64(),
                    millions_per_second(result.input_rows, wall),
                    result.batch_p50_us as f64 / 1e3,
                    result.batch_p99_us as f64 / 1e3,
                    result.peak_rss_kib.unwrap_or(0) as f64 / 1024.0,
                    ms(first_batch),
                );
                if let Some(first) = first_batch_of(first_batch, &result) {
                    first_batches.push((first, workload, input, max_files));
                }
                // one batch over every file: the same rows as the baseline's
                if max_files.is_none()
                    && let Some((_, expected)) = baselines.iter().find(|(w, _)| *w == workload)
                    && (expected.rows != result.output_rows || expected.sum != result.sum)
                {
                    mismatches.push(format!(
                        "{} over {}: engine {} rows (sum {}), baseline {} rows (sum {})",
                        workload.name(),
                        input.name(),
                        result.output_rows,
                        result.sum,
                        expected.rows,
                        expected.sum
                    ));
                }
            }
        }
    }
    if let Some((first, workload, input, max_files)) = first_batches.iter().min_by_key(|f| f.0) {
        println!(
            "start-up: first batch committed {:.1} ms after the process was spawned \
             (best: {} over {}, max_files_per_trigger {})",
            ms(*first),
            workload.name(),
            input.name(),
            max_files.map_or("-".to_string(), |n| n.to_string())
        );
    }
    Ok(())
}

fn first_batch_of(first: Duration, result: &ChildResult) -> Option<Duration> {
    (result.batches > 0).then_some(first)
}

/// Spawns the child of one file run; returns its result and when its first `batch`
/// line came, from the spawn.
fn run_child(
    workload: Workload,
    input: Input,
    max_files: Option<usize>,
    dir: &Path,
) -> Result<(ChildResult, Duration), BoxError> {
    let spawned = Instant::now();
    let mut child = Command::new(std::env::current_exe()?)
        .arg(child::COMMAND)
        .arg(workload.name())
        .arg(input.name())
        .arg(max_files.map_or("-".to_string(), |n| n.to_string()))
        .arg(dir)
        .envs(
            engine_run::STATE
                .get()
                .map(|(kind, bytes)| {
                    [
                        ("STREAM_STATE_STORE", kind.as_str().to_string()),
                        ("STREAM_STATE_MEMORY", (bytes >> 20).to_string()),
                    ]
                })
                .into_iter()
                .flatten(),
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let mut first_batch = None;
    let mut result = None;
    for line in BufReader::new(stdout).lines() {
        let line = line?;
        if line.starts_with("batch ") {
            first_batch.get_or_insert_with(|| spawned.elapsed());
        } else if let Some(json) = line.strip_prefix("result ") {
            result = Some(serde_json::from_str::<ChildResult>(json)?);
        }
    }
    let output = child.wait_with_output()?;
    match result {
        Some(result) if output.status.success() => Ok((result, first_batch.unwrap_or_default())),
        _ => Err(format!(
            "{} over {}: the child failed ({}): {}",
            workload.name(),
            input.name(),
            output.status,
            String::from_utf8_lossy(&output.stderr)
        )
        .into()),
    }
}

/// Each workload over the decoded batches: the engine with one task against the
/// hand-written baseline on one thread.
fn memory_runs(
    args: &Args,
    batches: &[arrow_array::RecordBatch],
    mismatches: &mut Vec<String>,
) -> Result<(), BoxError> {
    let events: u64 = batches.iter().map(|b| b.num_rows() as u64).sum();
    let memory = MemoryStream::new(dataset::schema());
    for batch in batches {
        memory.add_batch(batch.clone())?;
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    println!();
    println!(
        "engine versus hand-written baseline: the same {events} decoded events, one \
         micro-batch, engine with one task, baseline on one thread, best of {} after a warm-up",
        args.runs
    );
    println!(
        "{:<18} {:>10} {:>10} {:>10} {:>11} {:>10} {:>7} {:>6}  rows",
        "workload", "engine s", "M ev/s", "base s", "base M ev/s", "ratio", "bound", "ok"
    );
    for &workload in &args.workloads {
        let mut engine_best: Option<engine_run::EngineRun> = None;
        for _ in 0..=args.runs {
            let run = runtime.block_on(engine_run::run(
                workload,
                Input::Memory,
                None,
                Path::new(""),
                &memory,
                Some(1),
                false,
            ))?;
            if engine_best.as_ref().is_none_or(|best| run.wall < best.wall) {
                engine_best = Some(run);
            }
        }
        let engine = engine_best.ok_or("no engine run")?;
        let mut baseline_best = Duration::MAX;
        let mut digest = None;
        for _ in 0..=args.runs {
            // on a thread of its own, as the engine's tasks run
            let (took, result) = std::thread::scope(|scope| {
                scope
                    .spawn(|| {
                        let started = Instant::now();
                        let result = baseline::run(workload, batches);
                        (started.elapsed(), result)
                    })
                    .join()
                    .map_err(|_| "the baseline panicked")
            })?;
            digest = Some(result?);
            baseline_best = baseline_best.min(took);
        }
        let digest = digest.ok_or("no baseline run")?;
        let same = digest.rows == engine.output_rows && digest.sum == engine.sum;
        if !same {
            mismatches.push(format!(
                "{} in memory: engine {} rows (sum {}), baseline {} rows (sum {})",
                workload.name(),
                engine.output_rows,
                engine.sum,
                digest.rows,
                digest.sum
            ));
        }
        let ratio = engine.wall.as_secs_f64() / baseline_best.as_secs_f64().max(1e-9);
        let bound = if workload.is_stateful() { 2.0 } else { 1.5 };
        println!(
            "{:<18} {:>10.3} {:>10.2} {:>10.3} {:>11.2} {:>9.2}x {:>6.1}x {:>6}  {}",
            workload.name(),
            engine.wall.as_secs_f64(),
            millions_per_second(events, engine.wall),
            baseline_best.as_secs_f64(),
            millions_per_second(events, baseline_best),
            ratio,
            bound,
            if ratio <= bound { "yes" } else { "no" },
            if same {
                format!("{} = {}", engine.output_rows, digest.rows)
            } else {
                format!(
                    "DIFFERENT: engine {} baseline {}",
                    engine.output_rows, digest.rows
                )
            }
        );
    }
    Ok(())
}
