//! The child process of a file run: `stream-bench __child <workload> <input>
//! <max_files_per_trigger or -> <folder>`. It runs the workload once and prints
//! `batch <id>` as each batch is committed, then one `result {json}` line.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use stream_core::MemoryStream;

use crate::workloads::{Input, Workload};
use crate::{BoxError, dataset, engine_run, measure};

/// The first argument that makes the program a child.
pub(crate) const COMMAND: &str = "__child";

/// What a child reports.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct ChildResult {
    pub(crate) input_rows: u64,
    pub(crate) batches: usize,
    pub(crate) wall_us: u64,
    pub(crate) batch_p50_us: u64,
    pub(crate) batch_p99_us: u64,
    pub(crate) peak_rss_kib: Option<u64>,
    pub(crate) output_rows: u64,
    pub(crate) sum: f64,
}

pub(crate) fn main(args: Vec<String>) -> Result<(), BoxError> {
    let [workload, input, max_files, dir] = <[String; 4]>::try_from(args)
        .map_err(|_| "usage: stream-bench __child <workload> <input> <max files|-> <dir>")?;
    let workload = Workload::from_name(&workload).ok_or("unknown workload")?;
    let input = Input::from_name(&input).ok_or("unknown input")?;
    let max_files = match max_files.as_str() {
        "-" => None,
        n => Some(n.parse()?),
    };
    let dir = PathBuf::from(dir);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let run = runtime.block_on(engine_run::run(
        workload,
        input,
        max_files,
        &dir,
        &MemoryStream::new(dataset::schema()),
        None,
        true,
    ))?;
    let result = ChildResult {
        input_rows: run.input_rows,
        batches: run.batch_times.len(),
        wall_us: run.wall.as_micros() as u64,
        batch_p50_us: measure::percentile(&run.batch_times, 50.0).as_micros() as u64,
        batch_p99_us: measure::percentile(&run.batch_times, 99.0).as_micros() as u64,
        peak_rss_kib: measure::peak_rss_kib(),
        output_rows: run.output_rows,
        sum: run.sum,
    };
    println!("result {}", serde_json::to_string(&result)?);
    Ok(())
}
