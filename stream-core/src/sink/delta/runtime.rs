//! A tokio runtime owned by the Delta sink, for deltalake's async API.

use std::future::Future;

use crate::{Result, StreamError};

/// A tokio runtime that is shut down without blocking when dropped, so that dropping
/// the sink inside an async context does not panic.
pub(super) struct OwnedRuntime(Option<tokio::runtime::Runtime>);

impl Drop for OwnedRuntime {
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}

impl OwnedRuntime {
    pub(super) fn new() -> Result<Self> {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("delta-sink")
            .enable_all()
            .build()
            .map(|rt| OwnedRuntime(Some(rt)))
            .map_err(|e| {
                StreamError::InvalidQuery(format!(
                    "cannot start the Delta sink's tokio runtime: {e}"
                ))
            })
    }

    /// Runs `future` to completion. Inside an async context (a query started from
    /// `#[tokio::main]`) it runs on a scoped thread, since a runtime cannot block there.
    pub(super) fn block_on<F>(&self, future: F) -> F::Output
    where
        F: Future + Send,
        F::Output: Send,
    {
        let Some(runtime) = self.0.as_ref() else {
            unreachable!("the runtime is only taken on drop");
        };
        if tokio::runtime::Handle::try_current().is_ok() {
            std::thread::scope(|scope| {
                scope
                    .spawn(|| runtime.block_on(future))
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
        } else {
            runtime.block_on(future)
        }
    }
}
