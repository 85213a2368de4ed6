//! [`StateStore`]: one operator partition's keyed state, in memory, versioned on disk.

use std::fs;
use std::hash::Hash;
use std::mem::size_of;
use std::path::Path;
use std::time::Instant;

use super::codec;
use super::conf::StateStoreConf;
use super::heap_size::HeapSize;
use super::layout::{FileKind, StateDir, StateFiles};
use super::metrics::StateOperatorMetrics;
use super::retention;
use super::schema;
use super::tracked::{Changes, Slot, TrackedMap};
use crate::checkpoint::atomic::{create_dir_synced, sync_dir, write_atomic};
use crate::types::TypedRow;
use crate::{Result, StreamError};

/// The state of one stateful operator in one shuffle partition: a `HashMap<K, V>` that
/// remembers what changed since its last commit and persists each version to the
/// checkpoint.
///
/// Version `N` is the state after batch `N`. A query loads the version of its last
/// committed batch with [`StateStore::load`], mutates the map while it runs batch
/// `N + 1` and then calls [`StateStore::commit`]`(N + 1)`, which writes the version's
/// delta file (and every [`StateStoreConf::snapshot_interval`] versions a snapshot),
/// removes the files retention no longer needs and returns the batch's
/// [`StateOperatorMetrics`]. See the [module](crate::state) for the files.
///
/// ```
/// use stream_core::Schema;
/// use stream_core::state::{HeapSize, StateStore, StateStoreConf};
///
/// #[derive(Schema, Clone, Debug, PartialEq, Eq, Hash)]
/// struct Key { user: String }
/// impl HeapSize for Key { fn heap_size(&self) -> usize { self.user.heap_size() } }
///
/// #[derive(Schema, Clone, Debug, PartialEq)]
/// struct Count { n: i64 }
/// impl HeapSize for Count {}
///
/// # fn main() -> stream_core::Result<()> {
/// let checkpoint = tempfile::tempdir().unwrap();
/// // a new query: nothing committed yet
/// let mut store: StateStore<Key, Count> =
///     StateStore::load(checkpoint.path(), "0", 0, None, StateStoreConf::default())?;
/// for user in ["ann", "bob", "ann"] {
///     store.get_or_insert_with(Key { user: user.into() }, || Count { n: 0 }).n += 1;
/// }
/// let metrics = store.commit(0)?; // batch 0
/// assert_eq!((metrics.num_rows_total, metrics.num_rows_updated), (2, 2));
///
/// // after a restart: the version of the last committed batch
/// let store: StateStore<Key, Count> =
///     StateStore::load(checkpoint.path(), "0", 0, Some(0), StateStoreConf::default())?;
/// assert_eq!(store.get(&Key { user: "ann".into() }), Some(&Count { n: 2 }));
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct StateStore<K, V> {
    dir: StateDir,
    conf: StateStoreConf,
    /// The entries, each marked with how it stands against the last version.
    pub(super) map: TrackedMap<K, V>,
    /// The version the map holds: the last committed or loaded one.
    version: Option<u64>,
    /// The newest snapshot at or below `version`.
    last_snapshot: Option<u64>,
    /// Whether `_metadata/schema` is known to be written.
    schema_recorded: bool,
}

