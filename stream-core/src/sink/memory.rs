//! The memory sink: a named in-process table that tests and programs read back.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use arrow_array::RecordBatch;

use super::{Sink, SinkBatch};
use crate::{OutputMode, Result};

/// Each batch id's output, in batch-id order.
type Entries = BTreeMap<u64, Vec<RecordBatch>>;

/// Writes each micro-batch into a named in-process [`MemoryTable`], like Spark's
/// `memory` sink.
///
/// The table keeps each batch's rows under its batch id, so a batch handed over again
/// after a crash replaces its earlier (possibly partial) entry and its rows appear once.
/// In append and update mode the table holds the rows of every batch (Spark's memory
/// sink appends in update mode too); in complete mode each batch replaces everything, so
/// the table holds the latest result table.
///
/// Tables live in a process-wide registry keyed by name: a `MemorySink` made with a name
/// that is already registered writes the existing table. That is what lets a query
/// restarted in the same process keep appending to the same table. Tables stay registered
/// until [`MemoryTable::remove`]; tests running in parallel should use distinct names.
///
/// ```
/// use stream_core::{MemorySink, MemoryTable, OutputMode, Sink};
///
/// let sink = MemorySink::new("doc_memory_sink_events");
/// assert_eq!(sink.description(), "MemorySink");
/// assert!(sink.supports(OutputMode::Update));
///
/// // The table is found by name, and a second sink of that name shares it.
/// let table = MemoryTable::get("doc_memory_sink_events").expect("registered");
/// assert_eq!(table.name(), "doc_memory_sink_events");
/// assert_eq!(table.num_rows(), 0);
/// let restarted = MemorySink::new("doc_memory_sink_events");
/// assert!(restarted.table().same_table(&table));
/// ```
#[derive(Clone, Debug)]
pub struct MemorySink {
    table: MemoryTable,
}

impl MemorySink {
    /// The sink writing the table named `name`, registering a new empty table if no table
    /// of that name exists yet.
    ///
    /// ```
    /// let sink = stream_core::MemorySink::new("doc_memory_sink_new");
    /// assert_eq!(sink.table().name(), "doc_memory_sink_new");
    /// ```
    pub fn new(name: impl Into<String>) -> MemorySink {
        MemorySink {
            table: MemoryTable::get_or_register(name.into()),
        }
    }

    /// The table this sink writes.
    ///
    /// ```
    /// let sink = stream_core::MemorySink::new("doc_memory_sink_table");
    /// assert!(sink.table().batches().is_empty());
    /// ```
    pub fn table(&self) -> MemoryTable {
        self.table.clone()
    }
}

impl Sink for MemorySink {
    fn description(&self) -> String {
        "MemorySink".to_string()
    }

    fn supports(&self, mode: OutputMode) -> bool {
        matches!(
            mode,
            OutputMode::Append | OutputMode::Update | OutputMode::Complete
        )
    }

    /// Stores the batch under its id in two steps, with the crash tests' fault point in
    /// between, so that a fault leaves a real partial entry that the replay replaces.
    fn add_batch(&mut self, batch: SinkBatch<'_>) -> Result<()> {
        let replace_all = batch.output_mode == OutputMode::Complete;
        let first_half = first_half(&batch.batches);
        self.table.put(batch.batch_id, first_half, replace_all);
        batch.fault_point_mid_write()?;
        self.table
            .put(batch.batch_id, batch.batches.clone(), replace_all);
        Ok(())
    }

    fn memory_table(&self) -> Option<MemoryTable> {
        Some(self.table.clone())
    }
}

/// The first half of the record batches; a single batch is cut in half by rows.
fn first_half(batches: &[RecordBatch]) -> Vec<RecordBatch> {
    match batches {
        [] => Vec::new(),
        [only] => vec![only.slice(0, only.num_rows() / 2)],
        many => many[..many.len() / 2].to_vec(),
    }
}

/// A named table of rows written by a [`MemorySink`]; a clonable handle.
///
/// Rows are kept per batch id and read back in batch-id order.
///
/// ```
/// use stream_core::{MemorySink, MemoryTable};
///
/// let sink = MemorySink::new("doc_memory_table");
/// let table = sink.table();
/// assert_eq!(table.batch_ids(), Vec::<u64>::new());
/// assert!(table.batch(0).is_none());
/// assert_eq!(table.num_rows(), 0);
/// ```
#[derive(Clone)]
pub struct MemoryTable {
    inner: Arc<TableInner>,
}

