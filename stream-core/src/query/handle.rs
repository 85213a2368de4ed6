//! `StreamingQuery`: the handle of a running query.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::watch;

use super::StreamingQueryManager;
use crate::StreamError;
use crate::clock::Clock;
use crate::progress::{QueryProgressEvent, StreamingQueryProgress, StreamingQueryStatus};

/// How many progress records a query keeps (Spark's default for
/// `spark.sql.streaming.numRecentProgressUpdates`).
const RECENT_PROGRESS: usize = 100;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// What async waiters watch.
#[derive(Clone, Copy, Debug, Default)]
struct Signals {
    /// The highest `process_all_available` request a caught-up trigger has seen.
    caught_up: u64,
    terminated: bool,
}

#[derive(Debug, Default)]
struct QueryState {
    status: StreamingQueryStatus,
    recent: VecDeque<StreamingQueryProgress>,
    exception: Option<Arc<StreamError>>,
    #[cfg(feature = "ui")]
    totals: QueryTotals,
}

/// A query as the live page shows it, taken at one moment.
#[cfg(feature = "ui")]
#[derive(Clone, Debug)]
pub(crate) struct QuerySnapshot {
    pub(crate) id: String,
    pub(crate) run_id: String,
    pub(crate) name: Option<String>,
    pub(crate) active: bool,
    pub(crate) status: StreamingQueryStatus,
    pub(crate) exception: Option<String>,
    /// The recent progress records, oldest first.
    pub(crate) progress: Vec<StreamingQueryProgress>,
    pub(crate) totals: QueryTotals,
    /// The compiled plan's text.
    pub(crate) plan: String,
}

/// What a run has done since it started, summed over all its batches (the recent
/// progress records keep only the last 100).
#[cfg(feature = "ui")]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct QueryTotals {
    pub(crate) batches: u64,
    pub(crate) input_rows: u64,
    pub(crate) output_rows: u64,
    /// Rows the stateful operators dropped as late, summed over the operators.
    pub(crate) late_rows_dropped: u64,
}

#[cfg(feature = "ui")]
impl QueryTotals {
    /// Adds one batch's progress record.
    pub(crate) fn add(&mut self, progress: &StreamingQueryProgress) {
        self.batches += 1;
        self.input_rows += progress.num_input_rows;
        self.output_rows += progress.sink.num_output_rows.max(0) as u64;
        self.late_rows_dropped += progress
            .state_operators
            .iter()
            .map(|s| s.metrics.num_rows_dropped_by_watermark)
            .sum::<u64>();
    }
}

/// Shared between the handle(s) and the query's thread.
#[derive(Debug)]
pub(crate) struct QueryInner {
    pub(crate) id: String,
    pub(crate) run_id: String,
    pub(crate) name: Option<String>,
    /// The compiled plan's text ([`crate::Pipeline::explain`]).
    pub(crate) plan: String,
    clock: Arc<dyn Clock>,
    stop: AtomicBool,
    requests: AtomicU64,
    wake: (Mutex<u64>, Condvar),
    state: Mutex<QueryState>,
    signals: watch::Sender<Signals>,
    pub(crate) manager: StreamingQueryManager,
}

impl QueryInner {
    pub(crate) fn new(
        id: String,
        name: Option<String>,
        plan: String,
        clock: Arc<dyn Clock>,
        manager: StreamingQueryManager,
    ) -> Self {
        QueryInner {
            id,
            run_id: uuid::Uuid::new_v4().to_string(),
            name,
            plan,
            clock,
            stop: AtomicBool::new(false),
            requests: AtomicU64::new(0),
            wake: (Mutex::new(0), Condvar::new()),
            state: Mutex::new(QueryState::default()),
            signals: watch::Sender::new(Signals::default()),
            manager,
        }
    }

    pub(crate) fn stop_requested(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    fn request_stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
        self.notify();
    }

    fn notify(&self) {
        *lock(&self.wake.0) += 1;
        self.wake.1.notify_all();
        self.clock.wake();
    }

