//! The micro-batch loop: Spark's `MicroBatchExecution`.
//!
//! Per batch N: ask each source for its newest offset (capped by its limit); write
//! `offsets/N`; read exactly those ranges and run the pipeline; hand the output to the
//! sink with id N; write `commits/N`; tell the sources. On start, an `offsets/N` without
//! `commits/N` is re-run with the same ranges before anything new.

mod executor;
#[cfg(test)]
mod late_rows_tests;
mod progress_bar;
mod recovery;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;

use crate::checkpoint::{BatchMetadata, Checkpoint, CommitRecord, OffsetSeq, RunFailure};
use crate::clock::Clock;
use crate::fault::{FaultPoint, Faults};
use crate::metrics::{BatchMetrics, next_watermark};
use crate::pipeline::{Pipeline, PipelineInfo, StateContext};
use crate::progress::{SinkProgress, SourceProgress, StreamingQueryProgress, format_timestamp};
use crate::query::QueryInner;
use crate::sink::{Sink, SinkBatch};
use crate::source::{ReadLimit, Source};
use crate::{Offset, OutputMode, Result, StreamError, Trigger};

pub(crate) use executor::{BatchFacts, panic_message};
pub(crate) use recovery::{ResumePoint, recover};

/// How long the default trigger waits before asking idle sources again.
const POLLING_DELAY: Duration = Duration::from_millis(10);

/// The conf key that fixes the number of shuffle partitions for a checkpoint.
pub(crate) const CONF_SHUFFLE_PARTITIONS: &str = "stream.shuffle.partitions";

/// Everything one running query owns.
pub(crate) struct MicroBatchExecution {
    pub(crate) query: Arc<QueryInner>,
    pub(crate) sources: Vec<Box<dyn Source>>,
    pub(crate) pipeline: Box<dyn Pipeline>,
    pub(crate) info: PipelineInfo,
    pub(crate) sink: Box<dyn Sink>,
    pub(crate) output_mode: OutputMode,
    pub(crate) trigger: Trigger,
    pub(crate) checkpoint: Checkpoint,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) parallelism: usize,
    pub(crate) min_batches_to_retain: u64,
    pub(crate) faults: Arc<Faults>,
    pub(crate) resume: ResumePoint,
    /// Where stateful operators keep their state.
    pub(crate) state: Arc<StateContext>,
    /// Where the rows stateful operators drop as late go, if anywhere.
    pub(crate) late_rows: Option<LateRowsSink>,
    /// Each watermark operator's own watermark (Spark keeps them in memory only: after
    /// a restart they start again from the query's watermark).
    pub(crate) operator_watermarks: BTreeMap<usize, i64>,
}

/// The second sink of a query: the rows its stateful operators dropped as late.
///
/// The late rows of batch N are handed over with batch id N, in append mode, after the
/// main sink has batch N and before `commits/N`, on every run of batch N (an empty
/// batch when there were none), so a re-run batch replaces or skips them exactly as the
/// main sink does.
pub(crate) struct LateRowsSink {
    pub(crate) sink: Box<dyn Sink>,
    /// The schema of the late rows (the stateful operator's input).
    pub(crate) schema: SchemaRef,
}

/// A source's metrics of one read ([`Source::metrics`]).
type SourceMetrics = BTreeMap<String, String>;

/// Timings of one trigger, for the progress record.
#[derive(Default)]
struct Timings(BTreeMap<String, i64>);

impl Timings {
    fn time<T>(&mut self, clock: &dyn Clock, phase: &str, f: impl FnOnce() -> T) -> T {
        let start = clock.now_ms();
        let out = f();
        *self.0.entry(phase.to_string()).or_default() += clock.now_ms() - start;
        out
    }
}

