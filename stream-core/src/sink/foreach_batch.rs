//! The foreach-batch sink: hands each micro-batch to a user closure, like Spark's
//! `foreachBatch`.

use std::fmt;

use arrow_array::RecordBatch;

use super::{Sink, SinkBatch};
use crate::{OutputMode, Result, StreamError};

/// The name the sink reports in progress records and errors.
const DESCRIPTION: &str = "ForeachBatchSink";

/// The user's closure, with its error turned into text.
type BatchFn = dyn FnMut(u64, &[RecordBatch]) -> Result<(), String> + Send;

/// Calls a closure with the id and the rows of every micro-batch, like Spark's
/// `foreachBatch`. It takes every output mode.
///
/// **At-least-once.** The closure's side effects are outside the checkpoint: if the
/// query stops after the closure has run but before the batch is committed, the restarted
/// query calls the closure again with the same batch id and the same rows. Use the batch
/// id as the idempotence key (replace or skip what batch N already wrote), and the result
/// is exactly-once.
///
/// An `Err` from the closure stops the query with [`StreamError::Sink`], naming the batch
/// id and the closure's message.
///
/// ```
/// use std::collections::BTreeMap;
/// use std::sync::{Arc, Mutex};
/// use arrow_array::RecordBatch;
/// use stream_core::{ForeachBatchSink, OutputMode, Sink};
///
/// // Row counts keyed by batch id: a replayed batch overwrites its own entry, so every
/// // batch is counted once even though the closure may run twice for it.
/// let counts: Arc<Mutex<BTreeMap<u64, usize>>> = Arc::default();
/// let store = counts.clone();
/// let sink = ForeachBatchSink::new(move |batch_id: u64, batches: &[RecordBatch]| {
///     let rows = batches.iter().map(RecordBatch::num_rows).sum();
///     let mut store = store.lock().map_err(|_| "store poisoned")?;
///     store.insert(batch_id, rows);
///     Ok::<(), &str>(())
/// });
/// assert_eq!(sink.description(), "ForeachBatchSink");
/// assert!(sink.supports(OutputMode::Complete));
/// ```
pub struct ForeachBatchSink {
    f: Box<BatchFn>,
}

impl ForeachBatchSink {
    /// A sink calling `f(batch_id, rows)` for every micro-batch. The error's `Display`
    /// text becomes the message of the query's error.
    ///
    /// ```
    /// use stream_core::ForeachBatchSink;
    ///
    /// let sink = ForeachBatchSink::new(|batch_id, batches| {
    ///     println!("batch {batch_id}: {} record batches", batches.len());
    ///     Ok::<(), std::io::Error>(())
    /// });
    /// # drop(sink);
    /// ```
    pub fn new<F, E>(mut f: F) -> Self
    where
        F: FnMut(u64, &[RecordBatch]) -> Result<(), E> + Send + 'static,
        E: fmt::Display,
    {
        ForeachBatchSink {
            f: Box::new(move |batch_id, batches| f(batch_id, batches).map_err(|e| e.to_string())),
        }
    }
}

impl fmt::Debug for ForeachBatchSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct(DESCRIPTION).finish_non_exhaustive()
    }
}

impl Sink for ForeachBatchSink {
    fn description(&self) -> String {
        DESCRIPTION.to_string()
    }

    fn supports(&self, _mode: OutputMode) -> bool {
        true
    }

