//! [`DiskStore`]: one operator partition's keyed state in an embedded LSM store on local
//! disk (fjall), for state larger than memory.
//!
//! # What is where
//!
//! The checkpoint holds exactly what the in-memory [`StateStore`](super::StateStore)
//! writes — a delta file per version and a snapshot every
//! [`StateStoreConf::snapshot_interval`] versions, under the same retention rule — so
//! either store reads the other's state, the state reader reads both, and a query may
//! change stores between runs. The working copy of the state is a database under
//! `<checkpoint>/state/_disk/` (one keyspace per operator partition): a cache of the
//! checkpoint, rebuilt from its files whenever it does not hold the version the query
//! resumes from.
//!
//! # A batch
//!
//! While batch `N` runs, its changes are kept in memory (the *pending* changes), over the
//! database, which holds version `N - 2` or `N - 1`. Committing version `N` writes its
//! delta file; the database is given the changes of version `N` only when the next batch
//! starts ([`KeyedState::prepare`]) or commits, that is once the engine has written
//! `commits/N`: the database never holds a version the engine may run again, so a
//! crash at any point leaves it at a version the checkpoint has, and a restart replays
//! at most one delta into it. The snapshot of a version is written from the database
//! when that version reaches it.
//!
//! # Keys in the database
//!
//! `d` + key bytes → value bytes ([`StateBytes`]); `t` + event time (big-endian, sign
//! flipped) + key bytes → nothing, the time index of an operator that evicts by event
//! time (see [`KeyedState::remove_expired`]); `m` + name → the database's own version,
//! row count, the checksum of that version's delta file and whether the time index is
//! complete.

mod db;

use std::cell::RefCell;
use std::fs;
use std::hash::Hash;
use std::path::Path;
use std::time::Instant;

use fjall::Keyspace;

use db::SharedDb;

use super::bytes::StateBytes;
use super::codec;
use super::conf::StateStoreConf;
use super::heap_size::HeapSize;
use super::keyed::{EntryTime, KeyedState, StateLocation};
use super::layout::{FileKind, StateDir};
use super::metrics::StateOperatorMetrics;
use super::schema;
use super::store::{check_next, clean_up, remove_if_exists, resume_chain};
use crate::checkpoint::atomic::{create_dir_synced, sync_dir, write_atomic, write_atomic_with};
use crate::hash::FastHashMap;
use crate::types::TypedRow;
use crate::{Result, StreamError};

/// Rows written to the database per write batch while it is rebuilt.
const LOAD_CHUNK: usize = 64 * 1024;
/// Rows per IPC batch of a snapshot written from the database.
const SNAPSHOT_CHUNK: usize = 16 * 1024;

const DATA: u8 = b'd';
const TIME: u8 = b't';
const META_VERSION: &[u8] = b"mversion";
const META_LEN: &[u8] = b"mlen";
const META_CRC: &[u8] = b"mcrc";
const META_INDEXED: &[u8] = b"mindexed";

/// How an entry stood before the batch that changed it.
#[derive(Clone, Copy, Debug)]
struct Before {
    existed: bool,
    /// Its event time, when the time index is kept and it had one.
    time: Option<i64>,
}

/// One changed key: its value now (`None`: removed) and how it stood before.
#[derive(Debug)]
struct Change<V> {
    value: Option<V>,
    before: Before,
}

/// The changes of one version, over the version before it.
#[derive(Debug)]
struct Overlay<K, V> {
    changes: FastHashMap<K, Change<V>>,
    /// Keys added less keys removed.
    added: i64,
    /// The checksum of the version's delta file (for a committed overlay).
    crc: u32,
}

impl<K, V> Default for Overlay<K, V> {
    fn default() -> Self {
        Overlay {
            changes: FastHashMap::default(),
            added: 0,
            crc: 0,
        }
    }
}

