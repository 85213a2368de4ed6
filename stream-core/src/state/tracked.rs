//! [`TrackedMap`]: the in-memory store's map, which knows what changed since its last
//! commit without a second map of the changed keys.
//!
//! Each entry carries a [`Mark`]: clean (as committed), updated (it was in the last
//! version and has been written since) or inserted (new since the last version). A write
//! looks the key up once. The keys of marked entries are listed while they are few; once
//! they are many (a batch that writes a large part of the state, as a deduplication of
//! new keys does) the list is dropped and the commit finds the marked entries by one
//! sequential scan of the table instead of a lookup per key.

use std::collections::hash_map::{Entry, VacantEntry};
use std::hash::Hash;

use super::heap_size::HeapSize;
use crate::hash::FastHashMap;

/// How an entry stands against the last committed version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Mark {
    /// As committed.
    Clean,
    /// In the last version, and written since.
    Updated,
    /// Not in the last version.
    Inserted,
}

/// A value and its [`Mark`].
#[derive(Clone, Debug)]
pub(super) struct Slot<V> {
    pub(super) value: V,
    pub(super) mark: Mark,
}

/// Below this many marked keys the commit looks each one up; above it (or above a
/// quarter of the entries, whichever is more) it scans the table.
const LIST_AT_MOST: usize = 4096;

/// What changed since the last commit, as the delta file records it: the changed
/// entries by reference into the map, so a commit writes them without copying them.
pub(super) struct Changes<'a, K, V> {
    /// The entries written since the last commit that are there now.
    pub(super) upsert_keys: Vec<&'a K>,
    pub(super) upsert_values: Vec<&'a V>,
    /// The keys of the last version that are gone.
    pub(super) removed: Vec<K>,
}

/// A hash map that remembers which of its entries changed since [`TrackedMap::take_changes`]
/// last ran, and the heap bytes of its clean entries.
#[derive(Debug)]
pub(super) struct TrackedMap<K, V> {
    map: FastHashMap<K, Slot<V>>,
    /// The keys of the marked entries (a key may be listed twice), or `None` once there
    /// were too many to list: then [`TrackedMap::take_changes`] scans.
    listed: Option<Vec<K>>,
    /// Keys of the last version removed since (some may be back: they are upserts).
    removed: Vec<K>,
    /// Whether a key was inserted after one was recorded in `removed`: only then can a
    /// removed key be back, and the commit looks each one up.
    maybe_back: bool,
    /// Heap bytes of the keys and values of clean entries; the heap of a marked entry
    /// (its value's, and its key's if inserted) is counted again when it is committed.
    pub(super) heap_bytes: usize,
    /// The listed keys above which the map scans instead (tests lower it).
    pub(super) list_at_most: usize,
}

impl<K, V> Default for TrackedMap<K, V> {
    fn default() -> Self {
        TrackedMap {
            map: FastHashMap::default(),
            listed: Some(Vec::new()),
            removed: Vec::new(),
            maybe_back: false,
            heap_bytes: 0,
            list_at_most: LIST_AT_MOST,
        }
    }
}

