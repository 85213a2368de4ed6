//! The state store of stateful operators (aggregations, deduplication): per operator and
//! shuffle partition, a typed `HashMap<K, V>` that is versioned in the checkpoint, as
//! Spark's `HDFSBackedStateStoreProvider`.
//!
//! # Versions
//!
//! Version `N` is the state after batch `N`. While batch `N` runs, each partition's
//! [`StateStore`] is changed in memory; before the engine writes `commits/N`, every store
//! commits version `N`. On restart a store is loaded at the last committed batch; a batch
//! that ran but did not commit is run again from there and its files are replaced.
//!
//! # Files
//!
//! ```text
//! <checkpoint>/state/<operator>/_metadata/schema      v1 + {"key": schema, "value": schema}
//! <checkpoint>/state/<operator>/<partition>/<N>.delta     rows upserted, keys removed by version N
//! <checkpoint>/state/<operator>/<partition>/<N>.snapshot  every row of version N
//! ```
//!
//! Every commit writes a delta; a snapshot is written once
//! [`StateStoreConf::snapshot_interval`] deltas have accumulated since the last one.
//! A delta or snapshot file is a version line `v1`, a little-endian `u64` payload
//! length, length-prefixed sections, and a CRC32 of everything before it; each section is
//! an Arrow IPC stream whose columns are `key: Struct<K's columns>` and
//! `value: Struct<V's columns>` (a delta's second section, the removed keys, only `key`).
//! The schema file records `K`'s and `V`'s arrow schemas (arrow's schema JSON); a load
//! with other columns is refused, naming each column that differs. Every file is written
//! atomically (temp file, fsync, rename, fsync of the folder).
//!
//! # Retention
//!
//! After committing version `v`, the store keeps what rebuilding each of the versions
//! `v + 1 - min_versions_to_retain ..= v` needs: the newest snapshot at or below the
//! oldest of them and every file after it. Older snapshots and the deltas up to that
//! snapshot are deleted; without such a snapshot nothing is. The default (100) is the
//! engine's `min_batches_to_retain` default, so that the batches whose offsets and
//! commits are still logged can also be rebuilt.
//!
//! # Memory estimate
//!
//! `memoryUsedBytes` is `capacity × (size_of::<K>() + size_of::<V>() + 1)` — the hash
//! table's slots, each a key, a value and one control byte — plus the heap bytes the keys
//! and values own, as their [`HeapSize`] says (string and binary capacities). The heap
//! part is kept as a running total, updated for the keys a batch touched, so a commit
//! costs nothing per untouched row. Allocator overhead and the table's few spare slots
//! beyond `capacity` are not counted.
//!
//! # Usage by an operator
//!
//! ```
//! use stream_core::Schema;
//! use stream_core::state::{HeapSize, StateOperatorMetrics, StateStore, StateStoreConf};
//!
//! #[derive(Schema, Clone, Debug, PartialEq, Eq, Hash)]
//! struct GroupKey { country: String }
//! impl HeapSize for GroupKey { fn heap_size(&self) -> usize { self.country.heap_size() } }
//!
//! #[derive(Schema, Clone, Debug, PartialEq)]
//! struct Sum { total: f64 }
//! impl HeapSize for Sum {}
//!
//! # fn main() -> stream_core::Result<()> {
//! let checkpoint = tempfile::tempdir().unwrap();
//! let partitions = 2;
//! // at query start: one store per shuffle partition, at the last committed batch
//! let last_committed: Option<u64> = None;
//! let mut stores = (0..partitions)
//!     .map(|p| StateStore::<GroupKey, Sum>::load(checkpoint.path(), "0", p, last_committed, StateStoreConf::default()))
//!     .collect::<stream_core::Result<Vec<_>>>()?;
//!
//! // batch 0: each partition task updates its own store with the rows routed to it ...
//! for (p, rows) in [vec![("DE", 10.0), ("DE", 5.0)], vec![("FR", 1.0)]].into_iter().enumerate() {
//!     for (country, amount) in rows {
//!         stores[p].get_or_insert_with(GroupKey { country: country.into() }, || Sum { total: 0.0 }).total += amount;
//!     }
//! }
//! // ... and commits version 0 before the engine writes `commits/0`
//! let metrics: StateOperatorMetrics = stores.iter_mut().map(|s| s.commit(0)).sum::<stream_core::Result<_>>()?;
//! assert_eq!((metrics.num_rows_total, metrics.num_shuffle_partitions), (2, 2));
//! let progress = metrics.into_progress("stateStoreSave");
//! assert_eq!(progress.metrics.num_rows_updated, 2);
//! # Ok(()) }
//! ```

mod any;
pub(crate) mod bytes;
mod codec;
mod conf;
#[cfg(feature = "disk-state")]
mod disk;
mod file;
mod heap_size;
mod keyed;
mod layout;
mod metrics;
mod read;
mod retention;
mod schema;
mod store;
#[cfg(test)]
mod tests;
mod tracked;
mod verify;

pub use any::AnyStore;
pub(crate) use any::disk_not_built;
pub use bytes::StateBytes;
pub use conf::{DEFAULT_STATE_MEMORY, StateStoreConf, StateStoreKind};
#[cfg(feature = "disk-state")]
pub use disk::DiskStore;
pub use heap_size::HeapSize;
pub use keyed::{EntryTime, KeyedState, StateLocation};
pub use metrics::StateOperatorMetrics;
pub use read::{CommittedBatch, StateOperatorInfo, last_committed, operators, read};
pub(crate) use schema::check_operator;
pub use store::StateStore;
pub(crate) use verify::verify_resume;
#[cfg(feature = "fuzz")]
pub(crate) use {
    codec::{read_delta, read_snapshot, read_untyped, untyped_pair_schema},
    file::Encoder,
};
