//! Session windows (Spark's `session_window(ts, gap)`): each event opens the session
//! `[ts, ts + gap)`, and the sessions of one group that overlap or touch merge into one
//! whose end is the latest end among them. The code `stream!` generates for a session
//! aggregation merges each task's sessions before the exchange, then a partition's
//! stored sessions with the incoming ones. Reached through `__private`; not a stable API.

/// One session of a group before merging: `[start, end)`, its accumulated value, and the
/// state store key it is stored under (`None` for a session of this batch's input).
#[derive(Clone, Debug, PartialEq)]
pub struct SessionPart<K, V> {
    /// The time of its first event.
    pub start: i64,
    /// The time of its last event plus the gap.
    pub end: i64,
    /// Its aggregate so far.
    pub value: V,
    /// Its key in the state store, if it is stored.
    pub stored: Option<K>,
}

/// A session after merging.
#[derive(Clone, Debug, PartialEq)]
pub struct MergedSession<K, V> {
    /// The earliest start of the sessions it merged.
    pub start: i64,
    /// The latest end of the sessions it merged.
    pub end: i64,
    /// Their values, merged in the order of their starts.
    pub value: V,
    /// The keys of the stored sessions it replaces.
    pub replaces: Vec<K>,
    /// False when it is one stored session that nothing merged into: the store already
    /// holds it as it is.
    pub changed: bool,
}

/// The session an event at `t` opens: `[t, t + gap)` (the end saturates at `i64::MAX`).
///
/// ```
/// use stream_core::__private::session_of;
/// assert_eq!(session_of(10, 5), (10, 15));
/// assert_eq!(session_of(i64::MAX - 1, 5), (i64::MAX - 1, i64::MAX));
/// ```
pub fn session_of(t: i64, gap: i64) -> (i64, i64) {
    (t, t.saturating_add(gap))
}

/// Merges the sessions of one group as Spark does: sorted by start, a session whose start
/// is at or before the end of the one being built joins it (so `[0, 5)` and `[5, 10)`
/// become `[0, 10)`), its value merged in by `merge(into, from)`. At equal starts a stored
/// session comes first. The result is sorted by start and its sessions neither overlap
/// nor touch.
///
/// ```
/// use stream_core::__private::{SessionPart, merge_sessions};
/// let part = |start, end, value, stored| SessionPart { start, end, value, stored };
/// let merged = merge_sessions(
///     vec![part(0, 5, 1, Some("a")), part(12, 17, 1, Some("b")), part(4, 13, 1, None)],
///     |into: &mut i64, from| *into += from,
/// );
/// // the new session [4, 13) bridges the stored [0, 5) and [12, 17)
/// assert_eq!(merged.len(), 1);
/// assert_eq!((merged[0].start, merged[0].end, merged[0].value), (0, 17, 3));
/// assert_eq!(merged[0].replaces, ["a", "b"]);
/// ```
pub fn merge_sessions<K, V>(
    mut parts: Vec<SessionPart<K, V>>,
    mut merge: impl FnMut(&mut V, V),
) -> Vec<MergedSession<K, V>> {
    parts.sort_by_key(|p| (p.start, p.stored.is_none()));
    let mut merged: Vec<MergedSession<K, V>> = Vec::new();
    for part in parts {
        match merged.last_mut() {
            Some(current) if part.start <= current.end => {
                current.end = current.end.max(part.end);
                merge(&mut current.value, part.value);
                current.replaces.extend(part.stored);
                current.changed = true;
            }
            _ => merged.push(MergedSession {
                start: part.start,
                end: part.end,
                value: part.value,
                changed: part.stored.is_none(),
                replaces: part.stored.into_iter().collect(),
            }),
        }
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new(start: i64, end: i64) -> SessionPart<u32, Vec<i64>> {
        SessionPart {
            start,
            end,
            value: vec![start],
            stored: None,
        }
    }

    fn stored(start: i64, end: i64, key: u32) -> SessionPart<u32, Vec<i64>> {
        SessionPart {
            stored: Some(key),
            ..new(start, end)
        }
    }

    fn concat(into: &mut Vec<i64>, from: Vec<i64>) {
        into.extend(from);
    }

    fn bounds<K, V>(merged: &[MergedSession<K, V>]) -> Vec<(i64, i64)> {
        merged.iter().map(|m| (m.start, m.end)).collect()
    }

    #[test]
    fn overlapping_and_touching_sessions_merge_and_gaps_separate() {
        let merged = merge_sessions(
            vec![new(20, 25), new(0, 5), new(5, 10), new(3, 8), new(11, 16)],
            concat,
        );
        assert_eq!(bounds(&merged), [(0, 10), (11, 16), (20, 25)]);
        // values merge in the order of the starts
        assert_eq!(merged[0].value, [0, 3, 5]);
        assert!(merged.iter().all(|m| m.changed && m.replaces.is_empty()));
    }

    #[test]
    fn a_session_inside_another_keeps_the_longer_end() {
        let merged = merge_sessions(vec![new(0, 100), new(10, 20)], concat);
        assert_eq!(bounds(&merged), [(0, 100)]);
    }

    #[test]
    fn a_stored_session_nothing_joins_is_unchanged() {
        let merged = merge_sessions(vec![stored(0, 5, 1), new(6, 11)], concat);
        assert_eq!(bounds(&merged), [(0, 5), (6, 11)]);
        assert!(!merged[0].changed);
        assert_eq!(merged[0].replaces, [1]);
        assert!(merged[1].changed);
    }

    #[test]
    fn a_bridging_session_replaces_both_stored_ones() {
        let merged = merge_sessions(vec![stored(0, 5, 1), stored(9, 14, 2), new(4, 9)], concat);
        assert_eq!(bounds(&merged), [(0, 14)]);
        assert_eq!(merged[0].replaces, [1, 2]);
        assert_eq!(merged[0].value, [0, 4, 9]);
        assert!(merged[0].changed);
    }

    #[test]
    fn at_equal_starts_the_stored_session_comes_first() {
        let merged = merge_sessions(
            vec![
                SessionPart {
                    start: 0,
                    end: 5,
                    value: vec![2],
                    stored: None,
                },
                SessionPart {
                    start: 0,
                    end: 5,
                    value: vec![1],
                    stored: Some(7),
                },
            ],
            concat,
        );
        assert_eq!(merged[0].value, [1, 2]);
    }

    #[test]
    fn no_sessions_give_none() {
        assert!(merge_sessions(Vec::<SessionPart<u32, i64>>::new(), |_, _| {}).is_empty());
    }
}