impl MicroBatchExecution {
    /// Runs triggers until the trigger says stop, `stop()` is called or a batch fails.
    pub(crate) fn run(&mut self) -> Result<()> {
        if self.trigger == Trigger::AvailableNow {
            for source in &mut self.sources {
                source.prepare_for_available_now()?;
            }
        }
        let mut last_trigger_ms: Option<i64> = None;
        let mut bar = progress_bar::RunProgressBar::for_run(self.trigger);
        while !self.query.stop_requested() {
            let trigger_ms = self.clock.now_ms();
            bar.trigger_started(self.resume.next_batch_id);
            let ran = self
                .run_trigger(trigger_ms, last_trigger_ms)
                .map_err(|e| e.found_in_batch(self.resume.next_batch_id))?;
            if ran {
                last_trigger_ms = Some(trigger_ms);
                let query = crate::StreamingQuery {
                    inner: self.query.clone(),
                };
                bar.batch_done(query.last_progress().as_ref());
            }
            match self.trigger {
                Trigger::Once => break,
                Trigger::AvailableNow if !ran => break,
                Trigger::AvailableNow => {}
                Trigger::Default if !ran => self.query.idle_wait(POLLING_DELAY),
                Trigger::Default => {}
                Trigger::ProcessingTime(_) => self.wait_for_next_trigger(trigger_ms),
            }
        }
        bar.finish();
        Ok(())
    }

    /// Sleeps on the clock until the next interval boundary after `trigger_ms`. A batch
    /// that overran its interval is followed at once by the next trigger.
    fn wait_for_next_trigger(&self, trigger_ms: i64) {
        let interval = self.trigger.interval_ms().max(1);
        let next = trigger_ms.div_euclid(interval) * interval + interval;
        let now = self.clock.now_ms();
        if now > trigger_ms + interval {
            tracing::warn!(
                query = %self.query.id,
                "current batch is falling behind: the trigger interval is {interval} ms but the batch took {} ms",
                now - trigger_ms
            );
        }
        let query = &self.query;
        self.clock.wait_till(next, &|| query.stop_requested());
    }

    /// One trigger: re-run a pending batch, or plan a new one if there is new data.
    /// Returns whether a batch ran.
    fn run_trigger(&mut self, trigger_ms: i64, last_trigger_ms: Option<i64>) -> Result<bool> {
        let caught_up_request = self.query.process_all_requests();
        self.query
            .set_status("Getting offsets from sources", false, true);
        let mut timings = Timings::default();
        let (batch_id, seq, latest) = match self.resume.pending.take() {
            Some((id, seq)) => {
                tracing::info!(query = %self.query.id, batch = id, "re-running uncommitted batch {id} with its logged offsets");
                let latest = seq.offsets.clone();
                (id, seq, latest)
            }
            None => {
                let clock = self.clock.clone();
                let latest = timings.time(&*clock, "latestOffset", || self.latest_offsets())?;
                // a stateful query runs a batch without input when the watermark moved,
                // so that windows it closes are emitted and their state evicted
                let no_data_batch = self.info.stateful
                    && self.resume.next_batch_id > 0
                    && self.resume.watermark_ms > self.resume.last_batch_watermark_ms;
                if latest == self.resume.committed && !no_data_batch {
                    self.query
                        .set_status("Waiting for data to arrive", false, false);
                    self.query.mark_caught_up(caught_up_request);
                    return Ok(false);
                }
                let id = self.resume.next_batch_id;
                let seq = OffsetSeq {
                    metadata: BatchMetadata {
                        batch_watermark_ms: self.resume.watermark_ms,
                        late_watermark_ms: Some(self.resume.last_batch_watermark_ms),
                        batch_timestamp_ms: trigger_ms,
                        conf: self.resume.conf.clone(),
                    },
                    offsets: latest.clone(),
                };
                timings.time(&*clock, "walCommit", || {
                    self.checkpoint.write_offsets(id, &seq)
                })?;
                self.faults.check(FaultPoint::AfterOffsetsWrite, id)?;
                (id, seq, latest)
            }
        };
        self.run_batch(batch_id, &seq, latest, trigger_ms, last_trigger_ms, timings)?;
        Ok(true)
    }

    fn latest_offsets(&mut self) -> Result<Vec<Option<Offset>>> {
        let once = self.trigger == Trigger::Once;
        self.sources
            .iter_mut()
            .zip(&self.resume.committed)
            .map(|(source, start)| {
                let limit = if once {
                    ReadLimit::All
                } else {
                    source.default_read_limit()
                };
                Ok(source
                    .latest_offset(start.as_ref(), limit)?
                    .or_else(|| start.clone()))
            })
            .collect()
    }

