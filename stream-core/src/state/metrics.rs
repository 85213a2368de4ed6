//! [`StateOperatorMetrics`]: what a state store commit reports, summed over partitions.

use std::iter::Sum;
use std::ops::{Add, AddAssign};

use serde::{Deserialize, Serialize};

use crate::progress::StateOperatorProgress;

/// The numbers of one state store commit, or of a whole operator once summed over its
/// partitions: the fields of Spark's `stateOperators[]` progress entries, under Spark's
/// JSON names and in Spark's order.
///
/// [`StateStore::commit`](crate::state::StateStore::commit) fills `numRowsTotal`,
/// `numRowsUpdated`, `numRowsRemoved`, `memoryUsedBytes` and `commitTimeMs`, and counts
/// itself as one shuffle partition and one state store instance, so that the sum over
/// an operator's stores gives its partition and instance counts, as Spark reports them.
/// `numRowsDroppedByWatermark`, `allUpdatesTimeMs` and `allRemovalsTimeMs` are the
/// operator's to fill: the store does not see late rows, nor time the operator's work.
/// Every field is summed, as Spark sums its per-task SQL metrics.
///
/// ```
/// use stream_core::state::StateOperatorMetrics;
///
/// let p0 = StateOperatorMetrics { num_rows_total: 3, num_rows_updated: 2, memory_used_bytes: 100,
///     num_shuffle_partitions: 1, num_state_store_instances: 1, ..Default::default() };
/// let p1 = StateOperatorMetrics { num_rows_total: 4, num_rows_removed: 1, memory_used_bytes: 50,
///     num_shuffle_partitions: 1, num_state_store_instances: 1, ..Default::default() };
/// let operator: StateOperatorMetrics = [p0, p1].into_iter().sum();
/// assert_eq!(operator.num_rows_total, 7);
/// assert_eq!(operator.num_shuffle_partitions, 2);
/// let json = serde_json::to_string(&operator).unwrap();
/// assert!(json.starts_with(r#"{"numRowsTotal":7,"numRowsUpdated":2,"allUpdatesTimeMs":0,"numRowsRemoved":1,"#));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StateOperatorMetrics {
    /// Rows (keys) in the state after the batch.
    pub num_rows_total: u64,
    /// Rows inserted or updated in the batch.
    pub num_rows_updated: u64,
    /// Milliseconds the operator spent updating rows (the operator fills it).
    pub all_updates_time_ms: u64,
    /// Rows removed in the batch (evicted or deleted); a key inserted and removed in
    /// the same batch is not counted.
    pub num_rows_removed: u64,
    /// Milliseconds the operator spent removing rows (the operator fills it).
    pub all_removals_time_ms: u64,
    /// Milliseconds spent committing: writing the delta, the snapshot if one is due, and
    /// removing files retention no longer needs.
    pub commit_time_ms: u64,
    /// Estimated bytes of memory the state uses; see the [`crate::state`] module for how.
    pub memory_used_bytes: u64,
    /// Input rows the operator dropped as late (the operator fills it).
    pub num_rows_dropped_by_watermark: u64,
    /// Shuffle partitions of the operator (1 per store, summed).
    pub num_shuffle_partitions: u64,
    /// State store instances of the operator (1 per store, summed).
    pub num_state_store_instances: u64,
}

impl StateOperatorMetrics {
    /// The operator's progress entry for the batch's progress record.
    ///
    /// ```
    /// use stream_core::state::StateOperatorMetrics;
    /// let m = StateOperatorMetrics { num_rows_total: 5, ..Default::default() };
    /// let entry = m.into_progress("stateStoreSave");
    /// assert_eq!(entry.operator_name, "stateStoreSave");
    /// assert_eq!(entry.metrics.num_rows_total, 5);
    /// ```
    pub fn into_progress(self, operator_name: impl Into<String>) -> StateOperatorProgress {
        StateOperatorProgress {
            operator_name: operator_name.into(),
            metrics: self,
        }
    }
}

impl AddAssign for StateOperatorMetrics {
    fn add_assign(&mut self, o: Self) {
        self.num_rows_total += o.num_rows_total;
        self.num_rows_updated += o.num_rows_updated;
        self.all_updates_time_ms += o.all_updates_time_ms;
        self.num_rows_removed += o.num_rows_removed;
        self.all_removals_time_ms += o.all_removals_time_ms;
        self.commit_time_ms += o.commit_time_ms;
        self.memory_used_bytes += o.memory_used_bytes;
        self.num_rows_dropped_by_watermark += o.num_rows_dropped_by_watermark;
        self.num_shuffle_partitions += o.num_shuffle_partitions;
        self.num_state_store_instances += o.num_state_store_instances;
    }
}

impl Add for StateOperatorMetrics {
    type Output = Self;

    fn add(mut self, o: Self) -> Self {
        self += o;
        self
    }
}

impl Sum for StateOperatorMetrics {
    fn sum<I: Iterator<Item = Self>>(iter: I) -> Self {
        iter.fold(Self::default(), Add::add)
    }
}

impl<'a> Sum<&'a StateOperatorMetrics> for StateOperatorMetrics {
    fn sum<I: Iterator<Item = &'a Self>>(iter: I) -> Self {
        iter.copied().sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(total: u64, updated: u64, removed: u64, bytes: u64, ms: u64) -> StateOperatorMetrics {
        StateOperatorMetrics {
            num_rows_total: total,
            num_rows_updated: updated,
            num_rows_removed: removed,
            memory_used_bytes: bytes,
            commit_time_ms: ms,
            num_shuffle_partitions: 1,
            num_state_store_instances: 1,
            ..Default::default()
        }
    }

    #[test]
    fn sums_every_field_over_partitions() {
        let parts = [
            one(1, 2, 3, 4, 5),
            one(10, 20, 30, 40, 50),
            one(0, 0, 0, 0, 0),
        ];
        let mut by_ref: StateOperatorMetrics = parts.iter().sum();
        assert_eq!(by_ref, parts.into_iter().sum());
        assert_eq!(by_ref, {
            let mut m = one(11, 22, 33, 44, 55);
            m.num_shuffle_partitions = 3;
            m.num_state_store_instances = 3;
            m
        });
        by_ref += StateOperatorMetrics {
            num_rows_dropped_by_watermark: 7,
            all_updates_time_ms: 8,
            all_removals_time_ms: 9,
            ..Default::default()
        };
        assert_eq!(
            (
                by_ref.num_rows_dropped_by_watermark,
                by_ref.all_updates_time_ms,
                by_ref.all_removals_time_ms
            ),
            (7, 8, 9)
        );
    }

    #[test]
    fn progress_entry_has_sparks_names_in_sparks_order_and_reads_back() {
        let entry = one(7, 2, 1, 1024, 3).into_progress("stateStoreSave");
        let json = serde_json::to_string(&entry).unwrap();
        assert_eq!(
            json,
            r#"{"operatorName":"stateStoreSave","numRowsTotal":7,"numRowsUpdated":2,"allUpdatesTimeMs":0,"numRowsRemoved":1,"allRemovalsTimeMs":0,"commitTimeMs":3,"memoryUsedBytes":1024,"numRowsDroppedByWatermark":0,"numShufflePartitions":1,"numStateStoreInstances":1}"#
        );
        let back: StateOperatorProgress = serde_json::from_str(&json).unwrap();
        assert_eq!(back, entry);
    }
}
