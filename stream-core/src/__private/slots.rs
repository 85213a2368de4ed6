//! [`Slots`]: what a stateful executor keeps between batches, one entry per shuffle
//! partition, so that the next batch does not load its state from the checkpoint again.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::state::{EntryTime, KeyedState, StateLocation, StateOperatorMetrics, StateStoreConf};
use crate::{Result, TaskContext};

/// An executor's per-partition state (a store, or something holding one) kept in memory
/// between batches. A task takes its partition's entry at the start of the reduce side
/// and puts it back after the commit; a batch that failed half-way left nothing here, so
/// the next run loads the last committed version.
///
/// ```
/// use stream_core::__private::Slots;
/// let slots: Slots<u32> = Slots::default();
/// assert!(slots.is_empty());
/// ```
pub struct Slots<T>(Mutex<HashMap<usize, T>>);

impl<T> Default for Slots<T> {
    fn default() -> Self {
        Slots(Mutex::new(HashMap::new()))
    }
}

impl<T> std::fmt::Debug for Slots<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kept = self.0.lock().map_or(0, |m| m.len());
        f.debug_struct("Slots").field("kept", &kept).finish()
    }
}

impl<T> Slots<T> {
    /// Whether no partition's entry is kept.
    pub fn is_empty(&self) -> bool {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).is_empty()
    }

    /// This task's partition's entry at the version before the batch: the kept one when
    /// its `version` is that one, otherwise made by `open` from the checkpoint at that
    /// version (after a restart, or after a batch that failed half-way), with the
    /// query's store settings.
    pub(crate) fn take(
        &self,
        ctx: &TaskContext,
        version: impl Fn(&T) -> Option<u64>,
        open: impl FnOnce(Option<u64>, StateStoreConf) -> Result<T>,
    ) -> Result<T> {
        let previous = ctx.batch_id.checked_sub(1);
        let taken = self
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&ctx.partition);
        match taken {
            Some(kept) if version(&kept) == previous => Ok(kept),
            _ => open(previous, ctx.state.store_conf()),
        }
    }

    /// Keeps `kept` as this task's partition's entry for the next batch.
    pub(crate) fn keep(&self, ctx: &TaskContext, kept: T) {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(ctx.partition, kept);
    }
}

impl<T> Slots<T> {
    /// The keyed state of `operator` in this task's partition, at the version before the
    /// batch, ready for the batch ([`KeyedState::prepare`]); opened with the time its
    /// entries expire by, if they do ([`KeyedState::open_indexed`]).
    pub(crate) fn take_state<K, V>(
        &self,
        ctx: &TaskContext,
        operator: &str,
        time: Option<EntryTime<K, V>>,
    ) -> Result<T>
    where
        T: KeyedState<K, V>,
    {
        let mut state = self.take(ctx, T::version, |version, conf| {
            let location = StateLocation {
                checkpoint: &ctx.state.dir,
                operator,
                partition: ctx.partition,
            };
            match time {
                Some(time) => T::open_indexed(location, version, conf, time),
                None => T::open(location, version, conf),
            }
        })?;
        state.prepare()?;
        Ok(state)
    }

    /// Commits the batch's version of `state`, reports its figures as stateful operator
    /// `id` named `name`, and keeps it for the next batch.
    pub(crate) fn commit_state<K, V>(
        &self,
        ctx: &TaskContext,
        id: usize,
        name: &str,
        mut state: T,
    ) -> Result<()>
    where
        T: KeyedState<K, V>,
    {
        let metrics: StateOperatorMetrics = state.commit(ctx.batch_id)?;
        ctx.metrics
            .add_state(id, name, &metrics.into_progress(name));
        self.keep(ctx, state);
        Ok(())
    }
}
