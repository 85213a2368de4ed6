//! The embedded LSM store (fjall) under a query's disk state: one database per
//! checkpoint, opened once per process and shared by every store of the query (each
//! (operator, partition) is a keyspace of it), so that the memory budget, the journal and
//! the background workers are the query's, not each partition's.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use fjall::{Database, Keyspace, KeyspaceCreateOptions};

use crate::{Result, StreamError};

/// The folder of the database, under the checkpoint's `state/` (a name starting with `_`
/// is the state folder's own: no operator has it).
pub(crate) const FOLDER: &str = "_disk";

/// The smallest write buffer a keyspace is given, whatever the budget.
const MIN_MEMTABLE: u64 = 2 << 20;
/// The largest: a lookup searches the write buffer's skip list, whose cost grows with
/// its size far more than the number of flushed tables' (each has a bloom filter).
const MAX_MEMTABLE: u64 = 8 << 20;

/// An open database and how many stores hold it.
struct Open {
    db: Database,
    holders: usize,
}

fn registry() -> &'static Mutex<HashMap<PathBuf, Open>> {
    static OPEN: OnceLock<Mutex<HashMap<PathBuf, Open>>> = OnceLock::new();
    OPEN.get_or_init(Default::default)
}

/// One store's handle on the shared database: its keyspace. The database closes when
/// the last handle of the process goes.
pub(crate) struct SharedDb {
    path: PathBuf,
    pub(crate) db: Database,
    pub(crate) space: Keyspace,
}

impl std::fmt::Debug for SharedDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedDb")
            .field("path", &self.path)
            .finish()
    }
}

/// The budget split: half for the block cache, half for the write buffers of the
/// `stores` keyspaces, each at most [`MAX_MEMTABLE`].
pub(crate) fn memtable_bytes(memory_bytes: u64, stores: u64) -> u64 {
    (memory_bytes / 2 / stores.max(1)).clamp(MIN_MEMTABLE, MAX_MEMTABLE)
}

impl SharedDb {
    /// The keyspace `name` of the database of the checkpoint `checkpoint`, opening the
    /// database with `memory_bytes` for its cache and write buffers shared by `stores`
    /// keyspaces if this process has not opened it yet.
    pub(crate) fn open(
        checkpoint: &Path,
        name: &str,
        memory_bytes: u64,
        stores: u64,
    ) -> Result<SharedDb> {
        let path = checkpoint.join("state").join(FOLDER);
        let db_error = |e: fjall::Error| StreamError::io(&path, std::io::Error::other(e));
        let db = {
            let mut open = registry().lock().unwrap_or_else(|e| e.into_inner());
            match open.get_mut(&path) {
                Some(o) => {
                    o.holders += 1;
                    o.db.clone()
                }
                None => {
                    std::fs::create_dir_all(&path).map_err(|e| StreamError::io(&path, e))?;
                    let db = Database::builder(&path)
                        .cache_size(memory_bytes / 2)
                        .worker_threads(2)
                        .open()
                        .map_err(db_error)?;
                    open.insert(
                        path.clone(),
                        Open {
                            db: db.clone(),
                            holders: 1,
                        },
                    );
                    db
                }
            }
        };
        let memtable = memtable_bytes(memory_bytes, stores);
        let handle = SharedDb {
            path: path.clone(),
            db: db.clone(),
            // a handle from here on: a failure below releases it
            space: match db.keyspace(name, || {
                KeyspaceCreateOptions::default().max_memtable_size(memtable)
            }) {
                Ok(space) => space,
                Err(e) => {
                    release(&path);
                    return Err(db_error(e));
                }
            },
        };
        Ok(handle)
    }

    /// The database's folder.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// An error of the database, naming its folder.
    pub(crate) fn error(&self, e: fjall::Error) -> StreamError {
        StreamError::io(&self.path, std::io::Error::other(e))
    }
}

fn release(path: &Path) {
    let mut open = registry().lock().unwrap_or_else(|e| e.into_inner());
    if let Some(o) = open.get_mut(path) {
        o.holders -= 1;
        if o.holders == 0 {
            open.remove(path);
        }
    }
}

impl Drop for SharedDb {
    fn drop(&mut self) {
        release(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stores_of_one_checkpoint_share_one_database_until_the_last_goes() {
        let checkpoint = tempfile::tempdir().unwrap();
        let a = SharedDb::open(checkpoint.path(), "0_0", 64 << 20, 2).unwrap();
        let b = SharedDb::open(checkpoint.path(), "0_1", 64 << 20, 2).unwrap();
        a.space.insert("k", "a").unwrap();
        assert!(b.space.get("k").unwrap().is_none(), "keyspaces are apart");
        let path = checkpoint.path().join("state").join(FOLDER);
        let holders = |p: &Path| registry().lock().unwrap().get(p).map(|o| o.holders);
        assert_eq!(holders(&path), Some(2));
        drop(a);
        assert_eq!(holders(&path), Some(1));
        drop(b);
        assert_eq!(holders(&path), None);
        let again = SharedDb::open(checkpoint.path(), "0_0", 64 << 20, 2).unwrap();
        assert_eq!(again.space.get("k").unwrap().as_deref(), Some(&b"a"[..]));
    }

    #[test]
    fn the_budget_is_split_between_cache_and_write_buffers() {
        assert_eq!(memtable_bytes(256 << 20, 8), MAX_MEMTABLE);
        assert_eq!(memtable_bytes(64 << 20, 8), 4 << 20);
        assert_eq!(memtable_bytes(16 << 20, 64), MIN_MEMTABLE);
    }
}
