//! [`RateSource`]: rows at a fixed rate, for tests and benchmarks (Spark's `rate` source).

use std::sync::Arc;
use std::time::Duration;

use arrow_array::{Int64Array, RecordBatch, TimestampMicrosecondArray};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use serde::{Deserialize, Serialize};

use super::{ReadLimit, Source, SourceContext};
use crate::checkpoint::MetadataLog;
use crate::clock::Clock;
use crate::{Offset, Result, StreamError};

/// Generates `rows_per_second` rows per second of the query's clock, with Spark's
/// `rate` source schema and values: `timestamp` (`Timestamp(µs, "UTC")`, not null) and
/// `value` (`Int64`, not null, counting up from 0).
///
/// The offset is the number of whole seconds since the source first started, as a JSON
/// number. The start time is kept in the source's checkpoint folder, so a restarted
/// query reads exactly the same rows for the same range. As in Spark:
/// - [`Source::latest_offset`] is `0` right after the start (a first batch without
///   rows) and never goes back, even if the clock does;
/// - with a ramp-up time, the rate grows linearly to `rows_per_second` over that time;
/// - the rows of second `(s-1, s]` get timestamps spread evenly over that second
///   (rounded to whole milliseconds).
///
/// A range is read as at most `num_partitions` non-empty record batches, each a
/// contiguous run of values (Spark interleaves values across partitions instead; the
/// rows are the same). Per-trigger [`ReadLimit`]s are ignored, as in Spark.
///
/// Invalid options are reported by [`Source::open`] (when the query starts) as
/// [`StreamError::InvalidOption`].
///
/// ```
/// use std::sync::Arc;
/// use stream_core::{Clock, ManualClock, RateSource, ReadLimit, Source, SourceContext};
///
/// let dir = tempfile::tempdir().unwrap();
/// let clock = ManualClock::new(1_000_000);
/// let mut rate = RateSource::new(5);
/// let ctx = SourceContext { metadata_dir: dir.path().join("sources/0"), clock: Arc::new(clock.clone()), index: 0 };
/// rate.open(&ctx).unwrap();
/// clock.advance(2_000);
/// let end = rate.latest_offset(None, ReadLimit::All).unwrap().unwrap();
/// assert_eq!(end.json(), "2");
/// let rows: usize = rate.read(None, &end).unwrap().iter().map(|b| b.num_rows()).sum();
/// assert_eq!(rows, 10);
/// ```
#[derive(Debug)]
pub struct RateSource {
    rows_per_second: u64,
    ramp_up_time: Duration,
    num_partitions: usize,
    schema: SchemaRef,
    state: Option<Running>,
}

/// What the source knows once opened.
#[derive(Debug)]
struct Running {
    clock: Arc<dyn Clock>,
    start_ms: i64,
    /// The newest time seen, so the offset never goes back.
    last_time_ms: i64,
    rows_per_second: i64,
    ramp_up_seconds: i64,
}

/// Entry 0 of the source's log.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StartRecord {
    start_time_ms: i64,
}

impl RateSource {
    /// A rate source producing `rows_per_second` rows per second (at least 1), without
    /// ramp-up, in one partition.
    ///
    /// ```
    /// use stream_core::{RateSource, Source};
    /// let rate = RateSource::new(100);
    /// assert_eq!(rate.schema().fields().len(), 2);
    /// ```
    pub fn new(rows_per_second: u64) -> Self {
        let schema = Schema::new(vec![
            Field::new(
                "timestamp",
                DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
                false,
            ),
            Field::new("value", DataType::Int64, false),
        ]);
        RateSource {
            rows_per_second,
            ramp_up_time: Duration::ZERO,
            num_partitions: 1,
            schema: Arc::new(schema),
            state: None,
        }
    }

    /// Grows the rate linearly from 0 to `rows_per_second` over `time` (Spark's
    /// `rampUpTime`). It must be a whole number of seconds.
    ///
    /// ```
    /// use std::time::Duration;
    /// use stream_core::{RateSource, Source};
    /// let rate = RateSource::new(10).ramp_up_time(Duration::from_secs(4));
    /// assert!(rate.description().contains("rampUpTimeSeconds=4"));
    /// ```
    pub fn ramp_up_time(mut self, time: Duration) -> Self {
        self.ramp_up_time = time;
        self
    }