    /// Runs the closure; then the crash tests' fault point, which models a crash after
    /// the user's side effect (the batch is replayed).
    fn add_batch(&mut self, batch: SinkBatch<'_>) -> Result<()> {
        (self.f)(batch.batch_id, &batch.batches).map_err(|message| StreamError::Sink {
            sink: DESCRIPTION.to_string(),
            batch_id: batch.batch_id,
            message,
        })?;
        batch.fault_point_mid_write()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use arrow_array::Int64Array;
    use arrow_schema::{DataType, Field, Schema, SchemaRef};

    use super::*;
    use crate::fault::Faults;

    fn schema() -> SchemaRef {
        Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, false)]))
    }

    fn ints(values: &[i64]) -> RecordBatch {
        RecordBatch::try_new(schema(), vec![Arc::new(Int64Array::from(values.to_vec()))]).unwrap()
    }

    fn add(
        sink: &mut ForeachBatchSink,
        id: u64,
        batches: Vec<RecordBatch>,
        faults: &Faults,
    ) -> Result<()> {
        sink.add_batch(SinkBatch {
            batch_id: id,
            output_mode: OutputMode::Update,
            schema: schema(),
            batches,
            faults,
        })
    }

    type Calls = Arc<Mutex<Vec<(u64, Vec<RecordBatch>)>>>;

    fn recording_sink() -> (ForeachBatchSink, Calls) {
        let calls: Calls = Arc::default();
        let seen = calls.clone();
        let sink = ForeachBatchSink::new(move |id, batches: &[RecordBatch]| {
            seen.lock().unwrap().push((id, batches.to_vec()));
            Ok::<(), String>(())
        });
        (sink, calls)
    }

    #[test]
    fn calls_closure_with_batch_id_and_rows_in_order() {
        let (mut sink, calls) = recording_sink();
        let faults = Faults::default();
        add(&mut sink, 0, vec![ints(&[1, 2]), ints(&[3])], &faults).unwrap();
        add(&mut sink, 1, vec![], &faults).unwrap();
        let calls = calls.lock().unwrap();
        assert_eq!(calls.len(), 2);
        assert_eq!(calls[0].0, 0);
        assert_eq!(calls[0].1, vec![ints(&[1, 2]), ints(&[3])]);
        assert_eq!((calls[1].0, calls[1].1.len()), (1, 0));
    }

    #[test]
    fn closure_error_becomes_sink_error_naming_the_batch() {
        let mut sink = ForeachBatchSink::new(|id, _: &[RecordBatch]| {
            if id == 4 {
                Err(format!("table locked at batch {id}"))
            } else {
                Ok(())
            }
        });
        let faults = Faults::default();
        add(&mut sink, 3, vec![ints(&[1])], &faults).unwrap();
        let err = add(&mut sink, 4, vec![ints(&[1])], &faults).unwrap_err();
        match &err {
            StreamError::Sink {
                sink,
                batch_id,
                message,
            } => {
                assert_eq!(sink, "ForeachBatchSink");
                assert_eq!(*batch_id, 4);
                assert_eq!(message, "table locked at batch 4");
            }
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(
            err.to_string(),
            "sink `ForeachBatchSink` failed on batch 4: table locked at batch 4"
        );
    }

    #[test]
    fn closure_state_persists_between_batches() {
        let total = Arc::new(Mutex::new(0usize));
        let sum = total.clone();
        let mut count = 0u32;
        let mut sink = ForeachBatchSink::new(move |_, batches: &[RecordBatch]| {
            count += 1;
            *sum.lock().unwrap() += batches.iter().map(RecordBatch::num_rows).sum::<usize>();
            if count > 2 {
                Err("too many calls")
            } else {
                Ok(())
            }
        });
        let faults = Faults::default();
        add(&mut sink, 0, vec![ints(&[1, 2])], &faults).unwrap();
        add(&mut sink, 1, vec![ints(&[3])], &faults).unwrap();
        assert!(add(&mut sink, 2, vec![], &faults).is_err());
        assert_eq!(*total.lock().unwrap(), 3);
    }

    #[test]
    fn supports_all_modes_and_debug() {
        let (sink, _) = recording_sink();
        assert!(OutputMode::ALL.into_iter().all(|m| sink.supports(m)));
        assert_eq!(sink.description(), "ForeachBatchSink");
        assert_eq!(format!("{sink:?}"), "ForeachBatchSink { .. }");
    }

    #[cfg(feature = "fault-injection")]
    #[test]
    fn fault_after_closure_replays_the_same_batch() {
        use crate::fault::FaultPoint;

        let (mut sink, calls) = recording_sink();
        let faults = Faults::default();
        faults.plan(FaultPoint::DuringSinkWrite, 0);
        let err = add(&mut sink, 0, vec![ints(&[1])], &faults).unwrap_err();
        assert!(matches!(
            err,
            StreamError::InjectedFault { batch_id: 0, .. }
        ));
        // The side effect happened before the fault: at-least-once.
        assert_eq!(calls.lock().unwrap().len(), 1);
        add(&mut sink, 0, vec![ints(&[1])], &faults).unwrap();
        let calls = calls.lock().unwrap();
        assert_eq!(calls.len(), 2);
        assert_eq!(calls[0], calls[1]);
    }
}
