//! Query handles: starting a query, watching it, stopping it.

mod builder;
mod handle;
mod manager;
mod typed;

pub(crate) use builder::DEFAULT_MIN_BATCHES_TO_RETAIN;
pub use builder::QueryBuilder;
pub(crate) use handle::QueryInner;
pub use handle::StreamingQuery;
pub use manager::StreamingQueryManager;
pub use typed::{OutputRow, TypedQuery, Untyped};
