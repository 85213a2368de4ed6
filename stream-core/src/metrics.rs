//! What the tasks of a batch report besides their rows: event times seen by watermark
//! operators, and the state operators' figures. The engine turns them into the next
//! watermark and the progress record.

use std::collections::BTreeMap;
use std::sync::Mutex;

use arrow_array::RecordBatch;

use crate::progress::StateOperatorProgress;

/// How the watermark of a query with several `with_watermark` operators is chosen
/// (Spark's `spark.sql.streaming.multipleWatermarkPolicy`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum WatermarkPolicy {
    /// The slowest input decides: no input's late rows are dropped early (the default).
    #[default]
    Min,
    /// The fastest input decides: rows of slower inputs may be dropped as late.
    Max,
}

/// Event times one watermark operator saw in a batch (ms since the epoch).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EventTimeStats {
    /// The smallest event time.
    pub min: i64,
    /// The largest event time.
    pub max: i64,
    /// The sum of the event times, for the average.
    pub sum: i128,
    /// How many rows had an event time.
    pub count: u64,
}

impl EventTimeStats {
    /// Stats of the event times `times` (nulls left out); `None` when there are none.
    ///
    /// ```
    /// use stream_core::EventTimeStats;
    /// let s = EventTimeStats::of([Some(5), None, Some(1)]).unwrap();
    /// assert_eq!((s.min, s.max, s.count), (1, 5, 2));
    /// ```
    pub fn of(times: impl IntoIterator<Item = Option<i64>>) -> Option<EventTimeStats> {
        let mut stats: Option<EventTimeStats> = None;
        for t in times.into_iter().flatten() {
            let s = stats.get_or_insert(EventTimeStats {
                min: t,
                max: t,
                sum: 0,
                count: 0,
            });
            s.min = s.min.min(t);
            s.max = s.max.max(t);
            s.sum += i128::from(t);
            s.count += 1;
        }
        stats
    }

    fn merge(&mut self, other: &EventTimeStats) {
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
        self.sum += other.sum;
        self.count += other.count;
    }

    /// The average event time.
    pub fn avg(&self) -> i64 {
        if self.count == 0 {
            return 0;
        }
        i64::try_from(self.sum / i128::from(self.count)).unwrap_or(self.max)
    }
}