struct TableInner {
    name: String,
    entries: Mutex<Entries>,
}

/// The process-wide tables, by name.
fn registry() -> MutexGuard<'static, HashMap<String, MemoryTable>> {
    static REGISTRY: OnceLock<Mutex<HashMap<String, MemoryTable>>> = OnceLock::new();
    REGISTRY
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner())
}

impl MemoryTable {
    /// The registered table named `name`, if a [`MemorySink`] of that name was made.
    ///
    /// ```
    /// use stream_core::{MemorySink, MemoryTable};
    /// assert!(MemoryTable::get("doc_memory_table_never_made").is_none());
    /// let _sink = MemorySink::new("doc_memory_table_get");
    /// assert!(MemoryTable::get("doc_memory_table_get").is_some());
    /// ```
    pub fn get(name: &str) -> Option<MemoryTable> {
        registry().get(name).cloned()
    }

    /// Takes the table named `name` out of the registry and returns it. Existing handles
    /// keep working; the next [`MemorySink::new`] with this name starts a new table.
    ///
    /// ```
    /// use stream_core::{MemorySink, MemoryTable};
    /// let _sink = MemorySink::new("doc_memory_table_remove");
    /// assert!(MemoryTable::remove("doc_memory_table_remove").is_some());
    /// assert!(MemoryTable::get("doc_memory_table_remove").is_none());
    /// ```
    pub fn remove(name: &str) -> Option<MemoryTable> {
        registry().remove(name)
    }

    fn get_or_register(name: String) -> MemoryTable {
        registry()
            .entry(name)
            .or_insert_with_key(|name| MemoryTable {
                inner: Arc::new(TableInner {
                    name: name.clone(),
                    entries: Mutex::default(),
                }),
            })
            .clone()
    }

    /// The table's name.
    ///
    /// ```
    /// let table = stream_core::MemorySink::new("doc_memory_table_name").table();
    /// assert_eq!(table.name(), "doc_memory_table_name");
    /// ```
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// All rows, batch by batch in batch-id order.
    ///
    /// ```
    /// let table = stream_core::MemorySink::new("doc_memory_table_batches").table();
    /// assert!(table.batches().is_empty());
    /// ```
    pub fn batches(&self) -> Vec<RecordBatch> {
        self.lock().values().flatten().cloned().collect()
    }

    /// The number of rows in the table.
    ///
    /// ```
    /// let table = stream_core::MemorySink::new("doc_memory_table_num_rows").table();
    /// assert_eq!(table.num_rows(), 0);
    /// ```
    pub fn num_rows(&self) -> usize {
        self.lock()
            .values()
            .flatten()
            .map(RecordBatch::num_rows)
            .sum()
    }

    /// The ids of the batches the table holds, in order. In complete mode that is only the
    /// latest batch.
    ///
    /// ```
    /// let table = stream_core::MemorySink::new("doc_memory_table_ids").table();
    /// assert!(table.batch_ids().is_empty());
    /// ```
    pub fn batch_ids(&self) -> Vec<u64> {
        self.lock().keys().copied().collect()
    }

    /// The rows batch `id` wrote, if the table holds that batch.
    ///
    /// ```
    /// let table = stream_core::MemorySink::new("doc_memory_table_batch").table();
    /// assert!(table.batch(3).is_none());
    /// ```
    pub fn batch(&self, id: u64) -> Option<Vec<RecordBatch>> {
        self.lock().get(&id).cloned()
    }

    /// Removes all rows; the table stays registered.
    ///
    /// ```
    /// let table = stream_core::MemorySink::new("doc_memory_table_clear").table();
    /// table.clear();
    /// assert_eq!(table.num_rows(), 0);
    /// ```
    pub fn clear(&self) {
        self.lock().clear();
    }

    /// Whether two handles refer to the same table (not merely tables of the same name).
    ///
    /// ```
    /// use stream_core::MemorySink;
    /// let a = MemorySink::new("doc_memory_table_same").table();
    /// let b = MemorySink::new("doc_memory_table_same").table();
    /// assert!(a.same_table(&b));
    /// ```
    pub fn same_table(&self, other: &MemoryTable) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    /// Stores `batches` as batch `id`'s output, replacing an earlier entry of that id, or
    /// every entry when `replace_all` (complete mode).
    fn put(&self, id: u64, batches: Vec<RecordBatch>, replace_all: bool) {
        let mut entries = self.lock();
        if replace_all {
            entries.clear();
        }
        entries.insert(id, batches);
    }