impl<K, V> StateStore<K, V>
where
    K: TypedRow + HeapSize + Hash + Eq + Clone,
    V: TypedRow + HeapSize + Clone,
{
    /// Opens the state of `operator` in `partition` of the checkpoint `checkpoint` at
    /// `version`: the state after that batch, or empty for `None` (no batch committed
    /// yet).
    ///
    /// Version `v` is rebuilt from the newest snapshot at or below `v` and the deltas
    /// after it up to `v` (from delta 0 without such a snapshot). The operator's
    /// recorded key and value schemas must be `K`'s and `V`'s. Errors, each naming its
    /// file:
    /// - a missing delta in the chain, a bad checksum, a truncated or unparsable file:
    ///   [`StreamError::CorruptCheckpoint`];
    /// - a version line this build does not know: [`StreamError::UnsupportedCheckpointVersion`];
    /// - other columns than recorded: [`StreamError::StateSchemaMismatch`], naming each
    ///   column that was added, removed or changed;
    /// - `None` while the folder holds state of a version above 0 (files of version 0
    ///   may be there from a first batch that did not commit; it is run again):
    ///   [`StreamError::CorruptCheckpoint`], never an empty state behind the user's back.
    ///
    /// ```
    /// # use stream_core::Schema;
    /// # use stream_core::state::{HeapSize, StateStore, StateStoreConf};
    /// # #[derive(Schema, Clone, Debug, PartialEq, Eq, Hash)] struct Key { user: String }
    /// # impl HeapSize for Key {}
    /// # #[derive(Schema, Clone, Debug, PartialEq)] struct Count { n: i64 }
    /// # impl HeapSize for Count {}
    /// let checkpoint = tempfile::tempdir().unwrap();
    /// let store = StateStore::<Key, Count>::load(checkpoint.path(), "0", 3, None, StateStoreConf::default()).unwrap();
    /// assert!(store.is_empty() && store.version().is_none());
    /// let err = StateStore::<Key, Count>::load(checkpoint.path(), "0", 3, Some(4), StateStoreConf::default()).unwrap_err();
    /// assert!(err.to_string().contains("0.delta`: is missing"), "{err}");
    /// ```
    pub fn load(
        checkpoint: impl AsRef<Path>,
        operator: &str,
        partition: usize,
        version: Option<u64>,
        conf: StateStoreConf,
    ) -> Result<Self> {
        conf.validate()?;
        let dir = StateDir::new(checkpoint.as_ref(), operator, partition)?;
        let files = dir.list()?;
        let schema_recorded = schema::check(&dir, &K::arrow_schema(), &V::arrow_schema())?;
        let chain = resume_chain(&dir, &files, schema_recorded, version)?;
        let mut store = StateStore {
            dir,
            conf,
            map: TrackedMap::default(),
            version,
            last_snapshot: None,
            schema_recorded,
        };
        let Some(chain) = chain else {
            return Ok(store);
        };
        if let Some(s) = chain.snapshot {
            let path = store.dir.path(s, FileKind::Snapshot);
            for (k, v) in codec::read_snapshot::<K, V>(&path, &read(&path)?)? {
                if store.map.load(k, v) {
                    return Err(StreamError::corrupt(&path, "holds a key twice"));
                }
            }
        }
        for d in chain.deltas {
            let path = store.dir.path(d, FileKind::Delta);
            let delta = codec::read_delta::<K, V>(&path, &read(&path)?)?;
            for key in delta.removed {
                store.map.unload(&key);
            }
            for (k, v) in delta.upserts {
                store.map.load(k, v);
            }
        }
        store.last_snapshot = chain.snapshot;
        store.map.recount_heap();
        Ok(store)
    }

    /// Writes version `version` — the state after batch `version` — and returns the
    /// batch's metrics. `version` must follow the loaded or last committed one (0 for a
    /// store loaded with `None`).
    ///
    /// Writes the delta file (the rows upserted and the keys removed since the last
    /// commit); when [`StateStoreConf::snapshot_interval`] deltas have been committed
    /// since the last snapshot, a snapshot too. Files of the same version left by an
    /// earlier run (a batch re-run after a crash) are replaced, files of later versions
    /// (an abandoned run) removed, and files no longer needed for the last
    /// [`StateStoreConf::min_versions_to_retain`] versions deleted. Every write is
    /// atomic (temp file, fsync, rename, fsync of the folder), so once this returns the
    /// version survives a crash.
    ///
    /// ```
    /// # use stream_core::Schema;
    /// # use stream_core::state::{HeapSize, StateStore, StateStoreConf};
    /// # #[derive(Schema, Clone, Debug, PartialEq, Eq, Hash)] struct Key { user: String }
    /// # impl HeapSize for Key {}
    /// # #[derive(Schema, Clone, Debug, PartialEq)] struct Count { n: i64 }
    /// # impl HeapSize for Count {}
    /// let checkpoint = tempfile::tempdir().unwrap();
    /// let mut store = StateStore::<Key, Count>::load(checkpoint.path(), "0", 0, None, StateStoreConf::default()).unwrap();
    /// store.put(Key { user: "ann".into() }, Count { n: 1 });
    /// store.commit(0).unwrap();
    /// assert!(checkpoint.path().join("state/0/0/0.delta").exists());
    /// assert!(store.commit(5).is_err(), "version 1 comes next");
    /// ```
    pub fn commit(&mut self, version: u64) -> Result<StateOperatorMetrics> {
        let start = Instant::now();
        check_next(&self.dir, self.version, version)?;
        let Changes {
            upsert_keys,
            upsert_values,
            removed,
        } = self.map.take_changes();
        let (updated, gone) = (upsert_keys.len() as u64, removed.len() as u64);
        if !self.schema_recorded {
            schema::write(&self.dir, &K::arrow_schema(), &V::arrow_schema())?;
            self.schema_recorded = true;
        }
        let dir = self.dir.dir().to_path_buf();
        create_dir_synced(&dir)?;
        let snapshot_due = match self.last_snapshot {
            Some(s) => version - s >= self.conf.snapshot_interval,
            None => version + 1 >= self.conf.snapshot_interval,
        };
        let snapshot_path = self.dir.path(version, FileKind::Snapshot);
        if !snapshot_due && remove_if_exists(&snapshot_path)? {
            // an earlier run's snapshot of this version must not outlive its delta
            sync_dir(&dir)?;
        }
        let delta = codec::delta_bytes(&upsert_keys, &upsert_values, &removed)?;
        write_atomic(&self.dir.path(version, FileKind::Delta), &delta, true)?;
        if snapshot_due {
            write_atomic(
                &snapshot_path,
                &codec::snapshot_bytes(self.map.iter(), self.map.len())?,
                true,
            )?;
            self.last_snapshot = Some(version);
        }
        clean_up(&self.dir, &self.conf, version)?;

        self.version = Some(version);
        Ok(StateOperatorMetrics {
            num_rows_total: self.map.len() as u64,
            num_rows_updated: updated,
            num_rows_removed: gone,
            memory_used_bytes: self.memory_used_bytes() as u64,
            commit_time_ms: u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX),
            num_shuffle_partitions: 1,
            num_state_store_instances: 1,
            ..StateOperatorMetrics::default()
        })
    }

    /// The estimate behind `memoryUsedBytes`: the table's slots, each holding a key, a
    /// value and hashbrown's one control byte, plus the heap bytes the keys and values
    /// own ([`HeapSize`]). Exact for committed entries; entries touched since the last
    /// commit are counted again at the next commit.
    fn memory_used_bytes(&self) -> usize {
        let slot = size_of::<K>() + size_of::<Slot<V>>() + 1;
        self.map.capacity() * slot + self.map.heap_bytes
    }

    /// The value of `key`.
    ///
    /// ```
    /// # use stream_core::Schema;
    /// # use stream_core::state::{HeapSize, StateStore, StateStoreConf};
    /// # #[derive(Schema, Clone, Debug, PartialEq, Eq, Hash)] struct Key { user: String }
    /// # impl HeapSize for Key {}
    /// # #[derive(Schema, Clone, Debug, PartialEq)] struct Count { n: i64 }
    /// # impl HeapSize for Count {}
    /// # let checkpoint = tempfile::tempdir().unwrap();
    /// let mut store = StateStore::<Key, Count>::load(checkpoint.path(), "0", 0, None, StateStoreConf::default()).unwrap();
    /// store.put(Key { user: "ann".into() }, Count { n: 1 });
    /// assert_eq!(store.get(&Key { user: "ann".into() }).map(|c| c.n), Some(1));
    /// assert!(store.get(&Key { user: "bob".into() }).is_none());
    /// ```
    pub fn get(&self, key: &K) -> Option<&V> {
        self.map.get(key)
    }

    /// Whether `key` has a value.
    ///
    /// ```
    /// # use stream_core::Schema;
    /// # use stream_core::state::{HeapSize, StateStore, StateStoreConf};
    /// # #[derive(Schema, Clone, Debug, PartialEq, Eq, Hash)] struct Key { user: String }
    /// # impl HeapSize for Key {}
    /// # #[derive(Schema, Clone, Debug, PartialEq)] struct Seen { first_ms: i64 }
    /// # impl HeapSize for Seen {}
    /// # let checkpoint = tempfile::tempdir().unwrap();
    /// // deduplication: a key seen before is dropped
    /// let mut seen = StateStore::<Key, Seen>::load(checkpoint.path(), "0", 0, None, StateStoreConf::default()).unwrap();
    /// let k = Key { user: "ann".into() };
    /// assert!(!seen.contains_key(&k));
    /// seen.put(k.clone(), Seen { first_ms: 5 });
    /// assert!(seen.contains_key(&k));
    /// ```
    pub fn contains_key(&self, key: &K) -> bool {
        self.map.contains_key(key)
    }

    /// The value of `key`, to change in place; the key is recorded as updated (even if
    /// the value is left as it was).
    ///
    /// ```
    /// # use stream_core::Schema;
    /// # use stream_core::state::{HeapSize, StateStore, StateStoreConf};
    /// # #[derive(Schema, Clone, Debug, PartialEq, Eq, Hash)] struct Key { user: String }
    /// # impl HeapSize for Key {}
    /// # #[derive(Schema, Clone, Debug, PartialEq)] struct Count { n: i64 }
    /// # impl HeapSize for Count {}
    /// # let checkpoint = tempfile::tempdir().unwrap();
    /// let mut store = StateStore::<Key, Count>::load(checkpoint.path(), "0", 0, None, StateStoreConf::default()).unwrap();
    /// store.put(Key { user: "ann".into() }, Count { n: 1 });
    /// if let Some(c) = store.get_mut(&Key { user: "ann".into() }) { c.n += 1; }
    /// assert_eq!(store.get(&Key { user: "ann".into() }).unwrap().n, 2);
    /// ```
    pub fn get_mut(&mut self, key: &K) -> Option<&mut V> {
        self.map.get_mut(key)
    }

    /// The value of `key`, inserting `default()` first if it has none: an aggregation's
    /// accumulator for a group. The key is recorded as updated.
    ///
    /// ```
    /// # use stream_core::Schema;
    /// # use stream_core::state::{HeapSize, StateStore, StateStoreConf};
    /// # #[derive(Schema, Clone, Debug, PartialEq, Eq, Hash)] struct Key { user: String }
    /// # impl HeapSize for Key {}
    /// # #[derive(Schema, Clone, Debug, PartialEq)] struct Count { n: i64 }
    /// # impl HeapSize for Count {}
    /// # let checkpoint = tempfile::tempdir().unwrap();
    /// let mut store = StateStore::<Key, Count>::load(checkpoint.path(), "0", 0, None, StateStoreConf::default()).unwrap();
    /// for _ in 0..3 {
    ///     store.get_or_insert_with(Key { user: "ann".into() }, || Count { n: 0 }).n += 1;
    /// }
    /// assert_eq!(store.get(&Key { user: "ann".into() }).unwrap().n, 3);
    /// ```
    pub fn get_or_insert_with(&mut self, key: K, default: impl FnOnce() -> V) -> &mut V {
        self.map.get_or_insert_with(key, default)
    }

    /// Inserts `value` under `key` unless the key is there; returns whether it inserted.
    /// One lookup fewer than `contains_key` and then `put`, for deduplication.
    ///
    /// ```
    /// # use stream_core::Schema;
    /// # use stream_core::state::{HeapSize, StateStore, StateStoreConf};
    /// # #[derive(Schema, Clone, Debug, PartialEq, Eq, Hash)] struct Key { user: String }
    /// # impl HeapSize for Key {}
    /// # #[derive(Schema, Clone, Debug, PartialEq)] struct Seen { at: i64 }
    /// # impl HeapSize for Seen {}
    /// # let checkpoint = tempfile::tempdir().unwrap();
    /// let mut store = StateStore::<Key, Seen>::load(checkpoint.path(), "0", 0, None, StateStoreConf::default()).unwrap();
    /// assert!(store.insert_if_absent(Key { user: "ann".into() }, Seen { at: 1 }));
    /// assert!(!store.insert_if_absent(Key { user: "ann".into() }, Seen { at: 2 }));
    /// assert_eq!(store.get(&Key { user: "ann".into() }).unwrap().at, 1);
    /// ```
    pub fn insert_if_absent(&mut self, key: K, value: V) -> bool {
        self.map.insert_if_absent(key, value)
    }

    /// Sets the value of `key`, returning the previous one.
    ///
    /// ```
    /// # use stream_core::Schema;
    /// # use stream_core::state::{HeapSize, StateStore, StateStoreConf};
    /// # #[derive(Schema, Clone, Debug, PartialEq, Eq, Hash)] struct Key { user: String }
    /// # impl HeapSize for Key {}
    /// # #[derive(Schema, Clone, Debug, PartialEq)] struct Count { n: i64 }
    /// # impl HeapSize for Count {}
    /// # let checkpoint = tempfile::tempdir().unwrap();
    /// let mut store = StateStore::<Key, Count>::load(checkpoint.path(), "0", 0, None, StateStoreConf::default()).unwrap();
    /// assert_eq!(store.put(Key { user: "ann".into() }, Count { n: 1 }), None);
    /// assert_eq!(store.put(Key { user: "ann".into() }, Count { n: 2 }), Some(Count { n: 1 }));
    /// ```
    pub fn put(&mut self, key: K, value: V) -> Option<V> {
        self.map.insert(key, value)
    }

    /// Removes `key`, returning its value.
    ///
    /// ```
    /// # use stream_core::Schema;
    /// # use stream_core::state::{HeapSize, StateStore, StateStoreConf};
    /// # #[derive(Schema, Clone, Debug, PartialEq, Eq, Hash)] struct Key { user: String }
    /// # impl HeapSize for Key {}
    /// # #[derive(Schema, Clone, Debug, PartialEq)] struct Count { n: i64 }
    /// # impl HeapSize for Count {}
    /// # let checkpoint = tempfile::tempdir().unwrap();
    /// let mut store = StateStore::<Key, Count>::load(checkpoint.path(), "0", 0, None, StateStoreConf::default()).unwrap();
    /// store.put(Key { user: "ann".into() }, Count { n: 1 });
    /// assert_eq!(store.remove(&Key { user: "ann".into() }), Some(Count { n: 1 }));
    /// assert!(store.is_empty());
    /// ```
    pub fn remove(&mut self, key: &K) -> Option<V> {
        self.map.remove(key)
    }

    /// Removes every entry for which `evict` returns true and returns them: what an
    /// append-mode aggregation emits and drops once the watermark passes a window's end.
    ///
    /// ```
    /// # use stream_core::Schema;
    /// # use stream_core::state::{HeapSize, StateStore, StateStoreConf};
    /// # use stream_core::types::TimestampMs;
    /// #[derive(Schema, Clone, Debug, PartialEq, Eq, Hash)]
    /// struct Window { end: TimestampMs }
    /// # impl HeapSize for Window {}
    /// # #[derive(Schema, Clone, Debug, PartialEq)] struct Count { n: i64 }
    /// # impl HeapSize for Count {}
    /// # let checkpoint = tempfile::tempdir().unwrap();
    /// let mut store = StateStore::<Window, Count>::load(checkpoint.path(), "0", 0, None, StateStoreConf::default()).unwrap();
    /// store.put(Window { end: TimestampMs(10_000) }, Count { n: 3 });
    /// store.put(Window { end: TimestampMs(20_000) }, Count { n: 1 });
    /// let watermark_ms = 15_000;
    /// let closed = store.remove_where(|w, _| w.end.0 <= watermark_ms);
    /// assert_eq!(closed, vec![(Window { end: TimestampMs(10_000) }, Count { n: 3 })]);
    /// assert_eq!(store.len(), 1);
    /// ```
    pub fn remove_where(&mut self, mut evict: impl FnMut(&K, &V) -> bool) -> Vec<(K, V)> {
        self.map.remove_where(|k, v| evict(k, v))
    }

    /// Keeps only the entries for which `keep` returns true; returns how many went.
    ///
    /// ```
    /// # use stream_core::Schema;
    /// # use stream_core::state::{HeapSize, StateStore, StateStoreConf};
    /// # #[derive(Schema, Clone, Debug, PartialEq, Eq, Hash)] struct Key { user: String }
    /// # impl HeapSize for Key {}
    /// # #[derive(Schema, Clone, Debug, PartialEq)] struct Seen { last_ms: i64 }
    /// # impl HeapSize for Seen {}
    /// # let checkpoint = tempfile::tempdir().unwrap();
    /// let mut seen = StateStore::<Key, Seen>::load(checkpoint.path(), "0", 0, None, StateStoreConf::default()).unwrap();
    /// seen.put(Key { user: "ann".into() }, Seen { last_ms: 1_000 });
    /// seen.put(Key { user: "bob".into() }, Seen { last_ms: 9_000 });
    /// assert_eq!(seen.retain(|_, s| s.last_ms > 5_000), 1);
    /// assert_eq!(seen.len(), 1);
    /// ```
    pub fn retain(&mut self, keep: impl FnMut(&K, &V) -> bool) -> usize {
        self.map.retain(keep)
    }

    /// Every entry, in no particular order.
    ///
    /// ```
    /// # use stream_core::Schema;
    /// # use stream_core::state::{HeapSize, StateStore, StateStoreConf};
    /// # #[derive(Schema, Clone, Debug, PartialEq, Eq, Hash)] struct Key { user: String }
    /// # impl HeapSize for Key {}
    /// # #[derive(Schema, Clone, Debug, PartialEq)] struct Count { n: i64 }
    /// # impl HeapSize for Count {}
    /// # let checkpoint = tempfile::tempdir().unwrap();
    /// let mut store = StateStore::<Key, Count>::load(checkpoint.path(), "0", 0, None, StateStoreConf::default()).unwrap();
    /// store.put(Key { user: "ann".into() }, Count { n: 2 });
    /// store.put(Key { user: "bob".into() }, Count { n: 3 });
    /// // complete mode: the whole result table
    /// assert_eq!(store.iter().map(|(_, c)| c.n).sum::<i64>(), 5);
    /// ```
    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> + '_ {
        self.map.iter()
    }

    /// The number of keys.
    ///
    /// ```
    /// # use stream_core::Schema;
    /// # use stream_core::state::{HeapSize, StateStore, StateStoreConf};
    /// # #[derive(Schema, Clone, Debug, PartialEq, Eq, Hash)] struct Key { user: String }
    /// # impl HeapSize for Key {}
    /// # #[derive(Schema, Clone, Debug, PartialEq)] struct Count { n: i64 }
    /// # impl HeapSize for Count {}
    /// # let checkpoint = tempfile::tempdir().unwrap();
    /// let mut store = StateStore::<Key, Count>::load(checkpoint.path(), "0", 0, None, StateStoreConf::default()).unwrap();
    /// store.put(Key { user: "ann".into() }, Count { n: 2 });
    /// assert_eq!(store.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether the state has no keys.
    ///
    /// ```
    /// # use stream_core::Schema;
    /// # use stream_core::state::{HeapSize, StateStore, StateStoreConf};
    /// # #[derive(Schema, Clone, Debug, PartialEq, Eq, Hash)] struct Key { user: String }
    /// # impl HeapSize for Key {}
    /// # #[derive(Schema, Clone, Debug, PartialEq)] struct Count { n: i64 }
    /// # impl HeapSize for Count {}
    /// # let checkpoint = tempfile::tempdir().unwrap();
    /// let store = StateStore::<Key, Count>::load(checkpoint.path(), "0", 0, None, StateStoreConf::default()).unwrap();
    /// assert!(store.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.map.len() == 0
    }

    /// The version the store holds: the last one loaded or committed (`None` before the
    /// first commit of a new query).
    ///
    /// ```
    /// # use stream_core::Schema;
    /// # use stream_core::state::{HeapSize, StateStore, StateStoreConf};
    /// # #[derive(Schema, Clone, Debug, PartialEq, Eq, Hash)] struct Key { user: String }
    /// # impl HeapSize for Key {}
    /// # #[derive(Schema, Clone, Debug, PartialEq)] struct Count { n: i64 }
    /// # impl HeapSize for Count {}
    /// # let checkpoint = tempfile::tempdir().unwrap();
    /// let mut store = StateStore::<Key, Count>::load(checkpoint.path(), "0", 0, None, StateStoreConf::default()).unwrap();
    /// assert_eq!(store.version(), None);
    /// store.commit(0).unwrap();
    /// assert_eq!(store.version(), Some(0));
    /// ```
    pub fn version(&self) -> Option<u64> {
        self.version
    }

    /// The partition's folder, `<checkpoint>/state/<operator>/<partition>`.
    ///
    /// ```
    /// # use stream_core::Schema;
    /// # use stream_core::state::{HeapSize, StateStore, StateStoreConf};
    /// # #[derive(Schema, Clone, Debug, PartialEq, Eq, Hash)] struct Key { user: String }
    /// # impl HeapSize for Key {}
    /// # #[derive(Schema, Clone, Debug, PartialEq)] struct Count { n: i64 }
    /// # impl HeapSize for Count {}
    /// # let checkpoint = tempfile::tempdir().unwrap();
    /// let store = StateStore::<Key, Count>::load(checkpoint.path(), "agg", 2, None, StateStoreConf::default()).unwrap();
    /// assert_eq!(store.dir(), checkpoint.path().join("state/agg/2"));
    /// ```
    pub fn dir(&self) -> &Path {
        self.dir.dir()
    }
}