    fn run_batch(
        &mut self,
        batch_id: u64,
        seq: &OffsetSeq,
        latest: Vec<Option<Offset>>,
        trigger_ms: i64,
        last_trigger_ms: Option<i64>,
        mut timings: Timings,
    ) -> Result<()> {
        let clock = self.clock.clone();
        self.query.set_status("Processing new data", true, true);
        let (inputs, source_metrics) =
            timings.time(&*clock, "getBatch", || self.read_inputs(batch_id, seq))?;
        let rows_per_source: Vec<u64> = inputs
            .iter()
            .map(|b| b.iter().map(|b| b.num_rows() as u64).sum())
            .collect();
        timings.0.insert("queryPlanning".into(), 0);
        let metrics = Arc::new(BatchMetrics::default());
        let facts = BatchFacts {
            batch_id,
            parallelism: self.parallelism,
            shuffle_partitions: self.resume.shuffle_partitions,
            watermark_ms: seq.metadata.batch_watermark_ms,
            late_watermark_ms: seq
                .metadata
                .late_watermark_ms
                .unwrap_or(seq.metadata.batch_watermark_ms),
            batch_timestamp_ms: seq.metadata.batch_timestamp_ms,
            metrics: metrics.clone(),
            state: self.state.clone(),
        };
        let (output, num_late_rows) = timings.time(
            &*clock,
            "addBatch",
            || -> Result<(Vec<RecordBatch>, Option<usize>)> {
                let output = executor::execute(&*self.pipeline, &self.info, &facts, inputs)?;
                let batch = SinkBatch {
                    batch_id,
                    output_mode: self.output_mode,
                    schema: self.info.output_schema.clone(),
                    batches: output.clone(),
                    faults: &self.faults,
                };
                self.sink.add_batch(batch)?;
                self.faults.check(FaultPoint::AfterSinkWrite, batch_id)?;
                let late = match &mut self.late_rows {
                    Some(late) => Some(late.add_batch(batch_id, &metrics, &self.faults)?),
                    None => None,
                };
                Ok((output, late))
            },
        )?;
        let event_times = metrics.event_times();
        self.resume.watermark_ms = next_watermark(
            seq.metadata
                .batch_watermark_ms
                .max(self.resume.watermark_ms),
            &mut self.operator_watermarks,
            &self.info.watermark_operators,
            &event_times,
            self.info.watermark_policy,
        );
        self.faults.check(FaultPoint::BeforeCommit, batch_id)?;
        timings.time(&*clock, "commitOffsets", || self.commit(batch_id, seq))?;
        self.resume.last_batch_watermark_ms = seq.metadata.batch_watermark_ms;
        let starts = std::mem::replace(&mut self.resume.committed, seq.offsets.clone());
        self.resume.next_batch_id = batch_id + 1;
        let num_output_rows: usize = output.iter().map(RecordBatch::num_rows).sum();
        let end_ms = clock.now_ms();
        timings
            .0
            .insert("triggerExecution".into(), end_ms - trigger_ms);
        let progress = self.progress(ProgressFacts {
            batch_id,
            trigger_ms,
            end_ms,
            last_trigger_ms,
            starts,
            ends: seq.offsets.clone(),
            latest,
            rows_per_source,
            source_metrics,
            num_output_rows,
            num_late_rows,
            timings,
            watermark_ms: seq.metadata.batch_watermark_ms,
            metrics: &metrics,
        });
        // a monitoring record that cannot be written does not stop the query
        if let Err(e) = self.checkpoint.progress_log().write(&progress) {
            tracing::warn!(query = %self.query.id, "cannot keep batch {batch_id}'s progress record: {e}");
        }
        self.query.report_progress(progress);
        Ok(())
    }