    /// The newest `process_all_available` request, read at the start of a trigger.
    pub(crate) fn process_all_requests(&self) -> u64 {
        self.requests.load(Ordering::SeqCst)
    }

    /// A trigger that started after request `seen` found no new data.
    pub(crate) fn mark_caught_up(&self, seen: u64) {
        self.signals
            .send_modify(|s| s.caught_up = s.caught_up.max(seen));
    }

    /// Waits up to `timeout` of real time, or until stopped or asked to process all.
    pub(crate) fn idle_wait(&self, timeout: Duration) {
        let guard = lock(&self.wake.0);
        let seen = *guard;
        let _ = self
            .wake
            .1
            .wait_timeout_while(guard, timeout, |g| *g == seen && !self.stop_requested());
    }

    pub(crate) fn set_status(&self, message: &str, data: bool, active: bool) {
        lock(&self.state).status = StreamingQueryStatus {
            message: message.to_string(),
            is_data_available: data,
            is_trigger_active: active,
        };
    }

    pub(crate) fn report_progress(&self, progress: StreamingQueryProgress) {
        {
            let mut state = lock(&self.state);
            #[cfg(feature = "ui")]
            state.totals.add(&progress);
            if state.recent.len() == RECENT_PROGRESS {
                state.recent.pop_front();
            }
            state.recent.push_back(progress.clone());
        }
        tracing::debug!(query = %self.id, "{}", progress.json());
        self.manager.post_progress(&QueryProgressEvent { progress });
    }

    /// What the page shows of this run now: `error` is the one that stopped it, if any.
    #[cfg(feature = "ui")]
    pub(crate) fn snapshot(&self, error: Option<&StreamError>, active: bool) -> QuerySnapshot {
        let state = lock(&self.state);
        QuerySnapshot {
            id: self.id.clone(),
            run_id: self.run_id.clone(),
            name: self.name.clone(),
            active,
            status: state.status.clone(),
            exception: error.map(|e| e.to_string()),
            progress: state.recent.iter().cloned().collect(),
            totals: state.totals,
            plan: self.plan.clone(),
        }
    }

    /// Records the end of the query's thread.
    pub(crate) fn finish(&self, error: Option<StreamError>) {
        let error = error.map(Arc::new);
        {
            let mut state = lock(&self.state);
            state.exception = error.clone();
            state.status = StreamingQueryStatus {
                message: "Stopped".into(),
                is_data_available: false,
                is_trigger_active: false,
            };
        }
        if let Some(e) = &error {
            tracing::error!(query = %self.id, "query terminated with error: {e}");
        }
        self.manager.post_terminated(self, error);
        self.signals.send_modify(|s| s.terminated = true);
    }
}

