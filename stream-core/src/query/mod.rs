//! Query handles: starting a query, watching it, stopping it.

mod builder;
mod handle;
mod manager;
mod typed;

pub(crate) use builder::DEFAULT_MIN_BATCHES_TO_RETAIN;
pub use builder::QueryBuilder;
pub(crate) use handle::QueryInner;
pub use handle::StreamingQuery;
#[cfg(feature = "ui")]
pub(crate) use handle::{QuerySnapshot, QueryTotals};
pub use manager::StreamingQueryManager;
#[cfg(feature = "ui")]
pub(crate) use manager::WeakManager;
pub use typed::{OutputRow, TypedQuery, Untyped};
