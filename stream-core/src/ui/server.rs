//! The HTTP server of the page: axum on a one-thread tokio runtime of its own thread.
//!
//! The query runs on its own thread and the user's code may or may not run a tokio
//! runtime (or block the one it has), so the server does not borrow one: it owns a
//! small current-thread runtime on a thread named `stream-ui`, which ends when the
//! [`UiServer`] is stopped or dropped.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use tokio::sync::oneshot;

use super::prometheus;
use super::view::QueryView;
use crate::checkpoint::ProgressHistory;
use crate::query::WeakManager;
use crate::{Result, StreamError};

const PAGE: &str = include_str!("page.html");

/// Where the views come from.
#[derive(Clone)]
enum Served {
    /// The queries of a manager, running and stopped.
    Live(WeakManager),
    /// Stopped queries, from their checkpoint folders.
    Checkpoints(Arc<Vec<PathBuf>>),
}

impl Served {
    fn kind(&self) -> &'static str {
        match self {
            Served::Live(_) => "live",
            Served::Checkpoints(_) => "checkpoint",
        }
    }

    /// Every query, newest started first; a checkpoint that cannot be read is left out
    /// with a warning (the others are still shown).
    fn views(&self) -> Vec<QueryView> {
        match self {
            Served::Live(manager) => manager
                .upgrade()
                .map(|m| m.snapshots().into_iter().map(QueryView::live).collect())
                .unwrap_or_default(),
            Served::Checkpoints(dirs) => dirs
                .iter()
                .filter_map(|dir| match ProgressHistory::read(dir) {
                    Ok(history) => Some(QueryView::from_checkpoint(history)),
                    Err(e) => {
                        tracing::warn!("cannot show checkpoint `{}`: {e}", dir.display());
                        None
                    }
                })
                .collect(),
        }
    }
}

/// A running page server; stopped when dropped.
///
/// [`crate::QueryBuilder::ui`] starts one for the query's manager; this type also
/// serves the page of stopped queries from their checkpoint folders, which is what the
/// `stream-ui` command does.
///
/// ```
/// use stream_core::ui::UiServer;
///
/// let dir = tempfile::tempdir().unwrap(); // not a checkpoint: the page lists nothing
/// let server = UiServer::checkpoints(vec![dir.path().into()], "127.0.0.1:0").unwrap();
/// assert_ne!(server.address().port(), 0);
/// server.stop();
/// ```
#[derive(Debug)]
pub struct UiServer {
    address: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl UiServer {
    /// Serves the page of the stopped queries whose checkpoint folders are `dirs`, at
    /// `addr` (`host:port`; port 0 picks a free one), from the progress records each
    /// checkpoint keeps (its last 100 batches).
    pub fn checkpoints(dirs: Vec<PathBuf>, addr: &str) -> Result<UiServer> {
        start(Served::Checkpoints(Arc::new(dirs)), addr)
    }

    /// The address the server listens on.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Stops the server and waits for its thread to end.
    pub fn stop(mut self) {
        self.shut_down();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }

    fn shut_down(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

impl Drop for UiServer {
    fn drop(&mut self) {
        // no join: the last handle of a manager may be dropped on the server's own thread
        self.shut_down();
    }
}

/// The page of a manager's queries.
pub(crate) fn serve_manager(manager: WeakManager, addr: &str) -> Result<UiServer> {
    start(Served::Live(manager), addr)
}

fn start(served: Served, addr: &str) -> Result<UiServer> {
    let ui_error = |message: String| StreamError::InvalidOption {
        name: "ui".into(),
        message,
    };
    let listener = std::net::TcpListener::bind(addr)
        .map_err(|e| ui_error(format!("cannot listen on `{addr}`: {e}")))?;
    let address = listener
        .local_addr()
        .map_err(|e| ui_error(format!("cannot listen on `{addr}`: {e}")))?;
    listener
        .set_nonblocking(true)
        .map_err(|e| ui_error(format!("cannot listen on `{addr}`: {e}")))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| ui_error(format!("cannot start the page's runtime: {e}")))?;
    let (shutdown, stopped) = oneshot::channel::<()>();
    let app = router(served);
    let thread = std::thread::Builder::new()
        .name("stream-ui".into())
        .spawn(move || {
            runtime.block_on(async move {
                let listener = match tokio::net::TcpListener::from_std(listener) {
                    Ok(l) => l,
                    Err(e) => {
                        tracing::error!("the page cannot listen on {address}: {e}");
                        return;
                    }
                };
                let served = axum::serve(listener, app).with_graceful_shutdown(async {
                    let _ = stopped.await;
                });
                if let Err(e) = served.await {
                    tracing::error!("the page at {address} stopped: {e}");
                }
            });
        })
        .map_err(|e| ui_error(format!("cannot start the page's thread: {e}")))?;
    tracing::info!("query page at http://{address}/ (metrics at /metrics)");
    Ok(UiServer {
        address,
        shutdown: Some(shutdown),
        thread: Some(thread),
    })
}

fn router(served: Served) -> Router {
    Router::new()
        .route("/", get(|| async { Html(PAGE) }))
        .route("/api/queries", get(list))
        .route("/api/queries/{id}", get(one))
        .route("/metrics", get(metrics))
        .with_state(served)
}

fn json(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

async fn list(State(served): State<Served>) -> Response {
    let body = serde_json::json!({ "served": served.kind(), "queries": served.views() });
    json(StatusCode::OK, body.to_string())
}

async fn one(State(served): State<Served>, Path(id): Path<String>) -> Response {
    match served.views().into_iter().find(|q| q.id == id) {
        Some(view) => json(
            StatusCode::OK,
            serde_json::to_string(&view).unwrap_or_default(),
        ),
        None => json(
            StatusCode::NOT_FOUND,
            serde_json::json!({ "error": format!("no query with id `{id}`") }).to_string(),
        ),
    }
}

async fn metrics(State(served): State<Served>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        prometheus::render(&served.views()),
    )
        .into_response()
}
