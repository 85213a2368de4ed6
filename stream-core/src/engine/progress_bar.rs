//! The progress bar of a bounded run (`Trigger::AvailableNow`, `Trigger::Once`) on a
//! terminal (cargo feature `progress-bar`, on by default).
//!
//! One bar for the query: how much of the run is done against its total, summed over
//! the sources in the unit each knows its backlog in (files for a file source, offsets
//! for Kafka and for sources with integer offsets), the rows read, rows per second, and
//! the batch in progress. When the total cannot be known (a source that reports no
//! backlog), a spinner with the rows and rows per second instead.
//!
//! Drawn on standard error, only when it is a terminal; the environment variable
//! `STREAM_PROGRESS=off` turns it off, `STREAM_PROGRESS=on` draws it even when standard
//! error is not a terminal. The engine calls [`RunProgressBar::trigger_started`] when a
//! trigger (a batch, if there is new data) starts, [`RunProgressBar::batch_done`] with
//! each progress record, and [`RunProgressBar::finish`] when the run ends; dropped
//! without `finish` (the run failed), the bar stays as it was last drawn.

#[cfg(feature = "progress-bar")]
pub(crate) use drawn::RunProgressBar;
#[cfg(not(feature = "progress-bar"))]
pub(crate) use off::RunProgressBar;

/// The bar, with the `progress-bar` feature.
#[cfg(feature = "progress-bar")]
mod drawn {
    use std::collections::BTreeMap;
    use std::io::{IsTerminal, Write};
    use std::time::{Duration, Instant};