impl<K, V> TrackedMap<K, V>
where
    K: HeapSize + Hash + Eq + Clone,
    V: HeapSize + Clone,
{
    /// Puts a committed entry back (loading a version); whether the key was there
    /// already. [`TrackedMap::recount_heap`] counts the heap once the version is in.
    pub(super) fn load(&mut self, key: K, value: V) -> bool {
        let slot = Slot {
            value,
            mark: Mark::Clean,
        };
        self.map.insert(key, slot).is_some()
    }

    /// Removes a committed entry (loading a version's delta).
    pub(super) fn unload(&mut self, key: &K) {
        self.map.remove(key);
    }

    /// Counts the heap of every entry (after loading).
    pub(super) fn recount_heap(&mut self) {
        self.heap_bytes = self
            .map
            .iter()
            .map(|(k, s)| k.heap_size() + s.value.heap_size())
            .sum();
    }

    /// The listed keys above which [`TrackedMap::take_changes`] scans.
    fn limit(&self) -> usize {
        self.list_at_most.max(self.map.len() / 4)
    }

    pub(super) fn get(&self, key: &K) -> Option<&V> {
        self.map.get(key).map(|s| &s.value)
    }

    pub(super) fn contains_key(&self, key: &K) -> bool {
        self.map.contains_key(key)
    }

    /// The value of `key`, marked as updated.
    pub(super) fn get_mut(&mut self, key: &K) -> Option<&mut V> {
        let limit = self.limit();
        let slot = self.map.get_mut(key)?;
        if mark(&mut self.heap_bytes, slot) {
            list(&mut self.listed, limit, key);
        }
        Some(&mut slot.value)
    }

    /// The value of `key`, `default()` inserted first if it has none; marked.
    pub(super) fn get_or_insert_with(&mut self, key: K, default: impl FnOnce() -> V) -> &mut V {
        let limit = self.limit();
        match self.map.entry(key) {
            Entry::Occupied(mut o) => {
                if mark(&mut self.heap_bytes, o.get_mut()) {
                    list(&mut self.listed, limit, o.key());
                }
                &mut o.into_mut().value
            }
            Entry::Vacant(v) => {
                self.maybe_back |= !self.removed.is_empty();
                &mut insert_new(&mut self.listed, limit, v, default()).value
            }
        }
    }

    /// Inserts `value` under `key` unless the key is there; whether it inserted.
    pub(super) fn insert_if_absent(&mut self, key: K, value: V) -> bool {
        let limit = self.limit();
        match self.map.entry(key) {
            Entry::Occupied(_) => false,
            Entry::Vacant(v) => {
                self.maybe_back |= !self.removed.is_empty();
                insert_new(&mut self.listed, limit, v, value);
                true
            }
        }
    }

    /// Sets the value of `key`; the previous one.
    pub(super) fn insert(&mut self, key: K, value: V) -> Option<V> {
        let limit = self.limit();
        match self.map.entry(key) {
            Entry::Occupied(mut o) => {
                if mark(&mut self.heap_bytes, o.get_mut()) {
                    list(&mut self.listed, limit, o.key());
                }
                Some(std::mem::replace(&mut o.get_mut().value, value))
            }
            Entry::Vacant(v) => {
                self.maybe_back |= !self.removed.is_empty();
                insert_new(&mut self.listed, limit, v, value);
                None
            }
        }
    }

    /// Removes `key`; its value.
    pub(super) fn remove(&mut self, key: &K) -> Option<V> {
        let (key, slot) = self.map.remove_entry(key)?;
        if forget(&mut self.heap_bytes, &key, &slot) {
            self.removed.push(key);
        }
        Some(slot.value)
    }

    /// Removes and returns the entries `evict` picks.
    pub(super) fn remove_where(&mut self, mut evict: impl FnMut(&K, &V) -> bool) -> Vec<(K, V)> {
        let evicted: Vec<(K, Slot<V>)> = self.map.extract_if(|k, s| evict(k, &s.value)).collect();
        let mut out = Vec::with_capacity(evicted.len());
        for (key, slot) in evicted {
            if forget(&mut self.heap_bytes, &key, &slot) {
                self.removed.push(key.clone());
            }
            out.push((key, slot.value));
        }
        out
    }

    /// Removes the entries `keep` refuses; how many went. Unlike
    /// [`TrackedMap::remove_where`] the entries are not handed back, so a removed key of
    /// the last version is recorded without a copy.
    pub(super) fn retain(&mut self, mut keep: impl FnMut(&K, &V) -> bool) -> usize {
        let mut went = 0;
        for (key, slot) in self.map.extract_if(|k, s| !keep(k, &s.value)) {
            went += 1;
            if forget(&mut self.heap_bytes, &key, &slot) {
                self.removed.push(key);
            }
        }
        went
    }

    /// The changes since the last call, every entry clean again and its heap counted.
    pub(super) fn take_changes(&mut self) -> Changes<'_, K, V> {
        // a key removed and then written again is an upsert
        let mut removed = std::mem::take(&mut self.removed);
        if std::mem::take(&mut self.maybe_back) {
            removed.retain(|key| !self.map.contains_key(key));
        }
        let mut heap_added = 0;
        // an entry's mark cleared and its heap counted (`key_heap`: the stored key's);
        // whether it was marked
        let mut clear = |key_heap: usize, slot: &mut Slot<V>| {
            heap_added += match slot.mark {
                Mark::Clean => return false,
                Mark::Updated => slot.value.heap_size(),
                Mark::Inserted => key_heap + slot.value.heap_size(),
            };
            slot.mark = Mark::Clean;
            true
        };
        let (mut upsert_keys, mut upsert_values) = (Vec::new(), Vec::new());
        match self.listed.replace(Vec::new()) {
            Some(keys) => {
                // the marks cleared first, then the cleared entries borrowed
                let mut changed = Vec::with_capacity(keys.len());
                for key in keys {
                    // the stored key's heap is the one counted, not the listed copy's
                    let Some(key_heap) = self.map.get_key_value(&key).map(|(k, _)| k.heap_size())
                    else {
                        continue;
                    };
                    if let Some(slot) = self.map.get_mut(&key)
                        && clear(key_heap, slot)
                    {
                        changed.push(key);
                    }
                }
                self.heap_bytes += heap_added;
                for key in changed {
                    if let Some((stored, slot)) = self.map.get_key_value(&key) {
                        upsert_keys.push(stored);
                        upsert_values.push(&slot.value);
                    }
                }
            }
            None => {
                for (key, slot) in self.map.iter_mut() {
                    if clear(key.heap_size(), slot) {
                        let slot: &Slot<V> = slot;
                        upsert_keys.push(key);
                        upsert_values.push(&slot.value);
                    }
                }
                self.heap_bytes += heap_added;
            }
        }
        Changes {
            upsert_keys,
            upsert_values,
            removed,
        }
    }

    /// Every entry, in no particular order.
    pub(super) fn iter(&self) -> impl Iterator<Item = (&K, &V)> + '_ {
        self.map.iter().map(|(k, s)| (k, &s.value))
    }

    pub(super) fn len(&self) -> usize {
        self.map.len()
    }

    pub(super) fn capacity(&self) -> usize {
        self.map.capacity()
    }
}