    /// Reads each source's range of the batch; also returns each source's metrics of
    /// that read (empty for a source with nothing to read).
    fn read_inputs(
        &mut self,
        batch_id: u64,
        seq: &OffsetSeq,
    ) -> Result<(Vec<Vec<RecordBatch>>, Vec<SourceMetrics>)> {
        let mut inputs = Vec::with_capacity(self.sources.len());
        let mut metrics = Vec::with_capacity(self.sources.len());
        for (i, source) in self.sources.iter_mut().enumerate() {
            let start = self.resume.committed[i].as_ref();
            let batches = match (start, seq.offsets[i].as_ref()) {
                (_, None) => Vec::new(),
                (Some(s), Some(e)) if s == e => Vec::new(),
                (start, Some(end)) => {
                    let batches = source.read(start, end)?;
                    metrics.push(source.metrics());
                    batches
                }
            };
            metrics.resize_with(i + 1, BTreeMap::new);
            let expected = &self.info.input_schemas[i];
            if let Some(bad) = batches
                .iter()
                .find(|b| b.schema().fields() != expected.fields())
            {
                return Err(StreamError::SchemaMismatch {
                    context: format!("batch {batch_id}, source {i} (`{}`)", source.description()),
                    message: format!(
                        "the source returned {} but the pipeline expects {}",
                        bad.schema(),
                        expected
                    ),
                });
            }
            inputs.push(batches);
        }
        Ok((inputs, metrics))
    }

    fn commit(&mut self, batch_id: u64, seq: &OffsetSeq) -> Result<()> {
        let record = CommitRecord {
            next_batch_watermark_ms: self.resume.watermark_ms,
        };
        self.checkpoint.write_commit(batch_id, &record)?;
        for (source, end) in self.sources.iter_mut().zip(&seq.offsets) {
            if let Some(end) = end {
                source.commit(end)?;
            }
        }
        if batch_id + 1 > self.min_batches_to_retain {
            self.checkpoint
                .purge_before(batch_id + 1 - self.min_batches_to_retain)?;
        }
        Ok(())
    }

    fn progress(&self, f: ProgressFacts<'_>) -> StreamingQueryProgress {
        let event_time = self.event_time_progress(&f);
        let processing_secs = (f.end_ms - f.trigger_ms).max(1) as f64 / 1000.0;
        let input_secs = f
            .last_trigger_ms
            .map(|last| (f.trigger_ms - last) as f64 / 1000.0);
        let per_sec = |rows: u64, secs: Option<f64>| match secs {
            Some(s) if s > 0.0 => rows as f64 / s,
            _ => 0.0,
        };
        let total: u64 = f.rows_per_source.iter().sum();
        let sources = self
            .sources
            .iter()
            .enumerate()
            .map(|(i, s)| SourceProgress {
                description: s.description(),
                start_offset: f.starts[i].as_ref().map(|o| o.as_json().clone()),
                end_offset: f.ends[i].as_ref().map(|o| o.as_json().clone()),
                latest_offset: f.latest[i].as_ref().map(|o| o.as_json().clone()),
                num_input_rows: f.rows_per_source[i],
                input_rows_per_second: per_sec(f.rows_per_source[i], input_secs),
                processed_rows_per_second: per_sec(f.rows_per_source[i], Some(processing_secs)),
                metrics: f.source_metrics.get(i).cloned().unwrap_or_default(),
            })
            .collect();
        StreamingQueryProgress {
            id: self.query.id.clone(),
            run_id: self.query.run_id.clone(),
            name: self.query.name.clone(),
            timestamp: format_timestamp(f.trigger_ms),
            batch_id: f.batch_id,
            batch_duration: f.end_ms - f.trigger_ms,
            num_input_rows: total,
            input_rows_per_second: per_sec(total, input_secs),
            processed_rows_per_second: per_sec(total, Some(processing_secs)),
            duration_ms: f.timings.0,
            event_time,
            state_operators: f.metrics.state_operators(),
            sources,
            sink: SinkProgress {
                description: self.sink.description(),
                num_output_rows: i64::try_from(f.num_output_rows).unwrap_or(i64::MAX),
                metrics: BTreeMap::new(),
            },
            late_rows_sink: self.late_rows.as_ref().map(|late| SinkProgress {
                description: late.sink.description(),
                num_output_rows: i64::try_from(f.num_late_rows.unwrap_or(0)).unwrap_or(i64::MAX),
                metrics: BTreeMap::new(),
            }),
        }
    }