    fn lock(&self) -> MutexGuard<'_, Entries> {
        self.inner.entries.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl fmt::Debug for MemoryTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryTable")
            .field("name", &self.name())
            .field("batch_ids", &self.batch_ids())
            .field("num_rows", &self.num_rows())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::{Array, Int64Array};
    use arrow_schema::{DataType, Field, Schema, SchemaRef};

    use super::*;
    use crate::fault::Faults;

    fn schema() -> SchemaRef {
        Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, false)]))
    }

    fn ints(values: &[i64]) -> RecordBatch {
        RecordBatch::try_new(schema(), vec![Arc::new(Int64Array::from(values.to_vec()))]).unwrap()
    }

    fn values(batches: &[RecordBatch]) -> Vec<i64> {
        batches
            .iter()
            .flat_map(|b| {
                let a = b.column(0).as_any().downcast_ref::<Int64Array>().unwrap();
                (0..a.len()).map(|i| a.value(i)).collect::<Vec<_>>()
            })
            .collect()
    }

    fn add(
        sink: &mut MemorySink,
        id: u64,
        mode: OutputMode,
        batches: Vec<RecordBatch>,
    ) -> Result<()> {
        add_with(sink, id, mode, batches, &Faults::default())
    }

    fn add_with(
        sink: &mut MemorySink,
        id: u64,
        mode: OutputMode,
        batches: Vec<RecordBatch>,
        faults: &Faults,
    ) -> Result<()> {
        sink.add_batch(SinkBatch {
            batch_id: id,
            output_mode: mode,
            schema: schema(),
            batches,
            faults,
        })
    }

    #[test]
    fn append_keeps_all_batches_in_batch_id_order() {
        let mut sink = MemorySink::new("memory_test_append_order");
        add(&mut sink, 1, OutputMode::Append, vec![ints(&[3, 4])]).unwrap();
        add(
            &mut sink,
            0,
            OutputMode::Append,
            vec![ints(&[1]), ints(&[2])],
        )
        .unwrap();
        let table = sink.table();
        assert_eq!(values(&table.batches()), vec![1, 2, 3, 4]);
        assert_eq!(table.num_rows(), 4);
        assert_eq!(table.batch_ids(), vec![0, 1]);
        assert_eq!(values(&table.batch(1).unwrap()), vec![3, 4]);
        assert!(table.batch(2).is_none());
    }

    #[test]
    fn replayed_batch_replaces_its_entry() {
        let mut sink = MemorySink::new("memory_test_replay");
        add(&mut sink, 0, OutputMode::Append, vec![ints(&[1, 2])]).unwrap();
        add(&mut sink, 1, OutputMode::Append, vec![ints(&[3])]).unwrap();
        add(&mut sink, 1, OutputMode::Append, vec![ints(&[3])]).unwrap();
        assert_eq!(values(&sink.table().batches()), vec![1, 2, 3]);
    }

    #[test]
    fn update_mode_appends_like_spark() {
        let mut sink = MemorySink::new("memory_test_update");
        add(&mut sink, 0, OutputMode::Update, vec![ints(&[1])]).unwrap();
        add(&mut sink, 1, OutputMode::Update, vec![ints(&[1])]).unwrap();
        assert_eq!(values(&sink.table().batches()), vec![1, 1]);
    }

    #[test]
    fn complete_mode_keeps_only_latest_batch() {
        let mut sink = MemorySink::new("memory_test_complete");
        add(&mut sink, 0, OutputMode::Complete, vec![ints(&[1, 2])]).unwrap();
        add(&mut sink, 1, OutputMode::Complete, vec![ints(&[1, 2, 3])]).unwrap();
        let table = sink.table();
        assert_eq!(values(&table.batches()), vec![1, 2, 3]);
        assert_eq!(table.batch_ids(), vec![1]);
    }

    #[test]
    fn same_name_shares_the_table_and_get_finds_it() {
        let mut first = MemorySink::new("memory_test_shared");
        add(&mut first, 0, OutputMode::Append, vec![ints(&[1])]).unwrap();
        let mut restarted = MemorySink::new(String::from("memory_test_shared"));
        add(&mut restarted, 1, OutputMode::Append, vec![ints(&[2])]).unwrap();
        let found = MemoryTable::get("memory_test_shared").unwrap();
        assert!(found.same_table(&first.table()));
        assert_eq!(values(&found.batches()), vec![1, 2]);
        assert!(MemoryTable::get("memory_test_never_registered").is_none());
    }

    #[test]
    fn remove_unregisters_but_handles_keep_working() {
        let mut sink = MemorySink::new("memory_test_remove");
        let removed = MemoryTable::remove("memory_test_remove").unwrap();
        assert!(MemoryTable::get("memory_test_remove").is_none());
        add(&mut sink, 0, OutputMode::Append, vec![ints(&[9])]).unwrap();
        assert_eq!(values(&removed.batches()), vec![9]);
        let fresh = MemorySink::new("memory_test_remove").table();
        assert!(!fresh.same_table(&removed));
        assert_eq!(fresh.num_rows(), 0);
    }

    #[test]
    fn clear_empties_the_table() {
        let mut sink = MemorySink::new("memory_test_clear");
        add(&mut sink, 0, OutputMode::Append, vec![ints(&[1])]).unwrap();
        sink.table().clear();
        assert_eq!(sink.table().num_rows(), 0);
        assert!(sink.table().batch_ids().is_empty());
        assert!(MemoryTable::get("memory_test_clear").is_some());
    }

    #[test]
    fn empty_batch_is_recorded_under_its_id() {
        let mut sink = MemorySink::new("memory_test_empty");
        add(&mut sink, 0, OutputMode::Append, vec![]).unwrap();
        assert_eq!(sink.table().batch_ids(), vec![0]);
        assert_eq!(sink.table().num_rows(), 0);
    }

    #[test]
    fn first_half_splits_batches_or_rows() {
        assert!(first_half(&[]).is_empty());
        assert_eq!(values(&first_half(&[ints(&[1, 2, 3, 4, 5])])), vec![1, 2]);
        assert_eq!(values(&first_half(&[ints(&[1]), ints(&[2])])), vec![1]);
        assert_eq!(
            values(&first_half(&[ints(&[1]), ints(&[2]), ints(&[3])])),
            vec![1]
        );
        assert_eq!(first_half(&[ints(&[1])])[0].num_rows(), 0);
    }

    #[test]
    fn modes_and_description() {
        let sink = MemorySink::new("memory_test_modes");
        assert!(OutputMode::ALL.into_iter().all(|m| sink.supports(m)));
        assert_eq!(sink.description(), "MemorySink");
        let debug = format!("{:?}", sink.table());
        assert!(debug.contains("memory_test_modes"), "{debug}");
    }

    #[cfg(feature = "fault-injection")]
    #[test]
    fn fault_mid_write_leaves_partial_entry_that_replay_replaces() {
        use crate::fault::FaultPoint;

        let mut sink = MemorySink::new("memory_test_fault");
        let faults = Faults::default();
        faults.plan(FaultPoint::DuringSinkWrite, 0);
        let batches = vec![ints(&[1, 2]), ints(&[3, 4])];
        let err = add_with(&mut sink, 0, OutputMode::Append, batches.clone(), &faults);
        assert!(matches!(
            err,
            Err(crate::StreamError::InjectedFault { batch_id: 0, .. })
        ));
        assert_eq!(values(&sink.table().batches()), vec![1, 2]);
        // The fault fires once; the replay writes the whole batch over the partial entry.
        add_with(&mut sink, 0, OutputMode::Append, batches, &faults).unwrap();
        assert_eq!(values(&sink.table().batches()), vec![1, 2, 3, 4]);
    }

    #[cfg(feature = "fault-injection")]
    #[test]
    fn fault_mid_write_of_single_batch_keeps_half_its_rows() {
        use crate::fault::FaultPoint;

        let mut sink = MemorySink::new("memory_test_fault_single");
        let faults = Faults::default();
        faults.plan(FaultPoint::DuringSinkWrite, 2);
        let err = add_with(
            &mut sink,
            2,
            OutputMode::Complete,
            vec![ints(&[1, 2, 3, 4])],
            &faults,
        );
        assert!(err.is_err());
        assert_eq!(values(&sink.table().batches()), vec![1, 2]);
        add_with(
            &mut sink,
            2,
            OutputMode::Complete,
            vec![ints(&[1, 2, 3, 4])],
            &faults,
        )
        .unwrap();
        assert_eq!(values(&sink.table().batches()), vec![1, 2, 3, 4]);
    }
}
