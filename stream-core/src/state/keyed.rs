//! [`KeyedState`]: the one interface through which every stateful executor reads and
//! writes its keyed state, as Spark's `StateStore` API is for its operators.

use std::hash::Hash;
use std::path::Path;

use super::conf::StateStoreConf;
use super::heap_size::HeapSize;
use super::metrics::StateOperatorMetrics;
use super::store::StateStore;
use crate::Result;
use crate::types::TypedRow;

/// The event time of a state entry, by which an operator evicts it (`None`: never).
pub type EntryTime<K, V> = fn(&K, &V) -> Option<i64>;

/// Where one operator partition's state lives: `<checkpoint>/state/<operator>/<partition>`.
#[derive(Clone, Copy, Debug)]
pub struct StateLocation<'a> {
    /// The checkpoint folder.
    pub checkpoint: &'a Path,
    /// The operator's folder name under `state/` (its id, or `<id>-left` for a join side).
    pub operator: &'a str,
    /// The shuffle partition.
    pub partition: usize,
}

/// The keyed state of one stateful operator in one shuffle partition, versioned by
/// batch: version `N` is the state after batch `N`. An executor opens the version of the
/// batch before the one it runs, reads and changes entries while the batch runs, and
/// commits version `N` before the engine writes `commits/N`.
///
/// Nothing here assumes that the state is one in-memory map for the life of a batch:
/// values are handed out by copy, scans and evictions go through callbacks, and every
/// read and write may fail (a store on disk reads and writes files). The in-memory
/// [`StateStore`] is the first implementation.
///
/// ```
/// use stream_core::Schema;
/// use stream_core::state::{HeapSize, KeyedState, StateLocation, StateStore, StateStoreConf};
///
/// #[derive(Schema, Clone, Debug, Default, PartialEq, Eq, Hash)]
/// struct Key { user: String }
/// impl HeapSize for Key { fn heap_size(&self) -> usize { self.user.heap_size() } }
///
/// #[derive(Schema, Clone, Debug, Default, PartialEq)]
/// struct Count { n: i64 }
/// impl HeapSize for Count {}
///
/// /// Counts each user's events in the state, whatever the store.
/// fn count<S: KeyedState<Key, Count>>(state: &mut S, users: &[&str]) -> stream_core::Result<()> {
///     for user in users {
///         state.update(Key { user: user.to_string() }, Count::default, |c| c.n += 1)?;
///     }
///     Ok(())
/// }
///
/// # fn main() -> stream_core::Result<()> {
/// let checkpoint = tempfile::tempdir().unwrap();
/// let at = StateLocation { checkpoint: checkpoint.path(), operator: "0", partition: 0 };
/// let mut state = <StateStore<Key, Count> as KeyedState<_, _>>::open(at, None, StateStoreConf::default())?;
/// count(&mut state, &["ann", "bob", "ann"])?;
/// let metrics = KeyedState::commit(&mut state, 0)?;
/// assert_eq!(metrics.num_rows_total, 2);
/// let state = <StateStore<Key, Count> as KeyedState<_, _>>::open(at, Some(0), StateStoreConf::default())?;
/// assert_eq!(KeyedState::get(&state, &Key { user: "ann".into() })?, Some(Count { n: 2 }));
/// # Ok(()) }
/// ```
pub trait KeyedState<K, V>: Send + Sized {
    /// The state at `location` at `version` (the state after that batch), or empty for
    /// `None` (no batch committed yet). Refuses a damaged or mismatched state with an
    /// error naming its file.
    fn open(
        location: StateLocation<'_>,
        version: Option<u64>,
        conf: StateStoreConf,
    ) -> Result<Self>;

    /// [`KeyedState::open`] for an operator that evicts by event time: `time` gives an
    /// entry's time (`None`: never expires), the one [`KeyedState::remove_expired`] and
    /// [`KeyedState::drop_expired`] are called with, so that a store can keep its
    /// entries in time order and evict without a scan of every entry. The in-memory
    /// store scans, as it does for any eviction.
    fn open_indexed(
        location: StateLocation<'_>,
        version: Option<u64>,
        conf: StateStoreConf,
        time: EntryTime<K, V>,
    ) -> Result<Self> {
        let _ = time;
        Self::open(location, version, conf)
    }

    /// The version held: the last one opened or committed.
    fn version(&self) -> Option<u64>;

    /// Called when the batch after the held version starts: that version is then
    /// committed by the engine (`commits/N` is written), which a store that keeps its
    /// last version's changes apart (the disk store) waits for before it applies them.
    fn prepare(&mut self) -> Result<()> {
        Ok(())
    }

    /// What `f` makes of the value of `key`, if it has one: a read without a copy of
    /// the whole value.
    fn read<R>(&self, key: &K, f: impl FnOnce(&V) -> R) -> Result<Option<R>>;