/// The state of one stateful operator in one shuffle partition, kept in an embedded
/// database on disk with the batch's changes in memory; see the [module](self).
///
/// ```
/// use stream_core::Schema;
/// use stream_core::state::{DiskStore, HeapSize, KeyedState, StateLocation, StateStoreConf, StateStoreKind};
///
/// #[derive(Schema, Clone, Debug, PartialEq, Eq, Hash)]
/// struct Key { user: String }
/// impl HeapSize for Key {}
/// #[derive(Schema, Clone, Debug, PartialEq)]
/// struct Count { n: i64 }
/// impl HeapSize for Count {}
///
/// # fn main() -> stream_core::Result<()> {
/// let checkpoint = tempfile::tempdir().unwrap();
/// let at = StateLocation { checkpoint: checkpoint.path(), operator: "0", partition: 0 };
/// let conf = StateStoreConf { kind: StateStoreKind::Disk, ..StateStoreConf::default() };
/// let mut state = DiskStore::<Key, Count>::open(at, None, conf.clone())?;
/// for user in ["ann", "bob", "ann"] {
///     state.update(Key { user: user.into() }, || Count { n: 0 }, |c| c.n += 1)?;
/// }
/// assert_eq!(state.commit(0)?.num_rows_total, 2);
/// drop(state);
/// let state = DiskStore::<Key, Count>::open(at, Some(0), conf)?;
/// assert_eq!(state.get(&Key { user: "ann".into() })?, Some(Count { n: 2 }));
/// # Ok(()) }
/// ```
pub struct DiskStore<K, V> {
    dir: StateDir,
    conf: StateStoreConf,
    shared: SharedDb,
    /// The event time of an entry, when the time index is kept.
    time: Option<EntryTime<K, V>>,
    /// The version the database holds, and its rows.
    db_version: Option<u64>,
    db_len: u64,
    /// Whether the database's time index covers every row.
    indexed: bool,
    /// The changes of `version` while the database holds the version before it.
    committed: Option<Overlay<K, V>>,
    /// The changes of the batch running.
    pending: Overlay<K, V>,
    version: Option<u64>,
    last_snapshot: Option<u64>,
    schema_recorded: bool,
    /// A key's bytes, reused from lookup to lookup.
    scratch: RefCell<Vec<u8>>,
}

impl<K, V> std::fmt::Debug for DiskStore<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DiskStore")
            .field("dir", &self.dir)
            .field("version", &self.version)
            .field("db_version", &self.db_version)
            .finish()
    }
}

/// The time index's key of `time`: sign flipped so that the bytes sort as the numbers.
fn time_key(time: i64, key: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(9 + key.len());
    k.push(TIME);
    k.extend_from_slice(&((time as u64) ^ (1 << 63)).to_be_bytes());
    k.extend_from_slice(key);
    k
}

fn data_key<K: StateBytes>(key: &K, out: &mut Vec<u8>) {
    out.clear();
    out.push(DATA);
    key.write_bytes(out);
}

fn decode<T: StateBytes>(mut bytes: &[u8]) -> Result<T> {
    let value = T::read_bytes(&mut bytes)?;
    if !bytes.is_empty() {
        return Err(super::bytes::malformed("entry (bytes left over)"));
    }
    Ok(value)
}

/// The checksum that identifies version `version` in `dir`: its delta file's, or, when
/// retention removed the delta, its snapshot's.
fn version_crc(dir: &StateDir, version: u64) -> Result<Option<u32>> {
    match file_crc(&dir.path(version, FileKind::Delta))? {
        Some(crc) => Ok(Some(crc)),
        None => file_crc(&dir.path(version, FileKind::Snapshot)),
    }
}

/// The checksum at the end of the state file `path` (its last four bytes), if it is
/// there.
fn file_crc(path: &Path) -> Result<Option<u32>> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = match fs::File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(StreamError::io(path, e)),
    };
    let mut tail = [0u8; 4];
    let read = file
        .seek(SeekFrom::End(-4))
        .and_then(|_| file.read_exact(&mut tail));
    match read {
        Ok(()) => Ok(Some(u32::from_le_bytes(tail))),
        // shorter than a checksum: no version of ours
        Err(_) => Ok(None),
    }
}

fn crc_of(file: &[u8]) -> u32 {
    let tail: [u8; 4] = file[file.len() - 4..].try_into().unwrap_or_default();
    u32::from_le_bytes(tail)
}

