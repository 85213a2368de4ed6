//! `StreamingQueryManager`: the queries of a process, and their listeners.

use std::sync::{Arc, Mutex, MutexGuard, OnceLock, RwLock};

use tokio::sync::watch;

use super::StreamingQuery;
use super::handle::QueryInner;
use crate::StreamError;
use crate::progress::{
    QueryProgressEvent, QueryStartedEvent, QueryTerminatedEvent, StreamingQueryListener,
};

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

#[derive(Clone, Debug, Default)]
struct Terminations {
    count: u64,
    last_error: Option<Arc<StreamError>>,
}

#[derive(Default)]
struct ManagerInner {
    active: Mutex<Vec<StreamingQuery>>,
    listeners: RwLock<Vec<Arc<dyn StreamingQueryListener>>>,
    terminations: watch::Sender<Terminations>,
}

/// The active queries of a process and the listeners that hear about them: Spark's
/// `spark.streams`. Cheap to clone; queries started without
/// [`crate::QueryBuilder::manager`] belong to [`StreamingQueryManager::global`].
///
/// ```
/// use stream_core::StreamingQueryManager;
/// let streams = StreamingQueryManager::new();
/// assert!(streams.active().is_empty());
/// ```
#[derive(Clone, Default)]
pub struct StreamingQueryManager {
    inner: Arc<ManagerInner>,
}

impl std::fmt::Debug for StreamingQueryManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamingQueryManager")
            .field("active", &lock(&self.inner.active).len())
            .finish()
    }
}

impl StreamingQueryManager {
    /// A new manager with no queries.
    pub fn new() -> Self {
        Self::default()
    }

    /// The process-wide manager.
    pub fn global() -> StreamingQueryManager {
        static GLOBAL: OnceLock<StreamingQueryManager> = OnceLock::new();
        GLOBAL.get_or_init(StreamingQueryManager::new).clone()
    }

    /// The queries that are running.
    pub fn active(&self) -> Vec<StreamingQuery> {
        lock(&self.inner.active).clone()
    }

    /// The running query with this id.
    pub fn get(&self, id: &str) -> Option<StreamingQuery> {
        lock(&self.inner.active)
            .iter()
            .find(|q| q.id() == id)
            .cloned()
    }

    /// Adds a listener: it hears every event of this manager's queries from now on,
    /// including later events of queries already running.
    pub fn add_listener(&self, listener: Arc<dyn StreamingQueryListener>) {
        self.inner
            .listeners
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .push(listener);
    }

    /// Removes a listener added before (compared by pointer).
    pub fn remove_listener(&self, listener: &Arc<dyn StreamingQueryListener>) {
        self.inner
            .listeners
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|l| !Arc::ptr_eq(l, listener));
    }

    /// Waits until any query of this manager has stopped since it was created or since
    /// the last [`StreamingQueryManager::reset_terminated`]; an `Err` carries the error
    /// of the last query that failed.
    pub async fn await_any_termination(&self) -> Result<(), Arc<StreamError>> {
        let mut rx = self.inner.terminations.subscribe();
        let t = rx
            .wait_for(|t| t.count > 0)
            .await
            .map(|t| t.clone())
            .unwrap_or_default();
        t.last_error.map_or(Ok(()), Err)
    }

    /// Forgets the queries that stopped, so that `await_any_termination` waits for the
    /// next one.
    pub fn reset_terminated(&self) {
        self.inner
            .terminations
            .send_replace(Terminations::default());
    }

    /// Registers a starting query; refuses a second active query with the same id (the
    /// same checkpoint).
    pub(crate) fn register(&self, query: &StreamingQuery) -> Result<(), StreamError> {
        let mut active = lock(&self.inner.active);
        if active.iter().any(|q| q.id() == query.id()) {
            return Err(StreamError::InvalidQuery(format!(
                "a query with id `{}` is already active on this checkpoint; stop it first",
                query.id()
            )));
        }
        active.push(query.clone());
        Ok(())
    }

    fn listeners(&self) -> Vec<Arc<dyn StreamingQueryListener>> {
        self.inner
            .listeners
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub(crate) fn post_started(&self, event: &QueryStartedEvent) {
        for l in self.listeners() {
            l.on_query_started(event);
        }
    }

    pub(crate) fn post_progress(&self, event: &QueryProgressEvent) {
        for l in self.listeners() {
            l.on_query_progress(event);
        }
    }

    /// Forgets `query` as active (a start that failed after it registered).
    pub(crate) fn unregister(&self, query: &QueryInner) {
        lock(&self.inner.active).retain(|q| q.inner.run_id != query.run_id);
    }

    pub(crate) fn post_terminated(&self, query: &QueryInner, error: Option<Arc<StreamError>>) {
        self.unregister(query);
        let event = QueryTerminatedEvent {
            id: query.id.clone(),
            run_id: query.run_id.clone(),
            exception: error.as_ref().map(|e| e.to_string()),
        };
        for l in self.listeners() {
            l.on_query_terminated(&event);
        }
        self.inner.terminations.send_modify(|t| {
            t.count += 1;
            if error.is_some() {
                t.last_error = error;
            }
        });
    }
}
