//! The state of a stream–stream join: each side's rows, buffered until the watermark
//! shows that no row of the other side can match them any more. What the code `stream!`
//! generates for `a.join(b, ..)` uses at run time; reached through `__private`.
//!
//! A side keeps its rows in a state store (so they are checkpointed and recovered like
//! any other state), each under a [`JoinRowId`], and an index from join key to row ids
//! in memory, rebuilt from the store when the store is loaded from the checkpoint.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use arrow_array::{Int64Array, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef};

use crate::hash::FastHashMap;
use crate::state::{HeapSize, StateStore, StateStoreConf};
use crate::types::{ColumnValue, TypedRow};
use crate::{Result, TaskContext};

/// The key one buffered row of a join side is kept under in its state store: a number
/// unique within the side's store in one shuffle partition.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct JoinRowId {
    /// The row's number.
    pub row_id: i64,
}

impl HeapSize for JoinRowId {}

impl TypedRow for JoinRowId {
    fn arrow_schema() -> SchemaRef {
        Arc::new(Schema::new(vec![Field::new(
            "row_id",
            DataType::Int64,
            false,
        )]))
    }

    fn to_batch(rows: &[Self]) -> Result<RecordBatch> {
        let ids = Int64Array::from_iter_values(rows.iter().map(|r| r.row_id));
        Ok(RecordBatch::try_new(
            Self::arrow_schema(),
            vec![Arc::new(ids)],
        )?)
    }

    fn from_batch(batch: &RecordBatch) -> Result<Vec<Self>> {
        let column = crate::types::__derive::column(batch, "row_id", "JoinRowId")?;
        i64::from_array(column, "row_id")?
            .into_iter()
            .map(|id| {
                crate::types::__derive::required(Some(id), "row_id", "JoinRowId")
                    .map(|row_id| JoinRowId { row_id })
            })
            .collect()
    }
}

/// One side of a stream–stream join in one shuffle partition: its buffered rows `V`,
/// found by their join key `K`.
///
/// ```
/// use stream_core::Schema;
/// use stream_core::state::HeapSize;
/// use stream_core::__private::JoinSide;
///
/// #[derive(Schema, Clone, Debug, PartialEq)]
/// struct Click { user: String, ts_ms: i64 }
/// impl HeapSize for Click {}
///
/// let checkpoint = tempfile::tempdir().unwrap();
/// let key_of = |c: &Click| Some(c.user.clone());
/// let mut clicks = JoinSide::load(checkpoint.path(), "0-right", 0, None, Default::default(), key_of).unwrap();
/// clicks.insert(Click { user: "ann".into(), ts_ms: 1_000 });
/// clicks.insert(Click { user: "ann".into(), ts_ms: 9_000 });
/// assert_eq!(clicks.matches(&"ann".to_string()).count(), 2);
/// // the watermark passed 5 s: the first click can match nothing any more
/// assert_eq!(clicks.evict(|c| c.ts_ms <= 5_000), 1);
/// assert_eq!(clicks.matches(&"ann".to_string()).map(|c| c.ts_ms).collect::<Vec<_>>(), [9_000]);
/// ```
pub struct JoinSide<K, V> {
    store: StateStore<JoinRowId, V>,
    index: FastHashMap<K, Vec<i64>>,
    next_id: i64,
    key_of: fn(&V) -> Option<K>,
}

impl<K, V> std::fmt::Debug for JoinSide<K, V>
where
    V: TypedRow + HeapSize + Clone,
{
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JoinSide")
            .field("rows", &self.store.len())
            .field("keys", &self.index.len())
            .field("version", &self.store.version())
            .finish()
    }
}