    /// The value of `key`, by copy.
    fn get(&self, key: &K) -> Result<Option<V>>
    where
        V: Clone,
    {
        self.read(key, V::clone)
    }

    /// Sets the value of `key`.
    fn put(&mut self, key: K, value: V) -> Result<()>;

    /// Changes the value of `key` with `f`, starting from `default()` when it has none.
    fn update(&mut self, key: K, default: impl FnOnce() -> V, f: impl FnOnce(&mut V))
    -> Result<()>;

    /// Inserts `value` under `key` unless the key has one; whether it inserted.
    fn insert_if_absent(&mut self, key: K, value: V) -> Result<bool>;

    /// [`KeyedState::insert_if_absent`] of each entry, in order; whether each inserted.
    /// A store may look the keys up in another order (the disk store: in key order).
    fn insert_all_if_absent(&mut self, entries: Vec<(K, V)>) -> Result<Vec<bool>> {
        entries
            .into_iter()
            .map(|(k, v)| self.insert_if_absent(k, v))
            .collect()
    }

    /// Removes `key`, returning its value.
    fn remove(&mut self, key: &K) -> Result<Option<V>>;

    /// Removes and returns every entry for which `evict` is true (eviction by the
    /// watermark).
    fn remove_where(&mut self, evict: impl FnMut(&K, &V) -> bool) -> Result<Vec<(K, V)>>;

    /// Keeps only the entries for which `keep` is true and returns how many went: an
    /// eviction whose entries are not needed (a deduplication's expired keys), which a
    /// store can do without handing each one back.
    fn retain(&mut self, keep: impl FnMut(&K, &V) -> bool) -> Result<usize>;

    /// Removes and returns every entry whose time (`time`, the function the store was
    /// opened with by [`KeyedState::open_indexed`]) is at or below `until`.
    fn remove_expired(&mut self, time: EntryTime<K, V>, until: i64) -> Result<Vec<(K, V)>> {
        self.remove_where(|k, v| time(k, v).is_some_and(|t| t <= until))
    }

    /// [`KeyedState::remove_expired`] without handing the entries back; how many went.
    fn drop_expired(&mut self, time: EntryTime<K, V>, until: i64) -> Result<usize> {
        self.retain(|k, v| time(k, v).is_none_or(|t| t > until))
    }

    /// Calls `f` with every entry, in no particular order.
    fn scan(&self, f: impl FnMut(&K, &V)) -> Result<()>;

    /// The number of keys.
    fn len(&self) -> usize;

    /// Whether the state has no keys.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Writes version `version` (the one after [`KeyedState::version`]) so that it
    /// survives a crash, and returns the batch's figures: rows, rows updated, memory.
    fn commit(&mut self, version: u64) -> Result<StateOperatorMetrics>;
}

impl<K, V> KeyedState<K, V> for StateStore<K, V>
where
    K: TypedRow + HeapSize + Hash + Eq + Clone + Send,
    V: TypedRow + HeapSize + Clone + Send,
{
    fn open(
        location: StateLocation<'_>,
        version: Option<u64>,
        conf: StateStoreConf,
    ) -> Result<Self> {
        StateStore::load(
            location.checkpoint,
            location.operator,
            location.partition,
            version,
            conf,
        )
    }

    fn version(&self) -> Option<u64> {
        StateStore::version(self)
    }

    #[inline]
    fn read<R>(&self, key: &K, f: impl FnOnce(&V) -> R) -> Result<Option<R>> {
        Ok(StateStore::get(self, key).map(f))
    }

    fn put(&mut self, key: K, value: V) -> Result<()> {
        StateStore::put(self, key, value);
        Ok(())
    }

    #[inline]
    fn update(
        &mut self,
        key: K,
        default: impl FnOnce() -> V,
        f: impl FnOnce(&mut V),
    ) -> Result<()> {
        f(self.get_or_insert_with(key, default));
        Ok(())
    }

    #[inline]
    fn insert_if_absent(&mut self, key: K, value: V) -> Result<bool> {
        Ok(StateStore::insert_if_absent(self, key, value))
    }

    fn remove(&mut self, key: &K) -> Result<Option<V>> {
        Ok(StateStore::remove(self, key))
    }

    fn remove_where(&mut self, evict: impl FnMut(&K, &V) -> bool) -> Result<Vec<(K, V)>> {
        Ok(StateStore::remove_where(self, evict))
    }

    fn retain(&mut self, keep: impl FnMut(&K, &V) -> bool) -> Result<usize> {
        Ok(StateStore::retain(self, keep))
    }

    fn scan(&self, mut f: impl FnMut(&K, &V)) -> Result<()> {
        for (k, v) in self.iter() {
            f(k, v);
        }
        Ok(())
    }

    fn len(&self) -> usize {
        StateStore::len(self)
    }

    fn commit(&mut self, version: u64) -> Result<StateOperatorMetrics> {
        StateStore::commit(self, version)
    }
}