/// The figures the tasks of one batch report; shared by all of them.
///
/// ```
/// use stream_core::{BatchMetrics, EventTimeStats, StateOperatorProgress};
///
/// let metrics = BatchMetrics::default();
/// metrics.observe_event_times(0, 60_000, EventTimeStats::of([Some(200_000)]).unwrap());
/// metrics.observe_event_times(0, 60_000, EventTimeStats::of([Some(100_000)]).unwrap());
/// assert_eq!(metrics.event_times()[&0].0.max, 200_000);
///
/// let mut part = StateOperatorProgress::default();
/// part.metrics.num_rows_total = 2;
/// metrics.add_state(0, "stateStoreSave", &part);
/// metrics.add_state(0, "stateStoreSave", &part);
/// assert_eq!(metrics.state_operators()[0].metrics.num_rows_total, 4);
/// ```
#[derive(Debug, Default)]
pub struct BatchMetrics {
    /// Per watermark operator: its event times and its delay.
    event_times: Mutex<BTreeMap<usize, (EventTimeStats, i64)>>,
    /// Per stateful operator, summed over partitions.
    state: Mutex<BTreeMap<usize, StateOperatorProgress>>,
    /// Rows stateful operators dropped as late, by (operator, stage, partition), for a
    /// query with a late-rows sink.
    late_rows: Mutex<BTreeMap<(usize, usize, usize), Vec<RecordBatch>>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl BatchMetrics {
    /// Watermark operator `operator` (numbered by the pipeline) with delay `delay_ms`
    /// saw `stats` in one task.
    pub fn observe_event_times(&self, operator: usize, delay_ms: i64, stats: EventTimeStats) {
        lock(&self.event_times)
            .entry(operator)
            .and_modify(|(s, _)| s.merge(&stats))
            .or_insert((stats, delay_ms));
    }

    /// Adds one partition's figures of stateful operator `operator`.
    pub fn add_state(&self, operator: usize, name: &str, part: &StateOperatorProgress) {
        let mut state = lock(&self.state);
        let total = state
            .entry(operator)
            .or_insert_with(|| StateOperatorProgress {
                operator_name: name.to_string(),
                ..Default::default()
            });
        total.metrics += part.metrics;
    }

    /// Per watermark operator: the event times of the batch and the operator's delay.
    pub fn event_times(&self) -> BTreeMap<usize, (EventTimeStats, i64)> {
        lock(&self.event_times).clone()
    }

    /// The stateful operators' figures, in operator order.
    pub fn state_operators(&self) -> Vec<StateOperatorProgress> {
        lock(&self.state).values().cloned().collect()
    }

    /// Stateful operator `operator`, in task `partition` of `stage`, dropped `rows` as
    /// late: they go to the query's late-rows sink (see
    /// [`crate::QueryBuilder::late_rows_sink`]). Generated code calls this only when the
    /// query has one. Empty batches are left out.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arrow_array::{Int64Array, RecordBatch};
    /// use arrow_schema::{DataType, Field, Schema};
    /// use stream_core::BatchMetrics;
    ///
    /// let schema = Arc::new(Schema::new(vec![Field::new("v", DataType::Int64, false)]));
    /// let rows = |v: i64| {
    ///     RecordBatch::try_new(schema.clone(), vec![Arc::new(Int64Array::from(vec![v]))]).unwrap()
    /// };
    /// let metrics = BatchMetrics::default();
    /// metrics.add_late_rows(0, 0, 1, vec![rows(2)]);
    /// metrics.add_late_rows(0, 0, 0, vec![rows(1)]);
    /// // in task order, whatever order the tasks finished in
    /// let late = metrics.take_late_rows();
    /// assert_eq!(late, vec![rows(1), rows(2)]);
    /// assert!(metrics.take_late_rows().is_empty());
    /// ```
    pub fn add_late_rows(
        &self,
        operator: usize,
        stage: usize,
        partition: usize,
        rows: Vec<RecordBatch>,
    ) {
        let rows: Vec<RecordBatch> = rows.into_iter().filter(|b| b.num_rows() > 0).collect();
        if rows.is_empty() {
            return;
        }
        lock(&self.late_rows)
            .entry((operator, stage, partition))
            .or_default()
            .extend(rows);
    }

    /// Takes the late rows reported so far, by operator, then stage, then task: the
    /// same order on every run of a batch.
    pub fn take_late_rows(&self) -> Vec<RecordBatch> {
        std::mem::take(&mut *lock(&self.late_rows))
            .into_values()
            .flatten()
            .collect()
    }
}

/// The watermark the batch after one with `seen` event times runs with (Spark's
/// `WatermarkTracker`): each operator's own watermark is the largest `max - delay` it
/// has seen (`operators` keeps them across batches); an operator of `declared` that has
/// seen no row yet (since the start, or since a restart) counts as 0; the query's is
/// their min (or max, by `policy`), and it never goes back.
pub(crate) fn next_watermark(
    current: i64,
    operators: &mut BTreeMap<usize, i64>,
    declared: &[usize],
    seen: &BTreeMap<usize, (EventTimeStats, i64)>,
    policy: WatermarkPolicy,
) -> i64 {
    for op in declared {
        operators.entry(*op).or_insert(0);
    }
    for (op, (stats, delay)) in seen {
        if stats.count == 0 {
            continue;
        }
        let candidate = stats.max.saturating_sub(*delay);
        let wm = operators.entry(*op).or_insert(candidate);
        *wm = (*wm).max(candidate);
    }
    let chosen = match policy {
        WatermarkPolicy::Min => operators.values().copied().min(),
        WatermarkPolicy::Max => operators.values().copied().max(),
    };
    chosen.map_or(current, |c| c.max(current))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(entries: &[(usize, i64, i64)]) -> BTreeMap<usize, (EventTimeStats, i64)> {
        entries
            .iter()
            .map(|&(op, max, delay)| (op, (EventTimeStats::of([Some(max)]).unwrap(), delay)))
            .collect()
    }

    #[test]
    fn the_watermark_is_the_max_event_time_minus_the_delay_and_never_goes_back() {
        let mut ops = BTreeMap::new();
        let wm = next_watermark(
            0,
            &mut ops,
            &[0],
            &seen(&[(0, 300_000, 120_000)]),
            WatermarkPolicy::Min,
        );
        assert_eq!(wm, 180_000);
        // an older batch does not move it back
        let wm = next_watermark(
            wm,
            &mut ops,
            &[0],
            &seen(&[(0, 100_000, 120_000)]),
            WatermarkPolicy::Min,
        );
        assert_eq!(wm, 180_000);
        // no event times: unchanged
        let wm = next_watermark(wm, &mut ops, &[], &BTreeMap::new(), WatermarkPolicy::Min);
        assert_eq!(wm, 180_000);
    }

    #[test]
    fn several_watermarks_take_the_min_or_by_policy_the_max() {
        let s = seen(&[(0, 500_000, 0), (1, 200_000, 0)]);
        assert_eq!(
            next_watermark(0, &mut BTreeMap::new(), &[], &s, WatermarkPolicy::Min),
            200_000
        );
        assert_eq!(
            next_watermark(0, &mut BTreeMap::new(), &[], &s, WatermarkPolicy::Max),
            500_000
        );
    }

    #[test]
    fn an_input_that_has_seen_no_row_yet_holds_the_min_at_zero_as_in_spark() {
        let mut ops = BTreeMap::new();
        // operator 1 has seen nothing yet: the query's watermark does not move
        let only_0 = seen(&[(0, 500_000, 0)]);
        let wm = next_watermark(0, &mut ops, &[0, 1], &only_0, WatermarkPolicy::Min);
        assert_eq!(wm, 0);
        let wm = next_watermark(
            wm,
            &mut ops,
            &[0, 1],
            &seen(&[(1, 200_000, 0)]),
            WatermarkPolicy::Min,
        );
        assert_eq!(wm, 200_000);
        // after a restart the operators start again from 0: the watermark stays where it was
        let mut restarted = BTreeMap::new();
        let wm = next_watermark(wm, &mut restarted, &[0, 1], &only_0, WatermarkPolicy::Min);
        assert_eq!(wm, 200_000);
        // under the max policy an operator without rows does not hold it back
        let wm = next_watermark(
            0,
            &mut BTreeMap::new(),
            &[0, 1],
            &only_0,
            WatermarkPolicy::Max,
        );
        assert_eq!(wm, 500_000);
    }

    #[test]
    fn stats_merge_and_average() {
        let m = BatchMetrics::default();
        m.observe_event_times(3, 0, EventTimeStats::of([Some(10), Some(20)]).unwrap());
        m.observe_event_times(3, 0, EventTimeStats::of([Some(30)]).unwrap());
        let (s, _) = m.event_times()[&3];
        assert_eq!((s.min, s.max, s.count, s.avg()), (10, 30, 3, 20));
    }
}