    /// How many record batches a range is split into (at least 1; default 1).
    ///
    /// ```
    /// use stream_core::{RateSource, Source};
    /// let rate = RateSource::new(10).num_partitions(4);
    /// assert!(rate.description().contains("numPartitions=4"));
    /// ```
    pub fn num_partitions(mut self, n: usize) -> Self {
        self.num_partitions = n;
        self
    }

    /// Checks the options, returning them in the types the arithmetic uses.
    fn validated(&self) -> Result<(i64, i64)> {
        let invalid = |name: &str, message: String| StreamError::InvalidOption {
            name: name.to_string(),
            message,
        };
        let rows = i64::try_from(self.rows_per_second)
            .ok()
            .filter(|&r| r >= 1)
            .ok_or_else(|| {
                invalid(
                    "rows_per_second",
                    format!(
                        "must be between 1 and {}, got {}",
                        i64::MAX,
                        self.rows_per_second
                    ),
                )
            })?;
        if self.num_partitions == 0 {
            return Err(invalid(
                "num_partitions",
                "must be at least 1, got 0".into(),
            ));
        }
        if self.ramp_up_time.subsec_nanos() != 0 {
            return Err(invalid(
                "ramp_up_time",
                format!(
                    "must be a whole number of seconds, got {:?}",
                    self.ramp_up_time
                ),
            ));
        }
        let ramp = i64::try_from(self.ramp_up_time.as_secs())
            .map_err(|_| invalid("ramp_up_time", "is too large".into()))?;
        Ok((rows, ramp))
    }

    fn running(&self) -> Result<&Running> {
        self.state
            .as_ref()
            .ok_or_else(|| self.error("the source was not opened".into()))
    }

    fn error(&self, message: String) -> StreamError {
        StreamError::Source {
            source_name: self.description(),
            message,
        }
    }

    /// Reads a seconds offset.
    fn seconds(&self, offset: &Offset) -> Result<i64> {
        offset
            .to_value::<u64>()
            .ok()
            .and_then(|s| i64::try_from(s).ok())
            .ok_or_else(|| self.error(format!("offset {offset} is not a number of seconds")))
    }
}

/// Reads the start time from entry 0 of `log`, or records `now_ms` there.
fn start_time(log: &MetadataLog, now_ms: i64) -> Result<i64> {
    if let Some(lines) = log.get(0)? {
        let path = log.path(0);
        let line = lines.first().map_or("", String::as_str);
        let record: StartRecord = serde_json::from_str(line).map_err(|e| {
            StreamError::corrupt(&path, format!("start time cannot be parsed: {e}"))
        })?;
        return Ok(record.start_time_ms);
    }
    let record = StartRecord {
        start_time_ms: now_ms,
    };
    let json = serde_json::to_string(&record)
        .map_err(|e| StreamError::InvalidQuery(format!("start time cannot be written: {e}")))?;
    log.add(0, &[json])?;
    tracing::info!(start_time_ms = now_ms, "rate source started");
    Ok(now_ms)
}

/// The number of values produced in the first `seconds` seconds (Spark's
/// `RateStreamProvider.valueAtSecond`); `None` on overflow.
fn value_at_second(seconds: i64, rows_per_second: i64, ramp_up_seconds: i64) -> Option<i64> {
    // The speed grows by `delta` each second of the ramp-up: 0, delta, 2 delta, ...
    let delta = rows_per_second / ramp_up_seconds.checked_add(1)?;
    if seconds <= ramp_up_seconds {
        // delta * seconds * (seconds + 1) / 2, halving the even factor first
        if seconds % 2 == 1 {
            ((seconds + 1) / 2).checked_mul(delta)?.checked_mul(seconds)
        } else {
            (seconds / 2).checked_mul(delta)?.checked_mul(seconds + 1)
        }
    } else {
        let ramp_up_part = value_at_second(ramp_up_seconds, rows_per_second, ramp_up_seconds)?;
        (seconds - ramp_up_seconds)
            .checked_mul(rows_per_second)?
            .checked_add(ramp_up_part)
    }
}