impl<K, V> DiskStore<K, V>
where
    K: TypedRow + StateBytes + Hash + Eq + Clone,
    V: TypedRow + StateBytes + Clone,
{
    fn space(&self) -> &Keyspace {
        &self.shared.space
    }

    fn meta_u64(&self, name: &[u8]) -> Result<Option<u64>> {
        let value = self.space().get(name).map_err(|e| self.shared.error(e))?;
        Ok(value.and_then(|v| v.as_ref().try_into().ok().map(u64::from_le_bytes)))
    }

    /// The value `key` had before the batch: in the committed changes, or the database.
    fn before(&self, key: &K) -> Result<Option<V>> {
        if let Some(c) = self.committed.as_ref().and_then(|o| o.changes.get(key)) {
            return Ok(c.value.clone());
        }
        self.db_get(key)
    }

    fn db_get(&self, key: &K) -> Result<Option<V>> {
        let mut k = self.scratch.borrow_mut();
        data_key(key, &mut k);
        let found = self.space().get(&*k).map_err(|e| self.shared.error(e))?;
        found.map(|v| decode(&v)).transpose()
    }

    fn exists_before(&self, key: &K) -> Result<bool> {
        if let Some(c) = self.committed.as_ref().and_then(|o| o.changes.get(key)) {
            return Ok(c.value.is_some());
        }
        let mut k = self.scratch.borrow_mut();
        data_key(key, &mut k);
        self.space()
            .contains_key(&*k)
            .map_err(|e| self.shared.error(e))
    }

    fn before_of(&self, key: &K, value: Option<&V>) -> Before {
        Before {
            existed: value.is_some(),
            time: value.and_then(|v| self.time.and_then(|t| t(key, v))),
        }
    }

    /// Records the change of a key the pending changes do not hold yet.
    fn record(&mut self, key: K, before: Before, value: Option<V>) {
        self.pending.added += i64::from(value.is_some()) - i64::from(before.existed);
        self.pending.changes.insert(key, Change { value, before });
    }

    fn changed(&self, key: &K) -> bool {
        self.pending.changes.contains_key(key)
            || self
                .committed
                .as_ref()
                .is_some_and(|o| o.changes.contains_key(key))
    }

    /// Every entry of the database that the changes in memory do not override.
    fn db_entries(&self, mut f: impl FnMut(K, V) -> Result<()>) -> Result<()> {
        for item in self.space().prefix([DATA]) {
            let (k, v) = item.into_inner().map_err(|e| self.shared.error(e))?;
            let key: K = decode(&k[1..])?;
            if self.changed(&key) {
                continue;
            }
            f(key, decode(&v)?)?;
        }
        Ok(())
    }

    /// Removes the entries `evict` picks from the committed changes and the database
    /// entries `candidates` offers (each not overridden by a change in memory), and from
    /// the pending changes; they are handed back when `keep_entries`.
    fn evict_entries(
        &mut self,
        mut evict: impl FnMut(&K, &V) -> bool,
        candidates: impl FnOnce(&Self, &mut dyn FnMut(K, V) -> Result<()>) -> Result<()>,
        keep_entries: bool,
    ) -> Result<(usize, Vec<(K, V)>)> {
        let mut gone = Vec::new();
        let mut count = 0usize;
        let mut went = 0i64;
        for (k, c) in &mut self.pending.changes {
            if c.value.as_ref().is_some_and(|v| evict(k, v)) {
                let v = c.value.take();
                went += 1;
                count += 1;
                if keep_entries && let Some(v) = v {
                    gone.push((k.clone(), v));
                }
            }
        }
        self.pending.added -= went;
        let mut from_before: Vec<(K, V)> = Vec::new();
        if let Some(o) = &self.committed {
            for (k, c) in &o.changes {
                if let Some(v) = &c.value
                    && !self.pending.changes.contains_key(k)
                    && evict(k, v)
                {
                    from_before.push((k.clone(), v.clone()));
                }
            }
        }
        candidates(self, &mut |k, v| {
            if evict(&k, &v) {
                from_before.push((k, v));
            }
            Ok(())
        })?;
        for (k, v) in from_before {
            let before = self.before_of(&k, Some(&v));
            count += 1;
            if keep_entries {
                gone.push((k.clone(), v));
            }
            self.record(k, before, None);
        }
        Ok((count, gone))
    }

    /// The keys (with their times) the time index has at or below `until`, of entries
    /// the changes in memory do not override.
    fn expired_keys_in_db(&self, until: i64) -> Result<Vec<(i64, K)>> {
        let start = time_key(i64::MIN, &[]);
        let end = match until.checked_add(1) {
            Some(next) => time_key(next, &[]),
            None => vec![TIME + 1],
        };
        let mut found = Vec::new();
        for item in self.space().range(start..end) {
            let k = item.key().map_err(|e| self.shared.error(e))?;
            let raw: [u8; 8] = k[1..9]
                .try_into()
                .map_err(|_| super::bytes::malformed("time index key"))?;
            let time = (u64::from_be_bytes(raw) ^ (1 << 63)) as i64;
            let key: K = decode(&k[9..])?;
            if !self.changed(&key) {
                found.push((time, key));
            }
        }
        Ok(found)
    }

    /// The database entries whose indexed time is at or below `until`, not overridden.
    fn expired_in_db(&self, until: i64, f: &mut dyn FnMut(K, V) -> Result<()>) -> Result<()> {
        for (_, key) in self.expired_keys_in_db(until)? {
            if let Some(v) = self.db_get(&key)? {
                f(key, v)?;
            }
        }
        Ok(())
    }

    /// Gives the database the changes of `version`, whose delta's checksum is in them;
    /// writes that version's snapshot when one is due and `snapshots`.
    fn apply(&mut self, overlay: Overlay<K, V>, version: u64, snapshots: bool) -> Result<()> {
        let db = &self.shared.db;
        let space = &self.shared.space;
        // the writes in key order: each goes into the write buffer's skip list next to
        // the one before; every key is written once (an index entry whose time stays is
        // neither removed nor written again)
        let mut writes: Vec<(Vec<u8>, Option<Vec<u8>>)> = Vec::with_capacity(overlay.changes.len());
        let index = self.time.filter(|_| self.indexed);
        for (key, change) in &overlay.changes {
            let mut k = Vec::new();
            data_key(key, &mut k);
            let time_after = match (index, &change.value) {
                (Some(f), Some(value)) => f(key, value),
                _ => None,
            };
            if index.is_some() && change.before.time != time_after {
                if let Some(t) = change.before.time {
                    writes.push((time_key(t, &k[1..]), None));
                }
                if let Some(t) = time_after {
                    writes.push((time_key(t, &k[1..]), Some(Vec::new())));
                }
            }
            match &change.value {
                Some(value) => {
                    let mut v = Vec::new();
                    value.write_bytes(&mut v);
                    writes.push((k, Some(v)));
                }
                None if change.before.existed => writes.push((k, None)),
                None => {}
            }
        }
        drop(overlay.changes);
        writes.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let mut batch = db.batch();
        for (k, v) in writes {
            match v {
                Some(v) => batch.insert(space, k, v),
                None => batch.remove(space, k),
            }
        }
        let len = self
            .db_len
            .checked_add_signed(overlay.added)
            .ok_or_else(|| self.corrupt_count())?;
        batch.insert(space, META_VERSION, version.to_le_bytes());
        batch.insert(space, META_LEN, len.to_le_bytes());
        batch.insert(space, META_CRC, overlay.crc.to_le_bytes());
        batch.insert(space, META_INDEXED, [u8::from(index.is_some())]);
        batch.commit().map_err(|e| self.shared.error(e))?;
        self.db_version = Some(version);
        self.db_len = len;
        self.indexed = index.is_some();
        let due = match self.last_snapshot {
            Some(s) => version
                .checked_sub(s)
                .is_some_and(|d| d >= self.conf.snapshot_interval),
            None => version + 1 >= self.conf.snapshot_interval,
        };
        if snapshots && due {
            self.write_snapshot(version)?;
        }
        Ok(())
    }

    fn corrupt_count(&self) -> StreamError {
        StreamError::corrupt(
            self.shared.path(),
            format!(
                "counts fewer rows than it removes in keyspace `{}_{}`: remove the folder and the state is rebuilt from the checkpoint",
                self.dir.operator, self.dir.partition
            ),
        )
    }

    /// Writes the snapshot of `version`, which the database holds, from the database.
    fn write_snapshot(&mut self, version: u64) -> Result<()> {
        let path = self.dir.path(version, FileKind::Snapshot);
        let mut items = self.space().prefix([DATA]);
        let mut failed: Option<StreamError> = None;
        let error = |e| self.shared.error(e);
        let chunks = std::iter::from_fn(|| {
            let mut keys = Vec::with_capacity(SNAPSHOT_CHUNK);
            let mut values = Vec::with_capacity(SNAPSHOT_CHUNK);
            for item in items.by_ref() {
                let pair = item.into_inner().map_err(error).and_then(|(k, v)| {
                    Ok::<_, StreamError>((decode::<K>(&k[1..])?, decode::<V>(&v)?))
                });
                match pair {
                    Ok((k, v)) => {
                        keys.push(k);
                        values.push(v);
                    }
                    Err(e) => {
                        failed = Some(e);
                        return None;
                    }
                }
                if keys.len() == SNAPSHOT_CHUNK {
                    break;
                }
            }
            (!keys.is_empty()).then(|| codec::pair_batch_of(&keys, &values))
        });
        write_atomic_with(&path, true, |f, tmp| {
            codec::write_snapshot_chunks::<K, V>(f, tmp, chunks)
        })?;
        if let Some(e) = failed {
            let _ = fs::remove_file(&path);
            return Err(e);
        }
        self.last_snapshot = Some(version);
        Ok(())
    }

    /// The changes a delta file records, as an overlay over what the database holds.
    fn delta_overlay(&self, version: u64) -> Result<Overlay<K, V>> {
        let path = self.dir.path(version, FileKind::Delta);
        let bytes = fs::read(&path).map_err(|e| StreamError::io(&path, e))?;
        let delta = codec::read_delta::<K, V>(&path, &bytes)?;
        let mut overlay = Overlay {
            crc: crc_of(&bytes),
            ..Overlay::default()
        };
        for key in delta.removed {
            let old = self.db_get(&key)?;
            let before = self.before_of(&key, old.as_ref());
            overlay.added -= i64::from(before.existed);
            overlay.changes.insert(
                key,
                Change {
                    value: None,
                    before,
                },
            );
        }
        for (key, value) in delta.upserts {
            let old = self.db_get(&key)?;
            let before = self.before_of(&key, old.as_ref());
            overlay.added += 1 - i64::from(before.existed);
            overlay.changes.insert(
                key,
                Change {
                    value: Some(value),
                    before,
                },
            );
        }
        Ok(overlay)
    }

    /// Empties the keyspace, then loads the snapshot `snapshot` (if any) into it.
    fn reload(&mut self, snapshot: Option<u64>) -> Result<()> {
        self.space().clear().map_err(|e| self.shared.error(e))?;
        self.db_version = None;
        self.db_len = 0;
        self.indexed = self.time.is_some();
        let Some(s) = snapshot else {
            return Ok(());
        };
        let path = self.dir.path(s, FileKind::Snapshot);
        let bytes = fs::read(&path).map_err(|e| StreamError::io(&path, e))?;
        let rows = codec::read_snapshot::<K, V>(&path, &bytes)?;
        drop(bytes);
        let mut k = Vec::new();
        let mut v = Vec::new();
        for chunk in rows.chunks(LOAD_CHUNK) {
            let mut batch = self.shared.db.batch();
            for (key, value) in chunk {
                data_key(key, &mut k);
                v.clear();
                value.write_bytes(&mut v);
                batch.insert(self.space(), k.as_slice(), v.as_slice());
                if let Some(t) = self.time.and_then(|f| f(key, value)) {
                    batch.insert(self.space(), time_key(t, &k[1..]), []);
                }
            }
            batch.commit().map_err(|e| self.shared.error(e))?;
        }
        self.db_len = rows.len() as u64;
        let crc = version_crc(&self.dir, s)?.unwrap_or_default();
        let mut batch = self.shared.db.batch();
        batch.insert(self.space(), META_VERSION, s.to_le_bytes());
        batch.insert(self.space(), META_LEN, self.db_len.to_le_bytes());
        batch.insert(self.space(), META_CRC, crc.to_le_bytes());
        batch.insert(self.space(), META_INDEXED, [u8::from(self.indexed)]);
        batch.commit().map_err(|e| self.shared.error(e))?;
        self.db_version = Some(s);
        Ok(())
    }

    /// Builds the time index of every row (after it was not kept).
    fn build_index(&mut self, time: EntryTime<K, V>) -> Result<()> {
        let mut stale = Vec::new();
        for item in self.space().prefix([TIME]) {
            stale.push(item.key().map_err(|e| self.shared.error(e))?);
        }
        let mut batch = self.shared.db.batch();
        for k in stale {
            batch.remove(self.space(), k);
        }
        for item in self.space().prefix([DATA]) {
            let (k, v) = item.into_inner().map_err(|e| self.shared.error(e))?;
            if let Some(t) = time(&decode(&k[1..])?, &decode(&v)?) {
                batch.insert(self.space(), time_key(t, &k[1..]), []);
            }
        }
        batch.insert(self.space(), META_INDEXED, [1]);
        batch.commit().map_err(|e| self.shared.error(e))?;
        self.indexed = true;
        Ok(())
    }

    /// Brings the database to `version`, from what it holds or from the checkpoint.
    fn recover(&mut self, version: Option<u64>, chain_snapshot: Option<u64>) -> Result<()> {
        let Some(v) = version else {
            // a new query: an empty keyspace, whose time index is complete
            if self.db_version.is_some() || self.db_len > 0 || self.time.is_some() != self.indexed {
                self.reload(None)?;
            }
            return Ok(());
        };
        // the database's version is the checkpoint's if its delta is the same file
        let usable = match self.db_version {
            Some(d) if d <= v => {
                let stored = self
                    .space()
                    .get(META_CRC)
                    .map_err(|e| self.shared.error(e))?;
                let stored =
                    stored.and_then(|c| c.as_ref().try_into().ok().map(u32::from_le_bytes));
                let on_file = version_crc(&self.dir, d)?;
                let replayable = (d + 1..=v).all(|n| self.dir.path(n, FileKind::Delta).exists());
                stored.is_some() && stored == on_file && replayable
            }
            _ => false,
        };
        let from = if usable {
            self.db_version.map_or(0, |d| d + 1)
        } else {
            tracing::info!(
                "rebuilding the disk state of operator `{}` partition {} at version {v} from the checkpoint",
                self.dir.operator,
                self.dir.partition
            );
            self.reload(chain_snapshot)?;
            chain_snapshot.map_or(0, |s| s + 1)
        };
        if let Some(time) = self.time
            && !self.indexed
        {
            self.build_index(time)?;
        }
        for n in from..=v {
            let overlay = self.delta_overlay(n)?;
            self.apply(overlay, n, false)?;
        }
        Ok(())
    }

    /// Opens the state at `location` at `version` (see [`KeyedState::open`]), keeping
    /// the time index of `time` when it is given.
    pub fn open_with_time(
        location: StateLocation<'_>,
        version: Option<u64>,
        conf: StateStoreConf,
        time: Option<EntryTime<K, V>>,
    ) -> Result<Self> {
        conf.validate()?;
        let dir = StateDir::new(location.checkpoint, location.operator, location.partition)?;
        let files = dir.list()?;
        let schema_recorded = schema::check(&dir, &K::arrow_schema(), &V::arrow_schema())?;
        let chain = resume_chain(&dir, &files, schema_recorded, version)?;
        let shared = SharedDb::open(
            location.checkpoint,
            &format!("{}_{}", location.operator, location.partition),
            conf.memory_bytes,
            conf.stores_sharing_memory,
        )?;
        let mut store = DiskStore {
            dir,
            conf,
            shared,
            time,
            db_version: None,
            db_len: 0,
            indexed: false,
            committed: None,
            pending: Overlay::default(),
            version,
            last_snapshot: chain.as_ref().and_then(|c| c.snapshot),
            schema_recorded,
            scratch: RefCell::new(Vec::new()),
        };
        store.db_version = store.meta_u64(META_VERSION)?;
        store.db_len = store.meta_u64(META_LEN)?.unwrap_or(0);
        store.indexed = store
            .space()
            .get(META_INDEXED)
            .map_err(|e| store.shared.error(e))?
            .is_some_and(|v| v.as_ref() == [1]);
        if store.time.is_none() {
            store.indexed = false;
        }
        store.recover(version, chain.and_then(|c| c.snapshot))?;
        Ok(store)
    }

    fn remove_stale_snapshot(&self, version: u64) -> Result<()> {
        if remove_if_exists(&self.dir.path(version, FileKind::Snapshot))? {
            sync_dir(self.dir.dir())?;
        }
        Ok(())
    }

    /// Gives the database the committed changes, if the version before them is there.
    fn apply_committed(&mut self) -> Result<()> {
        if let (Some(overlay), Some(v)) = (self.committed.take(), self.version) {
            self.apply(overlay, v, true)?;
        }
        Ok(())
    }

    /// Bytes the store holds in memory: the database's block cache and write buffers
    /// (shared by the query's stores: each reports its share), and the changes in
    /// memory, with the heap bytes their keys and values own.
    fn memory_used_bytes(&self) -> u64
    where
        K: HeapSize,
        V: HeapSize,
    {
        let entry = (size_of::<K>() + size_of::<Change<V>>() + 1) as u64;
        let mut bytes = 0u64;
        for overlay in [Some(&self.pending), self.committed.as_ref()]
            .into_iter()
            .flatten()
        {
            bytes += overlay.changes.capacity() as u64 * entry;
            for (k, c) in &overlay.changes {
                bytes += (k.heap_size() + c.value.as_ref().map_or(0, V::heap_size)) as u64;
            }
        }
        let shared = self.shared.db.cache_size() + self.shared.db.write_buffer_size();
        shared / self.conf.stores_sharing_memory.max(1) + bytes
    }
}