/// The files version `version` of a store is rebuilt from: the newest snapshot at or
/// below it and the deltas after that snapshot.
pub(super) struct ResumeChain {
    pub(super) snapshot: Option<u64>,
    pub(super) deltas: std::ops::RangeInclusive<u64>,
}

/// The files `dir` (holding `files`, with its operator's schema file there or not)
/// rebuilds `version` from; `None` for no version (a query with no committed batch).
/// Every file the chain needs is there, the schema file is there if any state file is,
/// and no state is of a batch later than `version` can be without a commit: otherwise
/// an error naming the file.
pub(super) fn resume_chain(
    dir: &StateDir,
    files: &StateFiles,
    schema_recorded: bool,
    version: Option<u64>,
) -> Result<Option<ResumeChain>> {
    if !schema_recorded && let Some((v, kind)) = files.all().next() {
        return Err(StreamError::corrupt(
            dir.schema_path(),
            format!(
                "is missing while `{}` holds state",
                dir.path(v, kind).display()
            ),
        ));
    }
    let Some(version) = version else {
        if let Some((v, kind)) = files.all().find(|&(v, _)| v > 0) {
            return Err(StreamError::corrupt(
                dir.path(v, kind),
                "holds state of a later batch but the query has no committed batch",
            ));
        }
        return Ok(None);
    };
    let base = files.snapshot_at_or_below(version);
    let first = base.map_or(0, |s| s + 1);
    for d in first..=version {
        if !files.deltas.contains(&d) {
            let from = match base {
                Some(s) => format!("snapshot {s} and the deltas {first}..={version}"),
                None => {
                    format!("the deltas 0..={version} (there is no snapshot at or below it)")
                }
            };
            return Err(StreamError::corrupt(
                dir.path(d, FileKind::Delta),
                format!("is missing: state version {version} is rebuilt from {from}"),
            ));
        }
    }
    Ok(Some(ResumeChain {
        snapshot: base,
        deltas: first..=version,
    }))
}

