//! Query handles: starting a query, watching it, stopping it.

mod builder;
mod handle;
mod manager;
mod typed;

pub use builder::QueryBuilder;
pub(crate) use handle::QueryInner;
pub use handle::StreamingQuery;
pub use manager::StreamingQueryManager;
pub use typed::{OutputRow, TypedQuery, Untyped};
