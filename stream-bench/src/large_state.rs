//! `--large-state N`: a deduplication whose state grows to `N` distinct keys, on the
//! store `--state-store` picks, for the peak resident memory against the store's memory
//! budget. The rate source on a manual clock gives `--rows-per-batch` new values a
//! batch; every value is a new key, so every row is written through and the state holds
//! every key seen. The rows written must be exactly the `N` values, whatever the store.

use std::sync::Arc;
use std::time::{Duration, Instant};

use stream_core::state::StateStoreKind;
use stream_core::{ManualClock, StreamingQueryListener, StreamingQueryManager, Trigger, stream};

use crate::BoxError;
use crate::measure::{self, BatchClock};
use crate::workloads::Digest;

/// What to run.
#[derive(Clone, Copy, Debug)]
pub(crate) struct LargeState {
    pub(crate) keys: u64,
    pub(crate) rows_per_batch: u64,
    pub(crate) store: StateStoreKind,
    pub(crate) memory_mb: u64,
}

/// Bytes of the delta and snapshot files under the checkpoint's `state/` (not the disk
/// store's working copy).
fn state_file_bytes(dir: &std::path::Path) -> (u64, u64) {
    let (mut deltas, mut snapshots) = (0, 0);
    let Ok(entries) = std::fs::read_dir(dir) else {
        return (0, 0);
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if path.is_dir() && !name.starts_with('_') {
            let (d, s) = state_file_bytes(&path);
            deltas += d;
            snapshots += s;
        } else if let Ok(meta) = entry.metadata() {
            if name.ends_with(".delta") {
                deltas += meta.len();
            } else if name.ends_with(".snapshot") {
                snapshots += meta.len();
            }
        }
    }
    (deltas, snapshots)
}

// the state is unbounded on purpose: that is what is measured
#[allow(deprecated)]
pub(crate) fn main(run: LargeState) -> Result<(), BoxError> {
    let batches = run.keys.div_ceil(run.rows_per_batch);
    let checkpoint =
        std::env::temp_dir().join(format!("stream-bench-large-{}", std::process::id()));
    if checkpoint.exists() {
        std::fs::remove_dir_all(&checkpoint)?;
    }
    let digest = Arc::new(Digest::default());
    let clock = ManualClock::new(1_704_067_200_000);
    let manager = StreamingQueryManager::new();
    let batch_clock = Arc::new(BatchClock::new(false));
    manager.add_listener(batch_clock.clone() as Arc<dyn StreamingQueryListener>);
    let rows_per_second = run.rows_per_batch;
    let trigger = Trigger::ProcessingTime(Duration::from_secs(1));
    println!(
        "large state: {} distinct dedup keys in {batches} batches of {}, {} store{}",
        run.keys,
        run.rows_per_batch,
        run.store.as_str(),
        if run.store == StateStoreKind::Disk {
            format!(", {} MiB budget", run.memory_mb)
        } else {
            String::new()
        }
    );
    let started = Instant::now();
    let query = stream! {
        read(rate, rows_per_second = {rows_per_second}, num_partitions = {2usize})
            .drop_duplicates(value)
            .write(foreach_batch, f = {digest.sink("value")})
            .trigger({trigger})
    }
    .clock(clock.clone())
    .manager(&manager)
    .checkpoint_location(&checkpoint)
    .state_store(run.store)
    .state_memory(run.memory_mb << 20)
    .start()?;
    let safety = Duration::from_secs(600);
    for done in 0..batches {
        if !clock.wait_for_sleeper(safety) {
            return Err(format!("batch {done} did not finish in {safety:?}").into());
        }
        clock.advance(1_000);
        if done % 10 == 9 || done + 1 == batches {
            let times = batch_clock.batch_times();
            println!(
                "  after batch {:>4}: {:>11} keys, last batch {:>7.2} s, rss {:>6} MiB",
                done,
                (done + 1) * run.rows_per_batch,
                times.last().map_or(0.0, |t| t.as_secs_f64()),
                measure::current_rss_kib().unwrap_or(0) / 1024
            );
        }
    }
    if !clock.wait_for_sleeper(safety) {
        return Err("the last batch did not finish".into());
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(query.stop());
    if let Some(e) = query.exception() {
        return Err(format!("the query failed: {e}").into());
    }
    let wall = started.elapsed();
    let (deltas, snapshots) = state_file_bytes(&checkpoint.join("state"));
    let times = batch_clock.batch_times();
    let keys = batches * run.rows_per_batch;
    let expected_sum = (keys as f64) * (keys as f64 - 1.0) / 2.0;
    let ok = digest.rows() == keys && digest.sum() == expected_sum;
    println!(
        "  {} batches in {:.1} s: {:.2} M keys/s; batch p50 {:.2} s, p99 {:.2} s; peak rss {} MiB",
        times.len(),
        wall.as_secs_f64(),
        keys as f64 / wall.as_secs_f64() / 1e6,
        measure::percentile(&times, 50.0).as_secs_f64(),
        measure::percentile(&times, 99.0).as_secs_f64(),
        measure::peak_rss_kib().unwrap_or(0) / 1024
    );
    println!(
        "  checkpoint state files now: deltas {:.1} MiB ({:.2} MiB a batch), snapshots {:.1} MiB",
        deltas as f64 / 1048576.0,
        deltas as f64 / 1048576.0 / times.len().max(1) as f64,
        snapshots as f64 / 1048576.0
    );
    println!(
        "  rows written {} (sum {}), expected {keys}: {}",
        digest.rows(),
        digest.sum(),
        if ok { "ok" } else { "MISMATCH" }
    );
    std::fs::remove_dir_all(&checkpoint).ok();
    if !ok {
        return Err("the rows written are not the keys".into());
    }
    Ok(())
}
