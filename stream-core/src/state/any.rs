//! [`AnyStore`]: the store a query's `state_store` setting picks, behind one type, so
//! that an executor is compiled once and runs on either store.

use std::hash::Hash;

use super::bytes::StateBytes;
use super::conf::{StateStoreConf, StateStoreKind};
#[cfg(feature = "disk-state")]
use super::disk::DiskStore;
use super::heap_size::HeapSize;
use super::keyed::{EntryTime, KeyedState, StateLocation};
use super::metrics::StateOperatorMetrics;
use super::store::StateStore;
use crate::types::TypedRow;
use crate::{Result, StreamError};

/// The keyed state of an operator partition in the store its
/// [`StateStoreConf::kind`] names: what the stateful executors keep their state in.
///
/// ```
/// use stream_core::Schema;
/// use stream_core::state::{AnyStore, HeapSize, KeyedState, StateLocation, StateStoreConf};
///
/// #[derive(Schema, Clone, Debug, PartialEq, Eq, Hash)]
/// struct Key { user: String }
/// impl HeapSize for Key {}
/// #[derive(Schema, Clone, Debug, PartialEq)]
/// struct Count { n: i64 }
/// impl HeapSize for Count {}
///
/// let checkpoint = tempfile::tempdir().unwrap();
/// let at = StateLocation { checkpoint: checkpoint.path(), operator: "0", partition: 0 };
/// let mut state = AnyStore::<Key, Count>::open(at, None, StateStoreConf::default())?;
/// state.put(Key { user: "ann".into() }, Count { n: 1 })?;
/// assert_eq!(state.commit(0)?.num_rows_total, 1);
/// # Ok::<(), stream_core::StreamError>(())
/// ```
#[derive(Debug)]
pub enum AnyStore<K, V> {
    /// [`StateStoreKind::Memory`].
    Memory(StateStore<K, V>),
    /// [`StateStoreKind::Disk`].
    #[cfg(feature = "disk-state")]
    Disk(DiskStore<K, V>),
}

/// The error of `state_store = disk` in a build without the disk store.
pub(crate) fn disk_not_built() -> StreamError {
    StreamError::InvalidOption {
        name: "state_store".into(),
        message: "`disk` needs stream-core's `disk-state` feature, which this build does not have: add `features = [\"disk-state\"]` to the stream-core dependency".into(),
    }
}

macro_rules! each {
    ($self:expr, $s:ident => $e:expr) => {
        match $self {
            AnyStore::Memory($s) => $e,
            #[cfg(feature = "disk-state")]
            AnyStore::Disk($s) => $e,
        }
    };
}

impl<K, V> AnyStore<K, V>
where
    K: TypedRow + StateBytes + HeapSize + Hash + Eq + Clone + Send,
    V: TypedRow + StateBytes + HeapSize + Clone + Send,
{
    fn open_as(
        location: StateLocation<'_>,
        version: Option<u64>,
        conf: StateStoreConf,
        time: Option<EntryTime<K, V>>,
    ) -> Result<Self> {
        match conf.kind {
            StateStoreKind::Memory => {
                <StateStore<K, V> as KeyedState<K, V>>::open(location, version, conf)
                    .map(AnyStore::Memory)
            }
            #[cfg(feature = "disk-state")]
            StateStoreKind::Disk => {
                DiskStore::open_with_time(location, version, conf, time).map(AnyStore::Disk)
            }
            #[cfg(not(feature = "disk-state"))]
            StateStoreKind::Disk => {
                let _ = time;
                Err(disk_not_built())
            }
        }
    }
}

impl<K, V> KeyedState<K, V> for AnyStore<K, V>
where
    K: TypedRow + StateBytes + HeapSize + Hash + Eq + Clone + Send,
    V: TypedRow + StateBytes + HeapSize + Clone + Send,
{
    fn open(
        location: StateLocation<'_>,
        version: Option<u64>,
        conf: StateStoreConf,
    ) -> Result<Self> {
        Self::open_as(location, version, conf, None)
    }

    fn open_indexed(
        location: StateLocation<'_>,
        version: Option<u64>,
        conf: StateStoreConf,
        time: EntryTime<K, V>,
    ) -> Result<Self> {
        Self::open_as(location, version, conf, Some(time))
    }

    fn version(&self) -> Option<u64> {
        each!(self, s => s.version())
    }

    fn prepare(&mut self) -> Result<()> {
        each!(self, s => KeyedState::prepare(s))
    }

    #[inline]
    fn read<R>(&self, key: &K, f: impl FnOnce(&V) -> R) -> Result<Option<R>> {
        each!(self, s => KeyedState::read(s, key, f))
    }

    #[inline]
    fn put(&mut self, key: K, value: V) -> Result<()> {
        each!(self, s => KeyedState::put(s, key, value))
    }

    #[inline]
    fn update(
        &mut self,
        key: K,
        default: impl FnOnce() -> V,
        f: impl FnOnce(&mut V),
    ) -> Result<()> {
        each!(self, s => KeyedState::update(s, key, default, f))
    }

    #[inline]
    fn insert_if_absent(&mut self, key: K, value: V) -> Result<bool> {
        each!(self, s => KeyedState::insert_if_absent(s, key, value))
    }

    fn insert_all_if_absent(&mut self, entries: Vec<(K, V)>) -> Result<Vec<bool>> {
        each!(self, s => KeyedState::insert_all_if_absent(s, entries))
    }

    fn remove(&mut self, key: &K) -> Result<Option<V>> {
        each!(self, s => KeyedState::remove(s, key))
    }

    fn remove_where(&mut self, evict: impl FnMut(&K, &V) -> bool) -> Result<Vec<(K, V)>> {
        each!(self, s => KeyedState::remove_where(s, evict))
    }

    fn retain(&mut self, keep: impl FnMut(&K, &V) -> bool) -> Result<usize> {
        each!(self, s => KeyedState::retain(s, keep))
    }

    fn remove_expired(&mut self, time: EntryTime<K, V>, until: i64) -> Result<Vec<(K, V)>> {
        each!(self, s => KeyedState::remove_expired(s, time, until))
    }

    fn drop_expired(&mut self, time: EntryTime<K, V>, until: i64) -> Result<usize> {
        each!(self, s => KeyedState::drop_expired(s, time, until))
    }

    fn scan(&self, f: impl FnMut(&K, &V)) -> Result<()> {
        each!(self, s => KeyedState::scan(s, f))
    }

    fn len(&self) -> usize {
        each!(self, s => KeyedState::len(s))
    }

    fn commit(&mut self, version: u64) -> Result<StateOperatorMetrics> {
        each!(self, s => KeyedState::commit(s, version))
    }
}