/// Takes a removed entry's heap off the running total (which counts a marked entry's
/// value, and an inserted one's key, only once committed); whether the last version had
/// the entry.
#[inline]
fn forget<K: HeapSize, V: HeapSize>(heap_bytes: &mut usize, key: &K, slot: &Slot<V>) -> bool {
    match slot.mark {
        Mark::Clean => {
            *heap_bytes -= key.heap_size() + slot.value.heap_size();
            true
        }
        Mark::Updated => {
            *heap_bytes -= key.heap_size();
            true
        }
        Mark::Inserted => false,
    }
}

/// Marks a clean entry as updated, its value's heap out of the running total; whether
/// it was clean.
#[inline]
fn mark<V: HeapSize>(heap_bytes: &mut usize, slot: &mut Slot<V>) -> bool {
    if slot.mark != Mark::Clean {
        return false;
    }
    *heap_bytes -= slot.value.heap_size();
    slot.mark = Mark::Updated;
    true
}

/// Inserts a key the map does not hold, marked inserted and listed.
#[inline]
fn insert_new<'a, K: Clone, V>(
    listed: &mut Option<Vec<K>>,
    limit: usize,
    entry: VacantEntry<'a, K, Slot<V>>,
    value: V,
) -> &'a mut Slot<V> {
    list(listed, limit, entry.key());
    entry.insert(Slot {
        value,
        mark: Mark::Inserted,
    })
}

/// Lists `key` as changed, or stops listing once `limit` keys are.
#[inline]
fn list<K: Clone>(listed: &mut Option<Vec<K>>, limit: usize, key: &K) {
    if let Some(keys) = listed {
        if keys.len() >= limit {
            *listed = None;
        } else {
            keys.push(key.clone());
        }
    }
}
