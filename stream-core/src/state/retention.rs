//! Which files a commit leaves behind that no retained version needs.
//!
//! After version `v` is committed, versions `m = v + 1 - retain ..= v` must stay
//! rebuildable (all of `0..=v` while `v < retain`). Version `m` is rebuilt from the
//! newest snapshot `s <= m` and the deltas `s+1..=m`; every later version from that
//! snapshot (or a later one) and the deltas after it. So with such an `s`, the files
//! no retained version needs are the snapshots before `s` and the deltas up to and
//! including `s` (delta `s` itself is not needed: snapshot `s` replaces it). Without
//! such a snapshot every delta from 0 is needed and nothing goes.

use super::layout::{FileKind, StateFiles};

/// The files of `files` (as version and kind) that no version of the last `retain`
/// ones up to `version` needs.
pub(crate) fn obsolete(files: &StateFiles, version: u64, retain: u64) -> Vec<(u64, FileKind)> {
    let Some(oldest_retained) = (version + 1).checked_sub(retain.max(1)) else {
        return Vec::new();
    };
    let Some(base) = files.snapshot_at_or_below(oldest_retained) else {
        return Vec::new();
    };
    files
        .all()
        .filter(|&(v, kind)| match kind {
            FileKind::Delta => v <= base,
            FileKind::Snapshot => v < base,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    fn files(deltas: impl IntoIterator<Item = u64>, snapshots: &[u64]) -> StateFiles {
        StateFiles {
            deltas: deltas.into_iter().collect(),
            snapshots: snapshots.iter().copied().collect::<BTreeSet<_>>(),
        }
    }

    #[test]
    fn nothing_goes_while_every_version_is_retained_or_no_snapshot_is_old_enough() {
        let f = files(0..=9, &[4, 9]);
        assert!(obsolete(&f, 9, 10).is_empty(), "versions 0..=9 retained");
        assert!(obsolete(&f, 9, 100).is_empty());
        // retained 5..=9: the newest snapshot <= 5 is 4
        assert_eq!(
            obsolete(&f, 9, 5),
            [
                (0, FileKind::Delta),
                (1, FileKind::Delta),
                (2, FileKind::Delta),
                (3, FileKind::Delta),
                (4, FileKind::Delta)
            ]
        );
        // retained 4..=9 also rebuilt from snapshot 4: the same files go
        assert_eq!(obsolete(&f, 9, 6), obsolete(&f, 9, 5));
        // retained 3..=9: no snapshot <= 3, every delta from 0 needed
        assert!(obsolete(&f, 9, 7).is_empty());
        // deltas only: every one is needed, whatever is retained
        assert!(obsolete(&files(0..=9, &[]), 9, 1).is_empty());
    }

    #[test]
    fn only_the_newest_old_enough_snapshot_and_what_follows_it_stay() {
        let f = files(3..=12, &[2, 5, 8, 11]);
        // retained 9..=12: base snapshot 8
        let gone = obsolete(&f, 12, 4);
        let expected: Vec<(u64, FileKind)> = vec![
            (2, FileKind::Snapshot),
            (3, FileKind::Delta),
            (4, FileKind::Delta),
            (5, FileKind::Delta),
            (5, FileKind::Snapshot),
            (6, FileKind::Delta),
            (7, FileKind::Delta),
            (8, FileKind::Delta),
        ];
        assert_eq!(gone, expected);
        // retain 1: only version 12 is needed; its base is snapshot 11
        let gone = obsolete(&f, 12, 1);
        assert!(gone.contains(&(11, FileKind::Delta)));
        assert!(gone.contains(&(8, FileKind::Snapshot)));
        assert!(
            !gone.contains(&(11, FileKind::Snapshot)) && !gone.contains(&(12, FileKind::Delta))
        );
    }
}
