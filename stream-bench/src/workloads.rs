//! The named workloads, written with `stream!`, each readable from NDJSON files, Parquet
//! files or a memory stream of decoded batches, with `max_files_per_trigger` unset or 1.
//!
//! Every workload writes into a [`Digest`] sink, which keeps two figures of the rows it
//! is handed (their number and the sum of one column) and nothing else, so the run can be
//! checked against the hand-written baseline without holding the output.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use arrow_array::RecordBatch;
use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int64Type};
use arrow_schema::DataType;
use stream_core::{MemoryStream, QueryBuilder, stream};

use crate::BoxError;

/// A workload's name and the column its digest sums.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Workload {
    FilterProject,
    TumblingCount,
    SlidingAvg,
    Dedup,
    StreamStaticJoin,
}

impl Workload {
    pub(crate) const ALL: [Workload; 5] = [
        Workload::FilterProject,
        Workload::TumblingCount,
        Workload::SlidingAvg,
        Workload::Dedup,
        Workload::StreamStaticJoin,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Workload::FilterProject => "filter_project",
            Workload::TumblingCount => "tumbling_count",
            Workload::SlidingAvg => "sliding_avg",
            Workload::Dedup => "dedup",
            Workload::StreamStaticJoin => "stream_static_join",
        }
    }

    pub(crate) fn from_name(name: &str) -> Option<Workload> {
        Workload::ALL.into_iter().find(|w| w.name() == name)
    }

    /// Whether the workload keeps state (the 2× bound of the issue rather than 1.5×).
    pub(crate) fn is_stateful(self) -> bool {
        !matches!(self, Workload::FilterProject | Workload::StreamStaticJoin)
    }
}

/// Where a workload reads from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Input {
    Json,
    Parquet,
    Memory,
}

impl Input {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Input::Json => "json",
            Input::Parquet => "parquet",
            Input::Memory => "memory",
        }
    }

    pub(crate) fn from_name(name: &str) -> Option<Input> {
        [Input::Json, Input::Parquet, Input::Memory]
            .into_iter()
            .find(|i| i.name() == name)
    }
}

/// What a run's sink saw: the rows and the sum of the digest column over them.
#[derive(Default)]
pub(crate) struct Digest {
    rows: AtomicU64,
    sum: Mutex<f64>,
}

impl Digest {
    pub(crate) fn rows(&self) -> u64 {
        self.rows.load(Ordering::Relaxed)
    }

    pub(crate) fn sum(&self) -> f64 {
        *self.sum.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Adds a batch's rows and the sum of `column` (Int64 or Float64) over them.
    pub(crate) fn add(&self, batch: &RecordBatch, column: &str) -> Result<(), BoxError> {
        let array = batch
            .column_by_name(column)
            .ok_or_else(|| format!("the output has no column `{column}`"))?;
        let sum = match array.data_type() {
            DataType::Int64 => array
                .as_primitive::<Int64Type>()
                .iter()
                .flatten()
                .map(|v| v as f64)
                .sum::<f64>(),
            DataType::Float64 => array.as_primitive::<Float64Type>().iter().flatten().sum(),
            other => return Err(format!("`{column}` is {other}, not a number").into()),
        };
        self.rows
            .fetch_add(batch.num_rows() as u64, Ordering::Relaxed);
        *self.sum.lock().unwrap_or_else(|p| p.into_inner()) += sum;
        Ok(())
    }

    /// The sink closure of a `write(foreach_batch, f = ..)`.
    pub(crate) fn sink(
        self: &Arc<Self>,
        column: &'static str,
    ) -> impl FnMut(u64, &[RecordBatch]) -> Result<(), BoxError> + Send + 'static {
        let digest = self.clone();
        move |_batch_id, batches| {
            for batch in batches {
                digest.add(batch, column)?;
            }
            Ok(())
        }
    }
}

// One macro per workload, so the pipeline is written once and read from each input:
// `$($source)*` is the inside of `read(..)`. The schema is named `Event` in each.

macro_rules! filter_project {
    ($digest:expr; $($source:tt)*) => {
        stream! {
            schema Event { ts: timestamp_ms, user: string, page: string, amount: f64, country: string }
            read($($source)*)
                .filter(amount > 50.0)
                .select(user, amount * 2.0 as doubled)
                .write(foreach_batch, f = {$digest.sink("doubled")})
                .trigger(available_now)
        }
    };
}

