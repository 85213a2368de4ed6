//! What the benchmark reads off a run: per-batch wall times heard from the query's
//! listener, the process's peak resident memory, percentiles.

use std::io::Write as _;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use stream_core::{QueryProgressEvent, StreamingQueryListener};

/// Records when each batch finished, and the input rows it read. With `announce`, also
/// prints `batch <id>` on stdout as each batch finishes (the parent process times the
/// first of these lines to measure start-up).
pub(crate) struct BatchClock {
    started: Instant,
    announce: bool,
    finished: Mutex<Vec<(Duration, u64)>>,
}

impl BatchClock {
    pub(crate) fn new(announce: bool) -> Self {
        BatchClock {
            started: Instant::now(),
            announce,
            finished: Mutex::new(Vec::new()),
        }
    }

    /// Restarts the clock (call just before the query starts).
    pub(crate) fn restart(&mut self) {
        self.started = Instant::now();
        self.finished
            .get_mut()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }

    /// Each batch's wall time: from the previous batch's end (or the start) to its end.
    pub(crate) fn batch_times(&self) -> Vec<Duration> {
        let finished = self.finished.lock().unwrap_or_else(|p| p.into_inner());
        let mut previous = Duration::ZERO;
        finished
            .iter()
            .map(|&(at, _)| {
                let took = at.saturating_sub(previous);
                previous = at;
                took
            })
            .collect()
    }

    /// Input rows over all batches.
    pub(crate) fn input_rows(&self) -> u64 {
        let finished = self.finished.lock().unwrap_or_else(|p| p.into_inner());
        finished.iter().map(|&(_, rows)| rows).sum()
    }
}

impl StreamingQueryListener for BatchClock {
    fn on_query_progress(&self, event: &QueryProgressEvent) {
        let at = self.started.elapsed();
        self.finished
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((at, event.progress.num_input_rows));
        if self.announce {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "batch {}", event.progress.batch_id);
            let _ = out.flush();
        }
    }
}

/// The process's peak resident set (`VmHWM` of `/proc/self/status`), in KiB; `None`
/// where there is no such file.
pub(crate) fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
}

/// The process's resident memory now, in KiB (Linux).
pub(crate) fn current_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
}

/// The `p`-th percentile (0..=100) of `values` by the nearest-rank rule.
pub(crate) fn percentile(values: &[Duration], p: f64) -> Duration {
    if values.is_empty() {
        return Duration::ZERO;
    }
    let mut sorted = values.to_vec();
    sorted.sort();
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// The machine: its CPU model and how many cores this process may use.
pub(crate) fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|l| l.trim_start_matches([' ', '\t', ':']).to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    format!("{cpu}, {cores} cores")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let ms: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile(&ms, 50.0), Duration::from_millis(50));
        assert_eq!(percentile(&ms, 99.0), Duration::from_millis(99));
        assert_eq!(percentile(&ms[..1], 99.0), Duration::from_millis(1));
        assert_eq!(percentile(&[], 50.0), Duration::ZERO);
    }

    #[test]
    fn this_process_has_a_peak_resident_set() {
        if std::path::Path::new("/proc/self/status").exists() {
            assert!(peak_rss_kib().is_some_and(|kib| kib > 0));
        }
    }
}