impl<K, V> JoinSide<K, V>
where
    K: std::hash::Hash + Eq,
    V: TypedRow + HeapSize + Clone,
{
    /// Opens the side kept as state operator `operator` in `partition` of the checkpoint
    /// at `version` (see [`StateStore::load`], whose errors it returns), and indexes its
    /// rows by `key_of` (a row whose key is `None` matches nothing and is not kept).
    pub fn load(
        checkpoint: impl AsRef<std::path::Path>,
        operator: &str,
        partition: usize,
        version: Option<u64>,
        conf: StateStoreConf,
        key_of: fn(&V) -> Option<K>,
    ) -> Result<Self> {
        let store: StateStore<JoinRowId, V> =
            StateStore::load(checkpoint, operator, partition, version, conf)?;
        let mut index: FastHashMap<K, Vec<i64>> = FastHashMap::default();
        let mut next_id = 0;
        for (id, row) in store.iter() {
            next_id = next_id.max(id.row_id.saturating_add(1));
            if let Some(key) = key_of(row) {
                index.entry(key).or_default().push(id.row_id);
            }
        }
        // the rows of a key in the order they came, as they are matched
        for ids in index.values_mut() {
            ids.sort_unstable();
        }
        Ok(JoinSide {
            store,
            index,
            next_id,
            key_of,
        })
    }

    /// The buffered rows whose key is `key`, in the order they were inserted.
    pub fn matches<'a>(&'a self, key: &K) -> impl Iterator<Item = &'a V> + 'a {
        self.index
            .get(key)
            .into_iter()
            .flatten()
            .filter_map(|id| self.store.get(&JoinRowId { row_id: *id }))
    }

    /// Buffers `row` (not when its key is `None`: it can match nothing).
    pub fn insert(&mut self, row: V) {
        let Some(key) = (self.key_of)(&row) else {
            return;
        };
        let id = self.next_id;
        self.next_id += 1;
        self.store.put(JoinRowId { row_id: id }, row);
        self.index.entry(key).or_default().push(id);
    }

    /// Removes the rows for which `expired` is true; returns how many went.
    pub fn evict(&mut self, mut expired: impl FnMut(&V) -> bool) -> usize {
        let gone = self.store.remove_where(|_, row| expired(row));
        // the ids that went, per key: each key's list is then filtered once
        let mut gone_ids: FastHashMap<K, Vec<i64>> = FastHashMap::default();
        for (id, row) in &gone {
            if let Some(key) = (self.key_of)(row) {
                gone_ids.entry(key).or_default().push(id.row_id);
            }
        }
        for (key, mut went) in gone_ids {
            went.sort_unstable();
            if let Some(ids) = self.index.get_mut(&key) {
                ids.retain(|i| went.binary_search(i).is_err());
                if ids.is_empty() {
                    self.index.remove(&key);
                }
            }
        }
        gone.len()
    }

    /// How many rows the side buffers.
    pub fn len(&self) -> usize {
        self.store.len()
    }

    /// Whether the side buffers no row.
    pub fn is_empty(&self) -> bool {
        self.store.is_empty()
    }
}

/// Both sides of one stream–stream join, per shuffle partition, kept in memory between
/// batches: the state field of a pipeline with a join.
pub struct JoinSlots<K, L, R> {
    left: Mutex<HashMap<usize, JoinSide<K, L>>>,
    right: Mutex<HashMap<usize, JoinSide<K, R>>>,
}

impl<K, L, R> Default for JoinSlots<K, L, R> {
    fn default() -> Self {
        JoinSlots {
            left: Mutex::new(HashMap::new()),
            right: Mutex::new(HashMap::new()),
        }
    }
}

/// The side of this task's partition at the version before the batch: the one kept in
/// memory when it is at that version, otherwise loaded from the checkpoint.
fn take_side<K, V>(
    slots: &Mutex<HashMap<usize, JoinSide<K, V>>>,
    ctx: &TaskContext,
    operator: &str,
    key_of: fn(&V) -> Option<K>,
) -> Result<JoinSide<K, V>>
where
    K: std::hash::Hash + Eq,
    V: TypedRow + HeapSize + Clone,
{
    crate::stateful::take_partition(
        slots,
        ctx,
        |side: &JoinSide<K, V>| side.store.version(),
        |version, conf| {
            JoinSide::load(
                &ctx.state.dir,
                operator,
                ctx.partition,
                version,
                conf,
                key_of,
            )
        },
    )
}

