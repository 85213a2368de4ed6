//! The runtime of the code `stream!` and `#[derive(Schema)]` generate: the only paths
//! generated code names (as serde's `__private`). Not a stable API.
//!
//! The stateful operators are executors here, written once in ordinary Rust:
//! [`AggregateExec`] (plain, windowed, session and chained aggregations),
//! [`DedupExec`] and [`StreamJoinExec`]. Generated code hands each the typed rows and
//! the small per-row functions that only the macro knows (an [`Aggregation`], a
//! [`StreamJoin`], a key struct) and calls its `map` and `reduce` sides. The executors
//! keep their state through [`crate::state::KeyedState`].

mod aggregate;
mod collect;
mod dedup;
pub mod derive;
mod exchange;
#[cfg(test)]
mod executor_tests;
mod hll;
pub mod kernels;
mod key_column;
mod key_hash;
mod key_string;
mod rows;
mod session;
mod slots;
mod sort_limit;
mod stateful;
mod stream_join;
mod watermark;

pub use aggregate::{AggregateConf, AggregateExec, Aggregation, Grouping};
pub use collect::{SetItem, collect_set_add, collect_set_merge};
pub use dedup::{DedupConf, DedupExec, DedupSeen, DedupTime};
pub use exchange::stable_hash;
pub use hll::{hll_add, hll_estimate, hll_merge};
pub use key_column::{BytesColumn, CopiedColumn, KeyColumn};
pub use key_hash::key_hashes;
pub use key_string::KeyString;
pub use rows::{FlatMapFn, PlaceholderRow};
pub use session::{MergedSession, SessionPart, merge_sessions, session_of};
pub use slots::Slots;
pub use sort_limit::{
    LimitConf, LimitCount, LimitExec, LimitKey, gather_exchange, gather_input, limit_batch,
    sort_batch, sort_cmp, sort_cmp_nullable,
};
pub use stateful::{
    KeyPart, SparkOrd, StableHasher, from_ms, partition_of, spark_gt, spark_lt, to_ms, windows,
    zip_batches,
};
pub use stream_join::{
    JoinRowId, JoinSide, JoinSideConf, StreamJoin, StreamJoinConf, StreamJoinExec,
};

pub use crate::__row as row;
pub use crate::hash::{FastHashMap, FastHashSet};
pub use crate::join::{JoinIndex, JoinTable};
pub use crate::{
    __delta_sink, __feature_csv, __feature_json, __feature_parquet, __kafka_sink, __kafka_source,
};
pub use arrow_array;
pub use arrow_schema;
pub use arrow_select;
pub use watermark::{event_time_stats, observe_event_times};
