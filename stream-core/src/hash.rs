//! The hash maps of state stores and of the partial aggregation `stream!` generates:
//! std's maps with foldhash's fast hasher instead of SipHash. Group keys are short
//! (a window and a few strings or numbers) and hashed once or more per input row, where
//! SipHash took a quarter of a stateful query's time; the hasher is still seeded per
//! process, so keys an attacker picks cannot be aimed at one bucket across runs.
//!
//! The shuffle partition of a key does not use these: it comes from
//! [`crate::__private::StableHasher`], which is the same in every process.

use std::collections::{HashMap, HashSet};

/// A `HashMap` with the fast hasher.
///
/// ```
/// use stream_core::__private::FastHashMap;
///
/// let mut counts: FastHashMap<&str, u64> = FastHashMap::default();
/// *counts.entry("DE").or_default() += 1;
/// assert_eq!(counts["DE"], 1);
/// ```
pub type FastHashMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// A `HashSet` with the fast hasher.
///
/// ```
/// use stream_core::__private::FastHashSet;
///
/// let mut seen: FastHashSet<(String, i64)> = FastHashSet::default();
/// assert!(seen.insert(("ann".into(), 1)));
/// assert!(!seen.insert(("ann".into(), 1)));
/// ```
pub type FastHashSet<K> = HashSet<K, foldhash::fast::RandomState>;