    use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle, TermLike};
    use serde_json::Value;

    use crate::Trigger;
    use crate::progress::{SourceProgress, StreamingQueryProgress};
    use crate::source::FileSource;

    /// Spark's names of the Kafka source's metrics (`KafkaSource::METRIC_*`, here too
    /// without the `kafka` feature: a query may read a source of another crate that
    /// reports them).
    const MIN_OFFSETS_BEHIND: &str = "minOffsetsBehindLatest";
    const AVG_OFFSETS_BEHIND: &str = "avgOffsetsBehindLatest";

    /// The environment variable that turns the bar off (`off`) or on even without a
    /// terminal (`on`).
    pub(crate) const ENV_PROGRESS: &str = "STREAM_PROGRESS";

    /// How often the bar is redrawn while nothing reports (the elapsed time, the spinner).
    const TICK: Duration = Duration::from_millis(200);

    /// The unit a source counts its backlog in.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    enum Unit {
        Files,
        Offsets,
    }

    impl Unit {
        fn name(self) -> &'static str {
            match self {
                Unit::Files => "files",
                Unit::Offsets => "offsets",
            }
        }
    }

    /// What the run knows of one source: how much it read and what is left.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    struct SourceCount {
        unit: Unit,
        done: u64,
        /// What is left after the last batch that read the source, once it said.
        left: Option<u64>,
    }

    /// The counts of a run, from its progress records: what the bar shows.
    #[derive(Debug, Default)]
    pub(crate) struct RunCounts {
        /// Per source; `None` while the source has said nothing of its backlog.
        sources: Vec<Option<SourceCount>>,
        /// Whether some source reported a batch without a backlog it could be counted in.
        unknown: bool,
        rows: u64,
        batches: u64,
    }

    impl RunCounts {
        /// Adds a batch's progress record.
        fn add(&mut self, progress: &StreamingQueryProgress) {
            self.rows = self.rows.saturating_add(progress.num_input_rows);
            self.batches += 1;
            if self.sources.len() < progress.sources.len() {
                self.sources.resize(progress.sources.len(), None);
            }
            for (i, source) in progress.sources.iter().enumerate() {
                let before = self.sources[i];
                match source_step(source) {
                    Some(Step { unit, done, left }) => {
                        let before = before.filter(|b| b.unit == unit);
                        let done = before.map_or(0, |b| b.done).saturating_add(done);
                        let left = left.or(before.and_then(|b| b.left));
                        self.sources[i] = Some(SourceCount { unit, done, left });
                    }
                    // a source not read in this batch keeps what it said before
                    None if source.num_input_rows == 0 && source.metrics.is_empty() => {}
                    None => self.unknown = true,
                }
            }
        }

        /// `(done, total, unit)` when every source's backlog is known.
        fn done_of_total(&self) -> Option<(u64, u64, String)> {
            if self.unknown || self.sources.is_empty() {
                return None;
            }
            let mut done = 0u64;
            let mut total = 0u64;
            let mut units: Vec<&str> = Vec::new();
            for source in &self.sources {
                let s = (*source)?;
                done = done.saturating_add(s.done);
                total = total.saturating_add(s.done).saturating_add(s.left?);
                if !units.contains(&s.unit.name()) {
                    units.push(s.unit.name());
                }
            }
            Some((done, total, units.join(" + ")))
        }
    }

    /// One batch of one source, in its unit: what it read and, if it says, what is left.
    struct Step {
        unit: Unit,
        done: u64,
        left: Option<u64>,
    }

    /// What a source's progress record tells of its backlog: a file source's metrics, a
    /// Kafka source's offsets behind the latest, or the integer offsets of other sources.
    fn source_step(source: &SourceProgress) -> Option<Step> {
        let metric = |name: &str| source.metrics.get(name).and_then(|v| v.parse::<f64>().ok());
        if let Some(read) = metric(FileSource::METRIC_FILES_READ) {
            return Some(Step {
                unit: Unit::Files,
                done: read as u64,
                left: metric(FileSource::METRIC_FILES_OUTSTANDING).map(|v| v as u64),
            });
        }
        let end = source.end_offset.as_ref()?;
        if metric(MIN_OFFSETS_BEHIND).is_some() {
            // the average over the partitions the source reads, times their number
            let end_parts = partitions(end);
            let left = metric(AVG_OFFSETS_BEHIND).map(|avg| (avg * end_parts.len() as f64).round());
            let done = match source.start_offset.as_ref() {
                Some(start) => {
                    let start = partitions(start);
                    end_parts.iter().fold(0u64, |sum, (partition, end)| {
                        let from = start.get(partition).copied().unwrap_or(*end);
                        sum.saturating_add(end.saturating_sub(from).max(0) as u64)
                    })
                }
                // the first batch of a new query: the offsets before it are not known
                None => source.num_input_rows,
            };
            return Some(Step {
                unit: Unit::Offsets,
                done,
                left: left.map(|v| v.max(0.0) as u64),
            });
        }
        let end = end.as_i64()?;
        let start = match &source.start_offset {
            Some(start) => start.as_i64()?,
            None => 0,
        };
        let latest = source.latest_offset.as_ref().and_then(Value::as_i64)?;
        Some(Step {
            unit: Unit::Offsets,
            done: end.saturating_sub(start).max(0) as u64,
            left: Some(latest.saturating_sub(end).max(0) as u64),
        })
    }

    /// The partitions of a Kafka offset, `{"topic": {"0": 12}}`, by `topic/partition`.
    fn partitions(offset: &Value) -> BTreeMap<String, i64> {
        let mut out = BTreeMap::new();
        if let Some(topics) = offset.as_object() {
            for (topic, parts) in topics {
                for (partition, at) in parts.as_object().into_iter().flatten() {
                    if let Some(at) = at.as_i64() {
                        out.insert(format!("{topic}/{partition}"), at);
                    }
                }
            }
        }
        out
    }

    /// Whether a run with `trigger` draws a bar, given `STREAM_PROGRESS` and whether
    /// standard error is a terminal: `Some(forced)` if it does.
    fn wanted(trigger: Trigger, env: Option<&str>, stderr_is_terminal: bool) -> Option<bool> {
        if !matches!(trigger, Trigger::AvailableNow | Trigger::Once) {
            return None;
        }
        match env.map(str::trim) {
            Some(v) if v.eq_ignore_ascii_case("off") => None,
            Some(v) if v.eq_ignore_ascii_case("on") => Some(!stderr_is_terminal),
            _ if stderr_is_terminal => Some(false),
            _ => None,
        }
    }

    /// The bar of one run of a query: nothing at all when it is not drawn.
    pub(crate) struct RunProgressBar {
        bar: Option<ProgressBar>,
        counts: RunCounts,
        started: Instant,
        /// Whether the bar is a bar yet (else a spinner).
        has_total: bool,
    }

    impl RunProgressBar {
        /// The bar of a run with `trigger`, if it is to be drawn (see the module's doc).
        pub(crate) fn for_run(trigger: Trigger) -> Self {
            let env = std::env::var(ENV_PROGRESS).ok();
            let bar =
                wanted(trigger, env.as_deref(), std::io::stderr().is_terminal()).map(|forced| {
                    let target = if forced {
                        ProgressDrawTarget::term_like(Box::new(Stderr))
                    } else {
                        ProgressDrawTarget::stderr()
                    };
                    let bar = ProgressBar::with_draw_target(None, target);
                    bar.set_style(spinner_style());
                    bar.enable_steady_tick(TICK);
                    bar
                });
            RunProgressBar {
                bar,
                counts: RunCounts::default(),
                started: Instant::now(),
                has_total: false,
            }
        }

        /// A trigger starts: batch `batch_id` if there is new data.
        pub(crate) fn trigger_started(&mut self, batch_id: u64) {
            if let Some(bar) = &self.bar {
                bar.set_message(format!("batch {batch_id}: {}", self.rows_text()));
            }
        }

        /// Batch `progress.batch_id` ended with this progress record.
        pub(crate) fn batch_done(&mut self, progress: Option<&StreamingQueryProgress>) {
            let (Some(bar), Some(progress)) = (&self.bar, progress) else {
                return;
            };
            self.counts.add(progress);
            // each call may redraw: the numbers first, then the style, the message last
            match self.counts.done_of_total() {
                Some((done, total, unit)) => {
                    bar.set_length(total);
                    bar.set_position(done);
                    bar.set_prefix(unit);
                    if !self.has_total {
                        bar.set_style(bar_style());
                        self.has_total = true;
                    }
                }
                None if self.has_total => {
                    bar.set_style(spinner_style());
                    self.has_total = false;
                }
                None => {}
            }
            bar.set_message(format!(
                "batch {} done: {}",
                progress.batch_id,
                self.rows_text()
            ));
        }

        /// The run ended without error: the bar stays with the run's totals.
        pub(crate) fn finish(&mut self) {
            if let Some(bar) = self.bar.take() {
                let batches = self.counts.batches;
                let s = if batches == 1 { "" } else { "es" };
                bar.finish_with_message(format!("{batches} batch{s}: {}", self.rows_text()));
                end_line(&bar);
            }
        }

        /// `"1200 rows, 450 rows/s"`, over the run so far.
        fn rows_text(&self) -> String {
            let secs = self.started.elapsed().as_secs_f64();
            let rate = if secs > 0.0 {
                self.counts.rows as f64 / secs
            } else {
                0.0
            };
            format!("{} rows, {rate:.0} rows/s", self.counts.rows)
        }
    }

    impl Drop for RunProgressBar {
        fn drop(&mut self) {
            if let Some(bar) = self.bar.take() {
                bar.abandon();
                end_line(&bar);
            }
        }
    }

    /// Ends the bar's line: indicatif leaves the cursor after the last drawn bar, where
    /// the program's next output would follow it.
    fn end_line(bar: &ProgressBar) {
        if !bar.is_hidden() {
            let _ = writeln!(std::io::stderr());
        }
    }

    fn bar_style() -> ProgressStyle {
        ProgressStyle::with_template(
            "[{elapsed_precise}] {wide_bar} {pos}/{len} {prefix} ({percent}%) {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
    }

    fn spinner_style() -> ProgressStyle {
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner())
    }

    /// Standard error as a terminal, for `STREAM_PROGRESS=on` when it is not one: the bar
    /// is drawn with carriage returns and ANSI erase codes, 80 columns wide.
    #[derive(Debug)]
    struct Stderr;

    impl Stderr {
        fn write(&self, text: &str) -> std::io::Result<()> {
            std::io::stderr().write_all(text.as_bytes())
        }

        /// ANSI's cursor move by `n` in `direction` (`A` up, `B` down, `C` right, `D` left).
        fn move_cursor(&self, n: usize, direction: char) -> std::io::Result<()> {
            if n == 0 {
                return Ok(());
            }
            self.write(&format!("\x1b[{n}{direction}"))
        }
    }

    impl TermLike for Stderr {
        fn width(&self) -> u16 {
            80
        }

        fn move_cursor_up(&self, n: usize) -> std::io::Result<()> {
            self.move_cursor(n, 'A')
        }

        fn move_cursor_down(&self, n: usize) -> std::io::Result<()> {
            self.move_cursor(n, 'B')
        }

        fn move_cursor_right(&self, n: usize) -> std::io::Result<()> {
            self.move_cursor(n, 'C')
        }

        fn move_cursor_left(&self, n: usize) -> std::io::Result<()> {
            self.move_cursor(n, 'D')
        }

        fn write_line(&self, line: &str) -> std::io::Result<()> {
            self.write(&format!("{line}\n"))
        }

        fn write_str(&self, text: &str) -> std::io::Result<()> {
            self.write(text)
        }

        fn clear_line(&self) -> std::io::Result<()> {
            self.write("\r\x1b[2K")
        }

        fn flush(&self) -> std::io::Result<()> {
            std::io::stderr().flush()
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        fn source(
            start: Option<Value>,
            end: Value,
            latest: Value,
            rows: u64,
            metrics: &[(&str, &str)],
        ) -> SourceProgress {
            SourceProgress {
                description: "s".into(),
                start_offset: start,
                end_offset: Some(end),
                latest_offset: Some(latest),
                num_input_rows: rows,
                metrics: metrics
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
                ..Default::default()
            }
        }

        fn batch(id: u64, sources: Vec<SourceProgress>) -> StreamingQueryProgress {
            StreamingQueryProgress {
                batch_id: id,
                num_input_rows: sources.iter().map(|s| s.num_input_rows).sum(),
                sources,
                ..Default::default()
            }
        }

        fn files(read: u64, outstanding: u64, rows: u64) -> SourceProgress {
            let (read, outstanding) = (read.to_string(), outstanding.to_string());
            source(
                None,
                serde_json::json!({"logOffset": 0}),
                serde_json::json!({"logOffset": 0}),
                rows,
                &[
                    (FileSource::METRIC_FILES_READ, &read),
                    (FileSource::METRIC_FILES_OUTSTANDING, &outstanding),
                ],
            )
        }

        #[test]
        fn files_count_read_against_read_plus_outstanding() {
            let mut counts = RunCounts::default();
            counts.add(&batch(0, vec![files(1, 2, 10)]));
            assert_eq!(counts.done_of_total(), Some((1, 3, "files".into())));
            counts.add(&batch(1, vec![files(1, 1, 10)]));
            counts.add(&batch(2, vec![files(1, 0, 10)]));
            assert_eq!(counts.done_of_total(), Some((3, 3, "files".into())));
            assert_eq!((counts.rows, counts.batches), (30, 3));
        }

        #[test]
        fn kafka_counts_offsets_read_against_the_offsets_behind_the_latest() {
            let kafka = |start: Option<Value>, end: Value, avg: &str, rows: u64| {
                source(
                    start,
                    end.clone(),
                    end,
                    rows,
                    &[(MIN_OFFSETS_BEHIND, "0"), (AVG_OFFSETS_BEHIND, avg)],
                )
            };
            let mut counts = RunCounts::default();
            // two partitions, 10 and 20 offsets behind after the first batch of 8 rows
            counts.add(&batch(
                0,
                vec![kafka(
                    None,
                    serde_json::json!({"t": {"0": 5, "1": 3}}),
                    "15.0",
                    8,
                )],
            ));
            assert_eq!(counts.done_of_total(), Some((8, 38, "offsets".into())));
            counts.add(&batch(
                1,
                vec![kafka(
                    Some(serde_json::json!({"t": {"0": 5, "1": 3}})),
                    serde_json::json!({"t": {"0": 15, "1": 23}}),
                    "0.0",
                    30,
                )],
            ));
            assert_eq!(counts.done_of_total(), Some((38, 38, "offsets".into())));
        }

        #[test]
        fn integer_offsets_count_end_minus_start_against_latest() {
            let mut counts = RunCounts::default();
            let n = |v: i64| serde_json::json!(v);
            counts.add(&batch(0, vec![source(None, n(4), n(10), 40, &[])]));
            assert_eq!(counts.done_of_total(), Some((4, 10, "offsets".into())));
            counts.add(&batch(1, vec![source(Some(n(4)), n(10), n(10), 60, &[])]));
            assert_eq!(counts.done_of_total(), Some((10, 10, "offsets".into())));
        }

        #[test]
        fn units_of_several_sources_sum_into_one_bar() {
            let mut counts = RunCounts::default();
            let n = |v: i64| serde_json::json!(v);
            counts.add(&batch(
                0,
                vec![files(2, 1, 5), source(None, n(3), n(7), 3, &[])],
            ));
            assert_eq!(
                counts.done_of_total(),
                Some((5, 10, "files + offsets".into()))
            );
            // a source without new data in a batch keeps its counts
            let idle = SourceProgress {
                description: "s".into(),
                ..Default::default()
            };
            counts.add(&batch(1, vec![files(1, 0, 5), idle]));
            assert_eq!(
                counts.done_of_total(),
                Some((6, 10, "files + offsets".into()))
            );
        }

        #[test]
        fn a_source_without_a_backlog_leaves_the_total_unknown() {
            let mut counts = RunCounts::default();
            let opaque = source(
                None,
                serde_json::json!({"version": "a"}),
                serde_json::json!({"version": "a"}),
                5,
                &[],
            );
            counts.add(&batch(0, vec![files(1, 0, 5), opaque]));
            assert_eq!(counts.done_of_total(), None);
            assert_eq!(counts.rows, 10);
            // no record yet: no total either
            assert_eq!(RunCounts::default().done_of_total(), None);
            // a file source re-running a batch after a restart says what it read, not what
            // is left: the total is known from its next batch on
            let mut counts = RunCounts::default();
            let mut rerun = files(1, 0, 5);
            rerun.metrics.remove(FileSource::METRIC_FILES_OUTSTANDING);
            counts.add(&batch(0, vec![rerun]));
            assert_eq!(counts.done_of_total(), None);
            counts.add(&batch(1, vec![files(1, 1, 5)]));
            assert_eq!(counts.done_of_total(), Some((2, 3, "files".into())));
        }

        #[cfg(feature = "kafka")]
        #[test]
        fn the_kafka_metric_names_are_the_kafka_sources() {
            use crate::kafka::KafkaSource;
            assert_eq!(MIN_OFFSETS_BEHIND, KafkaSource::METRIC_MIN_OFFSETS_BEHIND);
            assert_eq!(AVG_OFFSETS_BEHIND, KafkaSource::METRIC_AVG_OFFSETS_BEHIND);
        }

        #[test]
        fn the_bar_is_for_bounded_runs_on_a_terminal_unless_the_environment_says() {
            use std::time::Duration;
            assert_eq!(wanted(Trigger::AvailableNow, None, true), Some(false));
            assert_eq!(wanted(Trigger::Once, None, true), Some(false));
            assert_eq!(wanted(Trigger::AvailableNow, None, false), None);
            assert_eq!(wanted(Trigger::Default, None, true), None);
            let every_second = Trigger::ProcessingTime(Duration::from_secs(1));
            assert_eq!(wanted(every_second, Some("on"), true), None);
            assert_eq!(wanted(Trigger::AvailableNow, Some("off"), true), None);
            assert_eq!(wanted(Trigger::AvailableNow, Some("OFF"), true), None);
            assert_eq!(wanted(Trigger::AvailableNow, Some("on"), false), Some(true));
            assert_eq!(wanted(Trigger::AvailableNow, Some("on"), true), Some(false));
        }
    }
}

/// Without the `progress-bar` feature: no bar, and nothing to count.
#[cfg(not(feature = "progress-bar"))]
mod off {
    use crate::Trigger;
    use crate::progress::StreamingQueryProgress;

    /// Draws nothing.
    pub(crate) struct RunProgressBar;

    impl RunProgressBar {
        pub(crate) fn for_run(_trigger: Trigger) -> Self {
            RunProgressBar
        }

        pub(crate) fn trigger_started(&mut self, _batch_id: u64) {}

        pub(crate) fn batch_done(&mut self, _progress: Option<&StreamingQueryProgress>) {}

        pub(crate) fn finish(&mut self) {}
    }
}