/// The handle of a started query: Spark's `StreamingQuery`. Cheap to clone.
///
/// ```
/// # use std::sync::Arc;
/// # use arrow_array::{Int64Array, RecordBatch};
/// # use arrow_schema::{DataType, Field, Schema};
/// # use stream_core::{MapPipeline, MemorySink, MemoryStream, StreamingQuery};
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> stream_core::Result<()> {
/// # let schema = Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, false)]));
/// # let checkpoint = tempfile::tempdir().unwrap();
/// let input = MemoryStream::new(schema.clone());
/// let query = StreamingQuery::builder()
///     .query_name("numbers")
///     .source(input.clone())
///     .pipeline(MapPipeline::identity(schema.clone()))
///     .sink(MemorySink::new("numbers_doc"))
///     .checkpoint_location(checkpoint.path())
///     .start()?;
/// input.add_batch(RecordBatch::try_new(schema, vec![Arc::new(Int64Array::from(vec![7]))])?)?;
/// query.process_all_available().await.unwrap();
/// assert_eq!(query.last_progress().unwrap().num_input_rows, 1);
/// query.stop().await;
/// assert!(!query.is_active());
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct StreamingQuery {
    pub(crate) inner: Arc<QueryInner>,
}

impl StreamingQuery {
    /// A builder for a new query.
    pub fn builder() -> super::QueryBuilder {
        super::QueryBuilder::default()
    }

    /// The query's id: written in the checkpoint, the same after every restart.
    pub fn id(&self) -> &str {
        &self.inner.id
    }

    /// This run's id: new at every start.
    pub fn run_id(&self) -> &str {
        &self.inner.run_id
    }

    /// The query's name, if given.
    pub fn name(&self) -> Option<&str> {
        self.inner.name.as_deref()
    }

    /// The text of the query's compiled plan, taken from its pipeline when it started
    /// ([`crate::Pipeline::explain`]): a `stream!` block's operators from the sink down
    /// to the sources, as the live page shows them and Spark's `explain()` prints them.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use arrow_schema::{DataType, Field, Schema};
    /// # use stream_core::{MapPipeline, MemorySink, MemoryStream, Pipeline, StreamingQuery};
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> stream_core::Result<()> {
    /// # let schema = Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, false)]));
    /// # let checkpoint = tempfile::tempdir().unwrap();
    /// let query = StreamingQuery::builder()
    ///     .source(MemoryStream::new(schema.clone()))
    ///     .pipeline(MapPipeline::identity(schema.clone()))
    ///     .sink(MemorySink::new("explained_doc"))
    ///     .checkpoint_location(checkpoint.path())
    ///     .start()?;
    /// assert_eq!(query.explain(), MapPipeline::identity(schema).explain());
    /// assert!(query.explain().starts_with("== Compiled plan ==\n"));
    /// query.stop().await;
    /// # Ok(()) }
    /// ```
    pub fn explain(&self) -> &str {
        &self.inner.plan
    }

    /// Whether the query's thread is still running.
    pub fn is_active(&self) -> bool {
        !self.inner.signals.borrow().terminated
    }

    /// The error that stopped the query, if it failed.
    pub fn exception(&self) -> Option<Arc<StreamError>> {
        lock(&self.inner.state).exception.clone()
    }

    /// The progress of the last batch.
    pub fn last_progress(&self) -> Option<StreamingQueryProgress> {
        lock(&self.inner.state).recent.back().cloned()
    }

    /// The progress of the most recent batches (up to 100), oldest first.
    pub fn recent_progress(&self) -> Vec<StreamingQueryProgress> {
        lock(&self.inner.state).recent.iter().cloned().collect()
    }

    /// What the query is doing now.
    pub fn status(&self) -> StreamingQueryStatus {
        lock(&self.inner.state).status.clone()
    }

    /// Waits until the query stops; an `Err` carries the error that stopped it.
    pub async fn await_termination(&self) -> Result<(), Arc<StreamError>> {
        let mut rx = self.inner.signals.subscribe();
        let _ = rx.wait_for(|s| s.terminated).await;
        self.exception().map_or(Ok(()), Err)
    }

    /// Waits at most `timeout`; `Ok(true)` if the query stopped without error in time,
    /// `Ok(false)` if it is still running.
    pub async fn await_termination_timeout(
        &self,
        timeout: Duration,
    ) -> Result<bool, Arc<StreamError>> {
        match tokio::time::timeout(timeout, self.await_termination()).await {
            Ok(result) => result.map(|()| true),
            Err(_) => Ok(false),
        }
    }

    /// Blocks until every row available in the sources when it was called has been
    /// processed and committed, or the query stopped. For tests: with a
    /// `processing_time` trigger it waits for the next trigger.
    pub async fn process_all_available(&self) -> Result<(), Arc<StreamError>> {
        let request = self.inner.requests.fetch_add(1, Ordering::SeqCst) + 1;
        self.inner.notify();
        let mut rx = self.inner.signals.subscribe();
        let _ = rx
            .wait_for(|s| s.caught_up >= request || s.terminated)
            .await;
        self.exception().map_or(Ok(()), Err)
    }

    /// Stops the query: the batch in progress finishes, then the query's thread ends.
    /// Returns once it has.
    pub async fn stop(&self) {
        self.inner.request_stop();
        let mut rx = self.inner.signals.subscribe();
        let _ = rx.wait_for(|s| s.terminated).await;
    }
}
