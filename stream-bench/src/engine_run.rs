//! Runs one `stream!` workload on the engine and times it.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use stream_core::{MemoryStream, StreamingQueryListener, StreamingQueryManager};

use crate::BoxError;
use crate::measure::BatchClock;
use crate::workloads::{self, Digest, Input, Workload};

/// The state store of the runs in this process and its budget in bytes (the file runs'
/// children read theirs from `STREAM_STATE_STORE` and `STREAM_STATE_MEMORY`).
pub(crate) static STATE: std::sync::OnceLock<(stream_core::state::StateStoreKind, u64)> =
    std::sync::OnceLock::new();

/// How the engine did on one run.
pub(crate) struct EngineRun {
    /// From `start()` to termination.
    pub(crate) wall: Duration,
    /// Each batch's wall time.
    pub(crate) batch_times: Vec<Duration>,
    /// Rows read over all batches.
    pub(crate) input_rows: u64,
    /// Rows the sink was handed.
    pub(crate) output_rows: u64,
    /// The sum of the workload's digest column over them.
    pub(crate) sum: f64,
}

/// One run of `workload` until `available_now` has read everything, with a fresh
/// temporary checkpoint. `parallelism` `None` is the engine's default (all cores).
pub(crate) async fn run(
    workload: Workload,
    input: Input,
    max_files: Option<usize>,
    dir: &Path,
    memory: &MemoryStream,
    parallelism: Option<usize>,
    announce: bool,
) -> Result<EngineRun, BoxError> {
    let digest = Arc::new(Digest::default());
    let checkpoint = std::env::temp_dir().join(format!(
        "stream-bench-{}-{}-{}",
        std::process::id(),
        workload.name(),
        input.name()
    ));
    if checkpoint.exists() {
        std::fs::remove_dir_all(&checkpoint)?;
    }
    let manager = StreamingQueryManager::new();
    let mut clock = BatchClock::new(announce);
    let mut builder = workloads::query(workload, input, max_files, dir, memory, &digest)?
        .checkpoint_location(&checkpoint)
        .manager(&manager);
    if let Some(&(kind, bytes)) = STATE.get() {
        builder = builder.state_store(kind).state_memory(bytes);
    }
    if let Some(tasks) = parallelism {
        builder = builder.parallelism(tasks);
    }
    clock.restart();
    let clock = Arc::new(clock);
    manager.add_listener(clock.clone() as Arc<dyn StreamingQueryListener>);
    let started = Instant::now();
    let query = builder.start()?;
    let result = query.await_termination().await;
    let wall = started.elapsed();
    std::fs::remove_dir_all(&checkpoint).ok();
    result.map_err(|e| format!("{} over {}: {e}", workload.name(), input.name()))?;
    Ok(EngineRun {
        wall,
        batch_times: clock.batch_times(),
        input_rows: clock.input_rows(),
        output_rows: digest.rows(),
        sum: digest.sum(),
    })
}