fn read(path: &Path) -> Result<Vec<u8>> {
    fs::read(path).map_err(|e| StreamError::io(path, e))
}

/// Refuses to commit `version` unless it follows `held`, the version the store holds.
pub(super) fn check_next(dir: &StateDir, held: Option<u64>, version: u64) -> Result<()> {
    let next = held.map_or(0, |v| v + 1);
    if version == next {
        return Ok(());
    }
    Err(StreamError::InvalidQuery(format!(
        "state of operator `{}` partition {} holds version {} and can commit version {next}, not {version}",
        dir.operator,
        dir.partition,
        held.map_or_else(|| "none".to_string(), |v| v.to_string()),
    )))
}

/// Deletes the files of `dir` of versions after `version` and those retention (`conf`)
/// no longer needs, once `version` is committed.
pub(super) fn clean_up(dir: &StateDir, conf: &StateStoreConf, version: u64) -> Result<()> {
    let files = dir.list()?;
    let later = files.all().filter(|&(v, _)| v > version);
    let old = retention::obsolete(&files, version, conf.min_versions_to_retain);
    let mut removed_any = false;
    for (v, kind) in later.chain(old) {
        removed_any |= remove_if_exists(&dir.path(v, kind))?;
    }
    if removed_any {
        sync_dir(dir.dir())?;
    }
    Ok(())
}

/// Removes `path`; whether it was there.
pub(super) fn remove_if_exists(path: &Path) -> Result<bool> {
    match fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(StreamError::io(path, e)),
    }
}
