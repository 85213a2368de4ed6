//! `StreamingQueryManager`: the queries of a process, and their listeners.

use std::sync::{Arc, Mutex, MutexGuard, OnceLock, RwLock};

use tokio::sync::watch;

use super::StreamingQuery;
use super::handle::QueryInner;
#[cfg(feature = "ui")]
use super::handle::QuerySnapshot;
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

/// How many stopped queries a manager remembers for its page (Spark's
/// `spark.sql.streaming.ui.retainedQueries`).
#[cfg(feature = "ui")]
const RETAINED_STOPPED: usize = 100;

#[derive(Default)]
struct ManagerInner {
    active: Mutex<Vec<StreamingQuery>>,
    /// What the queries that ran and stopped left, oldest first, for the live page (a
    /// snapshot, not the handle: a handle holds its manager).
    #[cfg(feature = "ui")]
    stopped: Mutex<std::collections::VecDeque<QuerySnapshot>>,
    listeners: RwLock<Vec<Arc<dyn StreamingQueryListener>>>,
    terminations: watch::Sender<Terminations>,
    /// The page of this manager's queries, once served.
    #[cfg(feature = "ui")]
    ui: Mutex<Option<crate::ui::UiServer>>,
}

/// A manager that the page's server holds without keeping it alive.
#[cfg(feature = "ui")]
#[derive(Clone)]
pub(crate) struct WeakManager(std::sync::Weak<ManagerInner>);

#[cfg(feature = "ui")]
impl WeakManager {
    pub(crate) fn upgrade(&self) -> Option<StreamingQueryManager> {
        self.0
            .upgrade()
            .map(|inner| StreamingQueryManager { inner })
    }
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

    /// Every query of this manager as its page shows it: the running ones, then the
    /// last 100 that stopped, newest first.
    #[cfg(feature = "ui")]
    pub(crate) fn snapshots(&self) -> Vec<QuerySnapshot> {
        let mut all: Vec<QuerySnapshot> = self
            .active()
            .iter()
            .map(|q| {
                let exception = q.exception();
                q.inner.snapshot(exception.as_deref(), q.is_active())
            })
            .collect();
        all.extend(lock(&self.inner.stopped).iter().rev().cloned());
        all
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

    /// Serves the page and `/metrics` of this manager's queries at `addr` (`host:port`;
    /// port 0 picks a free one) and returns the address it listens on. The server runs
    /// until the manager is dropped. A manager has one page: asked again, it returns the
    /// address it has, unless `addr` names another port, which is an error.
    ///
    /// ```
    /// use stream_core::StreamingQueryManager;
    ///
    /// let streams = StreamingQueryManager::new();
    /// let address = streams.serve_ui("127.0.0.1:0").unwrap();
    /// assert_eq!(streams.ui_address(), Some(address));
    /// assert_eq!(streams.serve_ui("127.0.0.1:0").unwrap(), address);
    /// ```
    #[cfg(feature = "ui")]
    pub fn serve_ui(&self, addr: &str) -> Result<std::net::SocketAddr, StreamError> {
        let mut ui = lock(&self.inner.ui);
        if let Some(server) = ui.as_ref() {
            let bound = server.address();
            let same = addr
                .rsplit_once(':')
                .and_then(|(_, port)| port.parse::<u16>().ok())
                .is_some_and(|port| port == 0 || port == bound.port());
            if same {
                return Ok(bound);
            }
            return Err(StreamError::InvalidOption {
                name: "ui".into(),
                message: format!(
                    "this manager's page is served at {bound} already; a manager has one page, and `{addr}` is another address"
                ),
            });
        }
        let server = crate::ui::serve_manager(WeakManager(Arc::downgrade(&self.inner)), addr)?;
        let bound = server.address();
        *ui = Some(server);
        Ok(bound)
    }

    /// Where this manager's page is served, if it is.
    #[cfg(feature = "ui")]
    pub fn ui_address(&self) -> Option<std::net::SocketAddr> {
        lock(&self.inner.ui).as_ref().map(|s| s.address())
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

    /// Keeps what the page shows of `query`, which stops, if it ran (was active).
    #[cfg(feature = "ui")]
    fn retain_stopped(&self, query: &QueryInner, error: Option<&StreamError>) {
        let ran = lock(&self.inner.active)
            .iter()
            .any(|q| q.inner.run_id == query.run_id);
        if ran {
            let mut stopped = lock(&self.inner.stopped);
            if stopped.len() == RETAINED_STOPPED {
                stopped.pop_front();
            }
            stopped.push_back(query.snapshot(error, false));
        }
    }

    /// Forgets `query` as active (a start that failed after it registered).
    pub(crate) fn unregister(&self, query: &QueryInner) {
        lock(&self.inner.active).retain(|q| q.inner.run_id != query.run_id);
    }

    pub(crate) fn post_terminated(&self, query: &QueryInner, error: Option<Arc<StreamError>>) {
        #[cfg(feature = "ui")]
        self.retain_stopped(query, error.as_deref());
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