/// The rows of values `[range_start, range_end)` spread over `span_ms` from `start_ms`.
#[derive(Clone, Copy, Debug)]
struct Range {
    range_start: i64,
    range_end: i64,
    start_ms: i64,
    ms_per_value: f64,
}

impl Range {
    /// The timestamp (µs) of `value`: Spark's `round((v - rangeStart) * relativeMsPerValue)`
    /// milliseconds after the range's start. [`Running::range`] checked that the last one fits.
    fn timestamp_us(&self, value: i64) -> i64 {
        let relative_ms = ((value - self.range_start) as f64 * self.ms_per_value).round() as i64;
        self.start_ms
            .saturating_add(relative_ms)
            .saturating_mul(1000)
    }

    /// The batch of values `[lo, hi)`.
    fn batch(&self, schema: &SchemaRef, lo: i64, hi: i64) -> Result<RecordBatch> {
        let values = Int64Array::from_iter_values(lo..hi);
        let times =
            TimestampMicrosecondArray::from_iter_values((lo..hi).map(|v| self.timestamp_us(v)))
                .with_timezone("UTC");
        Ok(RecordBatch::try_new(
            schema.clone(),
            vec![Arc::new(times), Arc::new(values)],
        )?)
    }

    /// `parts` contiguous, non-empty sub-ranges `[lo, hi)` covering the range.
    fn split(&self, parts: usize) -> Vec<(i64, i64)> {
        let n = i128::from(self.range_end - self.range_start);
        let parts = parts as i128;
        let bound = |i: i128| self.range_start + (n * i / parts) as i64;
        (0..parts)
            .map(|i| (bound(i), bound(i + 1)))
            .filter(|(lo, hi)| lo < hi)
            .collect()
    }
}

impl Running {
    fn range(&self, from_s: i64, to_s: i64) -> Option<Range> {
        let value = |s| value_at_second(s, self.rows_per_second, self.ramp_up_seconds);
        let (range_start, range_end) = (value(from_s)?, value(to_s)?);
        let start_ms = from_s.checked_mul(1000)?.checked_add(self.start_ms)?;
        let span_ms = (to_s - from_s).checked_mul(1000)?;
        // the last timestamp, in µs, must fit
        start_ms.checked_add(span_ms)?.checked_mul(1000)?;
        let ms_per_value = if range_end > range_start {
            span_ms as f64 / (range_end - range_start) as f64
        } else {
            0.0
        };
        Some(Range {
            range_start,
            range_end,
            start_ms,
            ms_per_value,
        })
    }
}

impl Source for RateSource {
    fn description(&self) -> String {
        format!(
            "RateStreamV2[rowsPerSecond={}, rampUpTimeSeconds={}, numPartitions={}]",
            self.rows_per_second,
            self.ramp_up_time.as_secs(),
            self.num_partitions
        )
    }

    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    /// Validates the options, then reads the start time from the source's log, or
    /// records the clock's time there on the first start.
    fn open(&mut self, ctx: &SourceContext) -> Result<()> {
        let (rows_per_second, ramp_up_seconds) = self.validated()?;
        let log = MetadataLog::open(&ctx.metadata_dir)?;
        let start_ms = start_time(&log, ctx.clock.now_ms())?;
        self.state = Some(Running {
            clock: ctx.clock.clone(),
            start_ms,
            last_time_ms: start_ms,
            rows_per_second,
            ramp_up_seconds,
        });
        Ok(())
    }

    fn latest_offset(
        &mut self,
        _start: Option<&Offset>,
        _limit: ReadLimit,
    ) -> Result<Option<Offset>> {
        let description = self.description();
        let state = self.state.as_mut().ok_or_else(|| StreamError::Source {
            source_name: description,
            message: "the source was not opened".into(),
        })?;
        state.last_time_ms = state.last_time_ms.max(state.clock.now_ms());
        let seconds = state.last_time_ms.saturating_sub(state.start_ms) / 1000;
        Offset::from_value(&seconds).map(Some)
    }