macro_rules! tumbling_count {
    ($digest:expr; $($source:tt)*) => {
        stream! {
            schema Event { ts: timestamp_ms, user: string, page: string, amount: f64, country: string }
            read($($source)*)
                .with_watermark(ts, "2 minutes")
                .group_by(window(ts, "1 minute"), country)
                .agg(count() as n, sum(amount) as total)
                .write(foreach_batch, f = {$digest.sink("n")})
                .output_mode(update)
                .trigger(available_now)
        }
    };
}

macro_rules! sliding_avg {
    ($digest:expr; $($source:tt)*) => {
        stream! {
            schema Event { ts: timestamp_ms, user: string, page: string, amount: f64, country: string }
            read($($source)*)
                .with_watermark(ts, "5 minutes")
                .group_by(window(ts, "10 minutes", "5 minutes"), page)
                .agg(avg(amount) as avg_amount, count() as n)
                .write(foreach_batch, f = {$digest.sink("n")})
                .output_mode(append)
                .trigger(available_now)
        }
    };
}

macro_rules! dedup {
    ($digest:expr; $($source:tt)*) => {
        stream! {
            schema Event { ts: timestamp_ms, user: string, page: string, amount: f64, country: string }
            read($($source)*)
                .with_watermark(ts, "2 minutes")
                .drop_duplicates(user, ts)
                .write(foreach_batch, f = {$digest.sink("amount")})
                .output_mode(append)
                .trigger(available_now)
        }
    };
}

macro_rules! stream_static_join {
    ($digest:expr; $($source:tt)*) => {
        stream! {
            schema Event { ts: timestamp_ms, user: string, page: string, amount: f64, country: string }
            schema Region { country: string, region: string }
            read($($source)*)
                .join({crate::dataset::regions()}, schema = Region, on = country)
                .select(user, region, amount)
                .write(foreach_batch, f = {$digest.sink("amount")})
                .trigger(available_now)
        }
    };
}

/// Picks the workload's macro for an input and a `max_files_per_trigger`.
macro_rules! each_input {
    ($workload:ident, $input:expr, $max_files:expr, $dir:expr, $memory:expr, $digest:expr) => {
        match ($input, $max_files) {
            (Input::Json, None) => $workload!($digest; json, path = {$dir}, schema = Event),
            (Input::Json, Some(_)) => {
                $workload!($digest; json, path = {$dir}, schema = Event, max_files_per_trigger = 1)
            }
            (Input::Parquet, None) => $workload!($digest; parquet, path = {$dir}, schema = Event),
            (Input::Parquet, Some(_)) => {
                $workload!($digest; parquet, path = {$dir}, schema = Event, max_files_per_trigger = 1)
            }
            (Input::Memory, _) => $workload!($digest; memory, stream = {$memory}, schema = Event),
        }
    };
}

/// The query of `workload` over `input`: `dir` is the folder of the input's files (unused
/// for memory), `memory` the stream of decoded batches (unused for files).
/// `max_files` is `max_files_per_trigger`: unset or 1 (the two settings the benchmark
/// runs; the option is a literal in the block).
pub(crate) fn query(
    workload: Workload,
    input: Input,
    max_files: Option<usize>,
    dir: &Path,
    memory: &MemoryStream,
    digest: &Arc<Digest>,
) -> Result<QueryBuilder, BoxError> {
    if max_files.is_some_and(|n| n != 1) {
        return Err("max_files_per_trigger is unset or 1 in the benchmark".into());
    }
    let dir = dir.to_path_buf();
    let memory = memory.clone();
    Ok(match workload {
        Workload::FilterProject => {
            each_input!(filter_project, input, max_files, dir, memory, digest)
        }
        Workload::TumblingCount => {
            each_input!(tumbling_count, input, max_files, dir, memory, digest)
        }
        Workload::SlidingAvg => each_input!(sliding_avg, input, max_files, dir, memory, digest),
        Workload::Dedup => each_input!(dedup, input, max_files, dir, memory, digest),
        Workload::StreamStaticJoin => {
            each_input!(stream_static_join, input, max_files, dir, memory, digest)
        }
    })
}