impl<K, L, R> JoinSlots<K, L, R>
where
    K: std::hash::Hash + Eq,
    L: TypedRow + HeapSize + Clone,
    R: TypedRow + HeapSize + Clone,
{
    /// Both sides of join `id` for this task, before the batch. Their state operators
    /// are `<id>-left` and `<id>-right` in the checkpoint's `state` folder.
    pub fn take(
        &self,
        ctx: &TaskContext,
        id: usize,
        left_key: fn(&L) -> Option<K>,
        right_key: fn(&R) -> Option<K>,
    ) -> Result<(JoinSide<K, L>, JoinSide<K, R>)> {
        Ok((
            take_side(&self.left, ctx, &format!("{id}-left"), left_key)?,
            take_side(&self.right, ctx, &format!("{id}-right"), right_key)?,
        ))
    }

    /// Commits the batch's version of both sides, reports them as one stateful operator
    /// `id` (Spark's `symmetricHashJoin`), and keeps them for the next batch.
    pub fn commit(
        &self,
        ctx: &TaskContext,
        id: usize,
        mut left: JoinSide<K, L>,
        mut right: JoinSide<K, R>,
    ) -> Result<()> {
        let name = "symmetricHashJoin";
        for metrics in [
            left.store.commit(ctx.batch_id)?,
            right.store.commit(ctx.batch_id)?,
        ] {
            ctx.metrics
                .add_state(id, name, &metrics.into_progress(name));
        }
        crate::stateful::keep_partition(&self.left, ctx, left);
        crate::stateful::keep_partition(&self.right, ctx, right);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(crate::Schema, Clone, Debug, PartialEq)]
    struct Row {
        k: Option<i64>,
        v: String,
    }
    impl HeapSize for Row {}

    fn key_of(r: &Row) -> Option<i64> {
        r.k
    }

    fn row(k: Option<i64>, v: &str) -> Row {
        Row { k, v: v.into() }
    }

    #[test]
    fn rows_are_found_by_key_in_order_and_null_keys_are_not_kept() {
        let dir = tempfile::tempdir().unwrap();
        let mut side =
            JoinSide::load(dir.path(), "0-left", 0, None, Default::default(), key_of).unwrap();
        side.insert(row(Some(1), "a"));
        side.insert(row(Some(2), "b"));
        side.insert(row(None, "n"));
        side.insert(row(Some(1), "c"));
        let found: Vec<&str> = side.matches(&1).map(|r| r.v.as_str()).collect();
        assert_eq!(found, ["a", "c"]);
        assert_eq!(side.len(), 3);
        assert_eq!(side.evict(|r| r.v == "a"), 1);
        assert_eq!(side.matches(&1).count(), 1);
        assert_eq!(side.evict(|r| r.v == "b"), 1);
        assert!(!side.index.contains_key(&2));
    }

    #[test]
    fn a_reloaded_side_has_its_rows_index_and_fresh_ids() {
        let dir = tempfile::tempdir().unwrap();
        let mut side =
            JoinSide::load(dir.path(), "0-left", 0, None, Default::default(), key_of).unwrap();
        side.insert(row(Some(1), "a"));
        side.insert(row(Some(1), "b"));
        side.insert(row(Some(2), "c"));
        side.evict(|r| r.v == "b");
        side.store.commit(0).unwrap();
        let mut again =
            JoinSide::load(dir.path(), "0-left", 0, Some(0), Default::default(), key_of).unwrap();
        assert_eq!(again.len(), 2);
        assert_eq!(
            again.matches(&1).map(|r| r.v.clone()).collect::<Vec<_>>(),
            ["a"]
        );
        // a new row must not take the id of a kept one
        again.insert(row(Some(1), "d"));
        assert_eq!(again.len(), 3);
        assert_eq!(
            again.matches(&1).map(|r| r.v.clone()).collect::<Vec<_>>(),
            ["a", "d"]
        );
        assert_eq!(again.matches(&2).count(), 1);
    }
}
