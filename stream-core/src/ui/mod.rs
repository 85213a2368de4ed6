//! The live query page and `/metrics` (cargo feature `ui`): what Spark's Structured
//! Streaming tab shows, and the same numbers for Prometheus.
//!
//! A query started with [`crate::QueryBuilder::ui`] (or with the `STREAM_UI`
//! environment variable set to an address) serves, for every query of its
//! [`crate::StreamingQueryManager`]:
//!
//! | path                 | what                                                        |
//! |----------------------|-------------------------------------------------------------|
//! | `/`                  | the page: rates, rows, batch durations, watermark, state, backlog, the last exception, the plan, with charts over the recent batches |
//! | `/api/queries`       | the same as JSON: `{"served": "live", "queries": [..]}`     |
//! | `/api/queries/{id}`  | one query                                                   |
//! | `/metrics`           | the numbers in the Prometheus (OpenMetrics) text format     |
//!
//! Spark's page dies with the driver; a checkpoint keeps the progress records of its
//! last 100 batches, the plan and the error of a failed run, so [`UiServer::checkpoints`]
//! (and the `stream-ui <checkpoint>...` command) serves the same page for a query that
//! has stopped.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use arrow_schema::{DataType, Field, Schema};
//! use stream_core::{MapPipeline, MemorySink, MemoryStream, StreamingQuery, StreamingQueryManager};
//!
//! let schema = Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, false)]));
//! let checkpoint = tempfile::tempdir()?;
//! let streams = StreamingQueryManager::new();
//! let query = StreamingQuery::builder()
//!     .manager(&streams)
//!     .source(MemoryStream::new(schema.clone()))
//!     .pipeline(MapPipeline::identity(schema))
//!     .sink(MemorySink::new("ui_doc"))
//!     .checkpoint_location(checkpoint.path())
//!     .ui("127.0.0.1:0") // port 0: any free port
//!     .start()?;
//! let address = streams.ui_address().unwrap();
//! assert_ne!(address.port(), 0);
//! query.stop().await;
//! # Ok(()) }
//! ```

mod prometheus;
mod server;
mod view;

pub use server::UiServer;
pub(crate) use server::serve_manager;
