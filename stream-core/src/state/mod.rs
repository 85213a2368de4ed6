//! The state store of stateful operators (aggregations, deduplication): per operator and
//! shuffle partition, a typed key → value map versioned in the checkpoint.
//!
//! This module so far holds what a store reports: [`StateOperatorMetrics`] and the
//! [`HeapSize`] of keys and values behind its memory estimate.

mod heap_size;
mod metrics;

pub use heap_size::HeapSize;
pub use metrics::StateOperatorMetrics;