impl<K, V> KeyedState<K, V> for DiskStore<K, V>
where
    K: TypedRow + StateBytes + HeapSize + Hash + Eq + Clone + Send,
    V: TypedRow + StateBytes + HeapSize + Clone + Send,
{
    fn open(
        location: StateLocation<'_>,
        version: Option<u64>,
        conf: StateStoreConf,
    ) -> Result<Self> {
        Self::open_with_time(location, version, conf, None)
    }

    fn open_indexed(
        location: StateLocation<'_>,
        version: Option<u64>,
        conf: StateStoreConf,
        time: EntryTime<K, V>,
    ) -> Result<Self> {
        Self::open_with_time(location, version, conf, Some(time))
    }

    fn version(&self) -> Option<u64> {
        self.version
    }

    fn prepare(&mut self) -> Result<()> {
        self.apply_committed()
    }

    fn read<R>(&self, key: &K, f: impl FnOnce(&V) -> R) -> Result<Option<R>> {
        if let Some(c) = self.pending.changes.get(key) {
            return Ok(c.value.as_ref().map(f));
        }
        if let Some(c) = self.committed.as_ref().and_then(|o| o.changes.get(key)) {
            return Ok(c.value.as_ref().map(f));
        }
        Ok(self.db_get(key)?.as_ref().map(f))
    }

    fn put(&mut self, key: K, value: V) -> Result<()> {
        if let Some(c) = self.pending.changes.get_mut(&key) {
            self.pending.added += i64::from(c.value.is_none());
            c.value = Some(value);
            return Ok(());
        }
        let old = self.before(&key)?;
        let before = self.before_of(&key, old.as_ref());
        self.record(key, before, Some(value));
        Ok(())
    }

    fn update(
        &mut self,
        key: K,
        default: impl FnOnce() -> V,
        f: impl FnOnce(&mut V),
    ) -> Result<()> {
        if let Some(c) = self.pending.changes.get_mut(&key) {
            if c.value.is_none() {
                self.pending.added += 1;
            }
            f(c.value.get_or_insert_with(default));
            return Ok(());
        }
        let old = self.before(&key)?;
        let before = self.before_of(&key, old.as_ref());
        let mut value = old.unwrap_or_else(default);
        f(&mut value);
        self.record(key, before, Some(value));
        Ok(())
    }

    fn insert_if_absent(&mut self, key: K, value: V) -> Result<bool> {
        if let Some(c) = self.pending.changes.get_mut(&key) {
            if c.value.is_some() {
                return Ok(false);
            }
            c.value = Some(value);
            self.pending.added += 1;
            return Ok(true);
        }
        if self.exists_before(&key)? {
            return Ok(false);
        }
        let before = Before {
            existed: false,
            time: None,
        };
        self.record(key, before, Some(value));
        Ok(true)
    }

    /// Looks the keys that are neither pending nor committed up in the database in key
    /// order, each once, then inserts in the entries' order.
    fn insert_all_if_absent(&mut self, entries: Vec<(K, V)>) -> Result<Vec<bool>> {
        let mut bytes = Vec::new();
        let mut ends = Vec::with_capacity(entries.len());
        let mut ask = Vec::new();
        for (i, (k, _)) in entries.iter().enumerate() {
            bytes.push(DATA);
            k.write_bytes(&mut bytes);
            ends.push(bytes.len());
            if !self.changed(k) {
                ask.push(i);
            }
        }
        let key_bytes = |i: usize| &bytes[if i == 0 { 0 } else { ends[i - 1] }..ends[i]];
        ask.sort_by(|&a, &b| key_bytes(a).cmp(key_bytes(b)));
        let mut in_db = vec![false; entries.len()];
        let mut last: Option<(usize, bool)> = None;
        for i in ask {
            let found = match last {
                Some((j, found)) if key_bytes(j) == key_bytes(i) => found,
                _ => self
                    .space()
                    .contains_key(key_bytes(i))
                    .map_err(|e| self.shared.error(e))?,
            };
            in_db[i] = found;
            last = Some((i, found));
        }
        drop(bytes);
        let mut inserted = Vec::with_capacity(entries.len());
        for (i, (key, value)) in entries.into_iter().enumerate() {
            if let Some(c) = self.pending.changes.get_mut(&key) {
                let absent = c.value.is_none();
                if absent {
                    c.value = Some(value);
                    self.pending.added += 1;
                }
                inserted.push(absent);
                continue;
            }
            let exists = match self.committed.as_ref().and_then(|o| o.changes.get(&key)) {
                Some(c) => c.value.is_some(),
                None => in_db[i],
            };
            if !exists {
                let before = Before {
                    existed: false,
                    time: None,
                };
                self.record(key, before, Some(value));
            }
            inserted.push(!exists);
        }
        Ok(inserted)
    }

    fn remove(&mut self, key: &K) -> Result<Option<V>> {
        if let Some(c) = self.pending.changes.get_mut(key) {
            let old = c.value.take();
            self.pending.added -= i64::from(old.is_some());
            return Ok(old);
        }
        let Some(old) = self.before(key)? else {
            return Ok(None);
        };
        let before = self.before_of(key, Some(&old));
        self.record(key.clone(), before, None);
        Ok(Some(old))
    }

    fn remove_where(&mut self, evict: impl FnMut(&K, &V) -> bool) -> Result<Vec<(K, V)>> {
        let candidates = |s: &Self, f: &mut dyn FnMut(K, V) -> Result<()>| s.db_entries(f);
        Ok(self.evict_entries(evict, candidates, true)?.1)
    }

    fn retain(&mut self, mut keep: impl FnMut(&K, &V) -> bool) -> Result<usize> {
        let candidates = |s: &Self, f: &mut dyn FnMut(K, V) -> Result<()>| s.db_entries(f);
        Ok(self.evict_entries(|k, v| !keep(k, v), candidates, false)?.0)
    }

    fn remove_expired(&mut self, time: EntryTime<K, V>, until: i64) -> Result<Vec<(K, V)>> {
        let expired = move |k: &K, v: &V| time(k, v).is_some_and(|t| t <= until);
        if self.time.is_some() && self.indexed {
            let candidates =
                |s: &Self, f: &mut dyn FnMut(K, V) -> Result<()>| s.expired_in_db(until, f);
            Ok(self.evict_entries(expired, candidates, true)?.1)
        } else {
            self.remove_where(expired)
        }
    }

    /// With the time index, the database's expired keys are taken from the index alone:
    /// their values are not read (the index entry holds the time a removal needs).
    fn drop_expired(&mut self, time: EntryTime<K, V>, until: i64) -> Result<usize> {
        let expired = move |k: &K, v: &V| time(k, v).is_some_and(|t| t <= until);
        if !(self.time.is_some() && self.indexed) {
            return self.retain(|k, v| !expired(k, v));
        }
        // the changes in memory first, then the index
        let (mut count, _) = self.evict_entries(expired, |_, _| Ok(()), false)?;
        for (t, key) in self.expired_keys_in_db(until)? {
            let before = Before {
                existed: true,
                time: Some(t),
            };
            self.record(key, before, None);
            count += 1;
        }
        Ok(count)
    }

    fn scan(&self, mut f: impl FnMut(&K, &V)) -> Result<()> {
        for (k, c) in &self.pending.changes {
            if let Some(v) = &c.value {
                f(k, v);
            }
        }
        if let Some(o) = &self.committed {
            for (k, c) in &o.changes {
                if let Some(v) = &c.value
                    && !self.pending.changes.contains_key(k)
                {
                    f(k, v);
                }
            }
        }
        self.db_entries(|k, v| {
            f(&k, &v);
            Ok(())
        })
    }

    fn len(&self) -> usize {
        let committed = self.committed.as_ref().map_or(0, |o| o.added);
        (self.db_len as i64 + committed + self.pending.added).max(0) as usize
    }

    fn commit(&mut self, version: u64) -> Result<StateOperatorMetrics> {
        let start = Instant::now();
        check_next(&self.dir, self.version, version)?;
        // the version before this one is committed by the engine: the batch ran after it
        self.apply_committed()?;
        let mut overlay = std::mem::take(&mut self.pending);
        let mut upsert_keys = Vec::new();
        let mut upsert_values = Vec::new();
        let mut removed = Vec::new();
        for (k, c) in &overlay.changes {
            match &c.value {
                Some(v) => {
                    upsert_keys.push(k);
                    upsert_values.push(v);
                }
                None if c.before.existed => removed.push(k.clone()),
                None => {}
            }
        }
        let (updated, gone) = (upsert_keys.len() as u64, removed.len() as u64);
        if !self.schema_recorded {
            schema::write(&self.dir, &K::arrow_schema(), &V::arrow_schema())?;
            self.schema_recorded = true;
        }
        create_dir_synced(self.dir.dir())?;
        self.remove_stale_snapshot(version)?;
        let delta = codec::delta_bytes(&upsert_keys, &upsert_values, &removed)?;
        drop((upsert_keys, upsert_values, removed));
        write_atomic(&self.dir.path(version, FileKind::Delta), &delta, true)?;
        overlay.crc = crc_of(&delta);
        drop(delta);
        clean_up(&self.dir, &self.conf, version)?;
        self.committed = Some(overlay);
        self.version = Some(version);
        Ok(StateOperatorMetrics {
            num_rows_total: self.len() as u64,
            num_rows_updated: updated,
            num_rows_removed: gone,
            memory_used_bytes: self.memory_used_bytes(),
            commit_time_ms: u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX),
            num_shuffle_partitions: 1,
            num_state_store_instances: 1,
            ..StateOperatorMetrics::default()
        })
    }
}

#[cfg(test)]
mod tests;