    /// Spark's `eventTime` map: the batch's watermark, and the min, max and average event
    /// time when the batch had some; empty for a query without a watermark, stateful or
    /// not, as in Spark (whose progress then has no `watermark`, not the epoch).
    fn event_time_progress(&self, f: &ProgressFacts<'_>) -> BTreeMap<String, String> {
        let seen = f.metrics.event_times();
        let mut out = BTreeMap::new();
        if seen.is_empty()
            && self.operator_watermarks.is_empty()
            && self.info.watermark_operators.is_empty()
        {
            return out;
        }
        let mut all: Option<crate::metrics::EventTimeStats> = None;
        for (stats, _) in seen.values() {
            all = Some(match all {
                None => *stats,
                Some(a) => crate::metrics::EventTimeStats {
                    min: a.min.min(stats.min),
                    max: a.max.max(stats.max),
                    sum: a.sum + stats.sum,
                    count: a.count + stats.count,
                },
            });
        }
        if let Some(a) = all.filter(|a| a.count > 0) {
            out.insert("min".to_string(), format_timestamp(a.min));
            out.insert("max".to_string(), format_timestamp(a.max));
            out.insert("avg".to_string(), format_timestamp(a.avg()));
        }
        out.insert("watermark".to_string(), format_timestamp(f.watermark_ms));
        out
    }

    /// Runs the query to its end and records how it ended. A panic in a source, the sink
    /// or a listener ends the query with [`StreamError::QueryPanicked`] instead of
    /// leaving its handles waiting forever.
    pub(crate) fn run_to_end(mut self) {
        let caught = |f: &mut dyn FnMut() -> Result<()>| {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|payload| {
                Err(StreamError::QueryPanicked {
                    message: panic_message(&*payload),
                })
            })
        };
        let result = caught(&mut || self.run());
        let closed = caught(&mut || {
            self.shut_down();
            Ok(())
        });
        let error = result.and(closed).err();
        if let Some(e) = &error {
            let failure = RunFailure {
                run_id: self.query.run_id.clone(),
                timestamp: format_timestamp(self.clock.now_ms()),
                message: e.to_string(),
            };
            if let Err(e) = self.checkpoint.progress_log().write_failure(&failure) {
                tracing::warn!(query = %self.query.id, "cannot keep the error in the checkpoint: {e}");
            }
        }
        self.query.finish(error);
    }

    /// Tells sources and sink that the query ends.
    pub(crate) fn shut_down(&mut self) {
        for source in &mut self.sources {
            source.stop();
        }
        self.sink.close();
        if let Some(late) = &mut self.late_rows {
            late.sink.close();
        }
    }
}

impl LateRowsSink {
    /// Hands the late rows the tasks of batch `batch_id` reported to the sink; returns
    /// how many there were.
    fn add_batch(
        &mut self,
        batch_id: u64,
        metrics: &BatchMetrics,
        faults: &Faults,
    ) -> Result<usize> {
        let batches = metrics.take_late_rows();
        if let Some(bad) = batches
            .iter()
            .find(|b| b.schema().fields() != self.schema.fields())
        {
            return Err(StreamError::SchemaMismatch {
                context: format!("batch {batch_id}, late rows"),
                message: format!(
                    "a stateful operator dropped rows of {} but the late-rows sink expects {}",
                    bad.schema(),
                    self.schema
                ),
            });
        }
        let rows = batches.iter().map(RecordBatch::num_rows).sum();
        self.sink.add_batch(SinkBatch {
            batch_id,
            output_mode: OutputMode::Append,
            schema: self.schema.clone(),
            batches,
            faults,
        })?;
        Ok(rows)
    }
}

struct ProgressFacts<'a> {
    batch_id: u64,
    trigger_ms: i64,
    end_ms: i64,
    last_trigger_ms: Option<i64>,
    starts: Vec<Option<Offset>>,
    ends: Vec<Option<Offset>>,
    latest: Vec<Option<Offset>>,
    rows_per_source: Vec<u64>,
    source_metrics: Vec<SourceMetrics>,
    num_output_rows: usize,
    /// Rows handed to the late-rows sink (`None` without one).
    num_late_rows: Option<usize>,
    timings: Timings,
    watermark_ms: i64,
    metrics: &'a BatchMetrics,
}