    fn read(&mut self, start: Option<&Offset>, end: &Offset) -> Result<Vec<RecordBatch>> {
        let from_s = start.map(|s| self.seconds(s)).transpose()?.unwrap_or(0);
        let to_s = self.seconds(end)?;
        if from_s > to_s {
            return Err(self.error(format!("start offset {from_s} is after end offset {to_s}")));
        }
        let range = self.running()?.range(from_s, to_s).ok_or_else(|| {
            self.error(format!(
                "the values or timestamps of seconds {from_s}..{to_s} overflow a 64-bit integer"
            ))
        })?;
        if let Some(state) = self.state.as_mut() {
            // after a restart, the offset must not go back behind a batch already planned
            let end_ms = state.start_ms.saturating_add(to_s.saturating_mul(1000));
            state.last_time_ms = state.last_time_ms.max(end_ms);
        }
        range
            .split(self.num_partitions)
            .into_iter()
            .map(|(lo, hi)| range.batch(&self.schema, lo, hi))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use arrow_array::cast::AsArray;
    use arrow_array::types::{Int64Type, TimestampMicrosecondType};

    use super::*;
    use crate::ManualClock;

    const START_MS: i64 = 1_700_000_000_000;

    fn open(rate: &mut RateSource, dir: &std::path::Path, clock: &ManualClock) -> Result<()> {
        rate.open(&SourceContext {
            metadata_dir: dir.join("sources/0"),
            clock: Arc::new(clock.clone()),
            index: 0,
        })
    }

    fn offset(s: u64) -> Offset {
        Offset::from_value(&s).unwrap()
    }

    /// (timestamp µs, value) of every row, in order.
    fn rows(batches: &[RecordBatch]) -> Vec<(i64, i64)> {
        batches
            .iter()
            .flat_map(|b| {
                let ts = b.column(0).as_primitive::<TimestampMicrosecondType>();
                let vs = b.column(1).as_primitive::<Int64Type>();
                ts.values()
                    .iter()
                    .copied()
                    .zip(vs.values().iter().copied())
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    fn opened(rate: RateSource) -> (RateSource, ManualClock, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let clock = ManualClock::new(START_MS);
        let mut rate = rate;
        open(&mut rate, dir.path(), &clock).unwrap();
        (rate, clock, dir)
    }

    #[test]
    fn offset_counts_whole_seconds_since_start() {
        let (mut rate, clock, _dir) = opened(RateSource::new(3));
        let latest = |r: &mut RateSource| {
            r.latest_offset(None, ReadLimit::All)
                .unwrap()
                .unwrap()
                .json()
        };
        assert_eq!(latest(&mut rate), "0");
        clock.advance(999);
        assert_eq!(latest(&mut rate), "0");
        clock.advance(1);
        assert_eq!(latest(&mut rate), "1");
        clock.advance(4_500);
        assert_eq!(latest(&mut rate), "5");
    }

    #[test]
    fn produces_rows_per_second_with_evenly_spread_timestamps() {
        let rps = 4;
        let (mut rate, clock, _dir) = opened(RateSource::new(rps));
        clock.advance(3_000);
        let end = rate.latest_offset(None, ReadLimit::All).unwrap().unwrap();
        let got = rows(&rate.read(None, &end).unwrap());
        assert_eq!(got.len(), 3 * rps as usize);
        for (i, (ts, v)) in got.iter().enumerate() {
            assert_eq!(*v, i as i64);
            // value v is produced 1000/rps ms after value v-1
            assert_eq!(*ts, (START_MS + *v * 1000 / rps as i64) * 1000);
        }
        let second = rows(&rate.read(Some(&offset(1)), &offset(2)).unwrap());
        assert_eq!(second.first(), Some(&((START_MS + 1000) * 1000, 4)));
        assert_eq!(second.len(), 4);
    }

    #[test]
    fn schema_is_sparks() {
        let rate = RateSource::new(1);
        let schema = rate.schema();
        assert_eq!(schema.field(0).name(), "timestamp");
        assert_eq!(
            schema.field(0).data_type(),
            &DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
        );
        assert_eq!(schema.field(1).name(), "value");
        assert_eq!(schema.field(1).data_type(), &DataType::Int64);
        let (mut rate, clock, _dir) = opened(rate);
        clock.advance(1_000);
        let batches = rate.read(None, &offset(1)).unwrap();
        assert_eq!(batches[0].schema(), schema);
    }

    #[test]
    fn ramp_up_grows_the_rate_linearly() {
        // Spark's example: rampUpTime 4s, 10 rows/s -> speeds 2, 4, 6, 8, then 10
        let (mut rate, _clock, _dir) =
            opened(RateSource::new(10).ramp_up_time(Duration::from_secs(4)));
        let per_second: Vec<usize> = (1..=7)
            .map(|s| {
                let batches = rate.read(Some(&offset(s - 1)), &offset(s)).unwrap();
                batches.iter().map(RecordBatch::num_rows).sum()
            })
            .collect();
        assert_eq!(per_second, vec![2, 4, 6, 8, 10, 10, 10]);
        let all = rows(&rate.read(None, &offset(7)).unwrap());
        let values: Vec<i64> = all.iter().map(|r| r.1).collect();
        assert_eq!(values, (0..50).collect::<Vec<_>>());
    }

    #[test]
    fn ramp_up_timestamps_stay_within_their_second() {
        let (mut rate, _clock, _dir) =
            opened(RateSource::new(10).ramp_up_time(Duration::from_secs(4)));
        let third = rows(&rate.read(Some(&offset(2)), &offset(3)).unwrap());
        // 6 values in second (2, 3]: 1000/6 ms apart, rounded
        let expected: Vec<i64> = (0..6)
            .map(|i| (START_MS + 2_000 + (i as f64 * 1000.0 / 6.0).round() as i64) * 1000)
            .collect();
        assert_eq!(third.iter().map(|r| r.0).collect::<Vec<_>>(), expected);
    }

    #[test]
    fn slow_rate_during_ramp_up_gives_no_rows() {
        // 3 rows/s over a 4 s ramp-up: speed step 3 / 5 = 0, so nothing until it ends
        let (mut rate, _clock, _dir) =
            opened(RateSource::new(3).ramp_up_time(Duration::from_secs(4)));
        assert!(rate.read(None, &offset(4)).unwrap().is_empty());
        let after = rows(&rate.read(Some(&offset(4)), &offset(5)).unwrap());
        assert_eq!(after.iter().map(|r| r.1).collect::<Vec<_>>(), vec![0, 1, 2]);
    }

    #[test]
    fn partitions_are_contiguous_value_ranges() {
        let (mut rate, _clock, _dir) = opened(RateSource::new(10).num_partitions(3));
        let batches = rate.read(None, &offset(1)).unwrap();
        let sizes: Vec<usize> = batches.iter().map(RecordBatch::num_rows).collect();
        assert_eq!(sizes.len(), 3);
        assert_eq!(sizes.iter().sum::<usize>(), 10);
        assert!(sizes.iter().all(|&n| n == 3 || n == 4), "{sizes:?}");
        let values: Vec<i64> = rows(&batches).iter().map(|r| r.1).collect();
        assert_eq!(values, (0..10).collect::<Vec<_>>());
    }

    #[test]
    fn fewer_rows_than_partitions_gives_no_empty_batches() {
        let (mut rate, _clock, _dir) = opened(RateSource::new(2).num_partitions(8));
        let batches = rate.read(None, &offset(1)).unwrap();
        assert_eq!(batches.len(), 2);
        assert!(batches.iter().all(|b| b.num_rows() == 1));
    }

    #[test]
    fn empty_range_gives_no_batches() {
        let (mut rate, _clock, _dir) = opened(RateSource::new(5));
        assert!(rate.read(None, &offset(0)).unwrap().is_empty());
        assert!(rate.read(Some(&offset(2)), &offset(2)).unwrap().is_empty());
    }

    #[test]
    fn restart_reuses_the_recorded_start_time() {
        let dir = tempfile::tempdir().unwrap();
        let clock = ManualClock::new(START_MS);
        let mut first = RateSource::new(7);
        open(&mut first, dir.path(), &clock).unwrap();
        clock.advance(5_250);
        let end = first.latest_offset(None, ReadLimit::All).unwrap().unwrap();
        let before = first.read(Some(&offset(2)), &end).unwrap();

        // a new process, much later, on the same checkpoint
        let later = ManualClock::new(START_MS + 60_000);
        let mut second = RateSource::new(7);
        open(&mut second, dir.path(), &later).unwrap();
        let after = second.read(Some(&offset(2)), &end).unwrap();
        assert_eq!(rows(&before), rows(&after));
        assert!(!rows(&after).is_empty());
        let latest = second.latest_offset(None, ReadLimit::All).unwrap().unwrap();
        assert_eq!(latest.json(), "60");
    }

    #[test]
    fn offset_does_not_go_back_after_reading_a_later_range() {
        // a restarted query re-reads a batch planned further than the clock now says
        let (mut rate, _clock, _dir) = opened(RateSource::new(1));
        rate.read(None, &offset(9)).unwrap();
        let latest = rate.latest_offset(None, ReadLimit::All).unwrap().unwrap();
        assert_eq!(latest.json(), "9");
    }

    #[test]
    fn corrupt_start_record_is_an_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let log = MetadataLog::open(dir.path().join("sources/0")).unwrap();
        log.add(0, &["not json".to_string()]).unwrap();
        let err = open(&mut RateSource::new(1), dir.path(), &ManualClock::new(0)).unwrap_err();
        assert!(
            matches!(err, StreamError::CorruptCheckpoint { .. }),
            "{err}"
        );
        assert!(err.to_string().contains("sources/0/0"), "{err}");
    }

    fn invalid_option(rate: RateSource) -> String {
        let dir = tempfile::tempdir().unwrap();
        let mut rate = rate;
        match open(&mut rate, dir.path(), &ManualClock::new(0)) {
            Err(StreamError::InvalidOption { name, .. }) => name,
            other => panic!("expected an invalid option, got {other:?}"),
        }
    }

    #[test]
    fn invalid_options_are_rejected_at_open() {
        assert_eq!(invalid_option(RateSource::new(0)), "rows_per_second");
        assert_eq!(invalid_option(RateSource::new(u64::MAX)), "rows_per_second");
        assert_eq!(
            invalid_option(RateSource::new(1).num_partitions(0)),
            "num_partitions"
        );
        let half = RateSource::new(1).ramp_up_time(Duration::from_millis(1_500));
        assert_eq!(invalid_option(half), "ramp_up_time");
    }

    #[test]
    fn use_before_open_is_an_error() {
        let mut rate = RateSource::new(1);
        assert!(rate.latest_offset(None, ReadLimit::All).is_err());
        assert!(rate.read(None, &offset(1)).is_err());
    }

    #[test]
    fn overflowing_range_is_an_error_not_a_panic() {
        let (mut rate, _clock, _dir) = opened(RateSource::new(i64::MAX as u64));
        let err = rate.read(None, &offset(3)).unwrap_err();
        assert!(err.to_string().contains("overflow"), "{err}");
    }

    #[test]
    fn start_after_end_is_an_error() {
        let (mut rate, _clock, _dir) = opened(RateSource::new(1));
        assert!(rate.read(Some(&offset(3)), &offset(2)).is_err());
    }

    #[test]
    fn value_at_second_matches_sparks_table() {
        // rampUpTimeSeconds = 4, rowsPerSecond = 10 (from Spark's RateStreamProvider)
        let ends: Vec<i64> = (0..=6)
            .map(|s| value_at_second(s, 10, 4).unwrap())
            .collect();
        assert_eq!(ends, vec![0, 2, 6, 12, 20, 30, 40]);
        assert_eq!(value_at_second(5, 3, 0), Some(15));
        assert_eq!(value_at_second(i64::MAX, 2, 0), None);
    }
}
