//! `with_watermark(ts, delay)`: the event times a batch brings, reported for the next
//! watermark and the progress record (`eventTime`: min, max, avg).

use arrow_array::types::{TimestampMicrosecondType, TimestampMillisecondType};
use arrow_array::{Array, RecordBatch};

use super::kernels::primitive;
use super::stateful::to_ms;
use crate::Result;
use crate::metrics::EventTimeStats;
use crate::pipeline::TaskContext;

/// Reports the event times of column `column` of `batch` (ticks of `unit_per_ms` per
/// millisecond) as those of watermark operator `id`, whose delay is `delay_ms`.
///
/// ```
/// use std::sync::Arc;
/// use arrow_array::{RecordBatch, TimestampMillisecondArray};
/// use stream_core::EventTimeStats;
/// use stream_core::__private::event_time_stats;
///
/// let ts = TimestampMillisecondArray::from(vec![Some(3), None, Some(9)]);
/// let batch = RecordBatch::try_from_iter([("ts", Arc::new(ts) as _)]).unwrap();
/// let stats = event_time_stats(&batch, 0, 1).unwrap().unwrap();
/// assert_eq!((stats.min, stats.max, stats.sum, stats.count), (3, 9, 12, 2));
/// ```
pub fn observe_event_times(
    ctx: &TaskContext,
    batch: &RecordBatch,
    column: usize,
    unit_per_ms: i64,
    id: usize,
    delay_ms: i64,
) -> Result<()> {
    if let Some(stats) = event_time_stats(batch, column, unit_per_ms)? {
        ctx.metrics.observe_event_times(id, delay_ms, stats);
    }
    Ok(())
}

/// The stats of the event times of column `column` of `batch`, in ms; `None` when every
/// row's is null (or there are no rows).
pub fn event_time_stats(
    batch: &RecordBatch,
    column: usize,
    unit_per_ms: i64,
) -> Result<Option<EventTimeStats>> {
    if unit_per_ms != 1 {
        let times = primitive::<TimestampMicrosecondType>(batch, column, "event time")?;
        return Ok(EventTimeStats::of(
            times.iter().map(|t| t.map(|t| to_ms(t, unit_per_ms))),
        ));
    }
    let times = primitive::<TimestampMillisecondType>(batch, column, "event time")?;
    if times.null_count() > 0 {
        return Ok(EventTimeStats::of(times.iter()));
    }
    Ok(dense_stats(times.values()))
}

/// The stats of `times`, none null, in one pass: min, max, and the sum in two `i64`
/// halves per chunk (exact in `i128`, without an `i128` add per time).
fn dense_stats(times: &[i64]) -> Option<EventTimeStats> {
    // per chunk: each high half is below 2^47 in size, so 2^15 of them fit an i64
    const CHUNK: usize = 1 << 15;
    let (&first, _) = times.split_first()?;
    let (mut min, mut max, mut sum) = (first, first, 0i128);
    for chunk in times.chunks(CHUNK) {
        let (mut high, mut low) = (0i64, 0i64);
        for &t in chunk {
            min = min.min(t);
            max = max.max(t);
            high += t >> 16;
            low += t & 0xFFFF;
        }
        sum += (i128::from(high) << 16) + i128::from(low);
    }
    Some(EventTimeStats {
        min,
        max,
        sum,
        count: times.len() as u64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dense_stats_are_the_stats_of_every_time_even_at_the_ends_of_i64() {
        let cases: Vec<Vec<i64>> = vec![
            vec![5],
            vec![-7, 3, 1_700_000_000_000, -1],
            vec![i64::MAX; 70_000],
            vec![i64::MIN; 70_000],
            (0..100_000)
                .map(|i| (i * 7_919) % 65_537 - 30_000)
                .collect(),
            (0..70_000)
                .map(|i| if i % 2 == 0 { i64::MAX } else { i64::MIN })
                .collect(),
        ];
        for times in cases {
            assert_eq!(
                dense_stats(&times),
                EventTimeStats::of(times.iter().copied().map(Some)),
                "{} times from {}",
                times.len(),
                times[0]
            );
        }
        assert_eq!(dense_stats(&[]), None);
    }
}
