//! [`StateStoreConf`]: how often a store writes a snapshot and how much it keeps.

use crate::query::DEFAULT_MIN_BATCHES_TO_RETAIN;
use crate::{Result, StreamError};

/// Which store keeps a query's keyed state: the query's `state_store` setting
/// ([`QueryBuilder::state_store`](crate::QueryBuilder::state_store)).
///
/// ```
/// use stream_core::state::StateStoreKind;
/// assert_eq!(StateStoreKind::from_name("disk"), Some(StateStoreKind::Disk));
/// assert_eq!(StateStoreKind::default().as_str(), "memory");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum StateStoreKind {
    /// Each partition's state in a hash map, persisted as deltas and snapshots
    /// ([`StateStore`](crate::state::StateStore)); the default.
    #[default]
    Memory,
    /// Each partition's state in an embedded LSM store on local disk, with a memory
    /// budget for its caches and write buffers (`DiskStore`, with stream-core's
    /// `disk-state` feature); the checkpoint holds the same deltas and snapshots.
    Disk,
}

impl StateStoreKind {
    /// The kind called `name` (`memory` or `disk`).
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "memory" => Some(StateStoreKind::Memory),
            "disk" => Some(StateStoreKind::Disk),
            _ => None,
        }
    }

    /// Its name, as [`StateStoreKind::from_name`] reads it.
    pub fn as_str(self) -> &'static str {
        match self {
            StateStoreKind::Memory => "memory",
            StateStoreKind::Disk => "disk",
        }
    }
}

/// The default memory budget of the disk store: 256 MiB.
pub const DEFAULT_STATE_MEMORY: u64 = 256 << 20;

/// Settings of a [`StateStore`](crate::state::StateStore).
///
/// ```
/// use stream_core::state::StateStoreConf;
///
/// let conf = StateStoreConf::default();
/// assert_eq!((conf.snapshot_interval, conf.min_versions_to_retain), (10, 100));
/// let conf = StateStoreConf { snapshot_interval: 5, ..StateStoreConf::default() };
/// assert_eq!(conf.snapshot_interval, 5);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StateStoreConf {
    /// A full snapshot is written once this many deltas have been committed since the
    /// last one (default 10: versions 9, 19, 29, ... when the query never restarts with
    /// another value). At least 1; 1 writes a snapshot at every version.
    pub snapshot_interval: u64,
    /// After a commit of version `v`, the files needed to rebuild versions
    /// `v + 1 - min_versions_to_retain ..= v` are kept and older ones deleted (default
    /// 100, the engine's `min_batches_to_retain` default, so that every batch whose
    /// offsets and commit are still logged can also be rebuilt). At least 1.
    pub min_versions_to_retain: u64,
    /// The store that keeps the state (default [`StateStoreKind::Memory`]).
    pub kind: StateStoreKind,
    /// The disk store's memory budget, for its block cache and write buffers together,
    /// shared by every store of the query (default [`DEFAULT_STATE_MEMORY`]).
    pub memory_bytes: u64,
    /// How many stores share the budget: the query's shuffle partitions (default 1).
    pub stores_sharing_memory: u64,
}

impl Default for StateStoreConf {
    fn default() -> Self {
        StateStoreConf {
            snapshot_interval: 10,
            min_versions_to_retain: DEFAULT_MIN_BATCHES_TO_RETAIN,
            kind: StateStoreKind::Memory,
            memory_bytes: DEFAULT_STATE_MEMORY,
            stores_sharing_memory: 1,
        }
    }
}

impl StateStoreConf {
    /// Checks that both numbers are at least 1.
    pub(crate) fn validate(&self) -> Result<()> {
        for (name, value) in [
            ("snapshot_interval", self.snapshot_interval),
            ("min_versions_to_retain", self.min_versions_to_retain),
        ] {
            if value == 0 {
                return Err(StreamError::InvalidOption {
                    name: name.into(),
                    message: "must be at least 1".into(),
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_is_refused_naming_the_setting() {
        assert!(StateStoreConf::default().validate().is_ok());
        let err = StateStoreConf {
            min_versions_to_retain: 0,
            ..StateStoreConf::default()
        }
        .validate()
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid option `min_versions_to_retain`: must be at least 1"
        );
        let err = StateStoreConf {
            snapshot_interval: 0,
            ..StateStoreConf::default()
        }
        .validate()
        .unwrap_err();
        assert!(err.to_string().contains("`snapshot_interval`"), "{err}");
    }
}
