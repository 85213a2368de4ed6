//! Where a query resumes: read from the offset and commit logs before anything runs.

use std::collections::BTreeMap;

use super::CONF_SHUFFLE_PARTITIONS;
use crate::checkpoint::{Checkpoint, OffsetSeq};
use crate::{Offset, Result, StreamError};

/// The state of the protocol when a query starts.
#[derive(Debug)]
pub(crate) struct ResumePoint {
    /// The id the next new batch gets.
    pub(crate) next_batch_id: u64,
    /// The end offsets of the last committed batch (`None` per source before any).
    pub(crate) committed: Vec<Option<Offset>>,
    /// A batch whose offsets were logged but that has no commit: it runs first, with
    /// exactly its logged offsets.
    pub(crate) pending: Option<(u64, OffsetSeq)>,
    /// The watermark for the next batch.
    pub(crate) watermark_ms: i64,
    /// The watermark the last committed batch ran with: the next batch drops late input
    /// against it.
    pub(crate) last_batch_watermark_ms: i64,
    /// Settings fixed by the checkpoint.
    pub(crate) conf: BTreeMap<String, String>,
    /// Shuffle partitions in effect (from `conf`).
    pub(crate) shuffle_partitions: usize,
}

/// Reads the logs and decides where to resume. Reads only; writes nothing.
pub(crate) fn recover(
    checkpoint: &Checkpoint,
    sources: usize,
    shuffle_partitions: usize,
) -> Result<ResumePoint> {
    let fresh_conf = BTreeMap::from([(
        CONF_SHUFFLE_PARTITIONS.to_string(),
        shuffle_partitions.to_string(),
    )]);
    let latest_offsets = checkpoint.latest_offsets_id()?;
    let latest_commit = checkpoint.latest_commit_id()?;
    let Some(n) = latest_offsets else {
        if let Some(c) = latest_commit {
            return Err(StreamError::corrupt(
                checkpoint.commits_path(c),
                "commits a batch but the offset log is empty",
            ));
        }
        return Ok(ResumePoint {
            next_batch_id: 0,
            committed: vec![None; sources],
            pending: None,
            watermark_ms: 0,
            last_batch_watermark_ms: 0,
            shuffle_partitions,
            conf: fresh_conf,
        });
    };
    let seq = checkpoint.read_offsets(n, sources)?;
    let mut conf = fresh_conf;
    conf.extend(seq.metadata.conf.clone());
    let recorded = conf
        .get(CONF_SHUFFLE_PARTITIONS)
        .cloned()
        .unwrap_or_default();
    let shuffle = recorded.parse::<usize>().map_err(|_| {
        StreamError::corrupt(
            checkpoint.offsets_path(n),
            format!("`{CONF_SHUFFLE_PARTITIONS}` is `{recorded}`, not a number"),
        )
    })?;
    if shuffle != shuffle_partitions {
        tracing::warn!(
            "the checkpoint fixes {shuffle} shuffle partitions; the requested {shuffle_partitions} is ignored"
        );
    }
    match latest_commit {
        Some(c) if c == n => Ok(ResumePoint {
            next_batch_id: n + 1,
            watermark_ms: checkpoint.read_commit(n)?.next_batch_watermark_ms,
            last_batch_watermark_ms: seq.metadata.batch_watermark_ms,
            committed: seq.offsets,
            pending: None,
            shuffle_partitions: shuffle,
            conf,
        }),
        Some(c) if c + 1 == n => {
            let previous = checkpoint.read_offsets(c, sources)?;
            Ok(ResumePoint {
                next_batch_id: n,
                committed: previous.offsets,
                last_batch_watermark_ms: previous.metadata.batch_watermark_ms,
                watermark_ms: seq.metadata.batch_watermark_ms,
                pending: Some((n, seq)),
                shuffle_partitions: shuffle,
                conf,
            })
        }
        None if n == 0 => Ok(ResumePoint {
            next_batch_id: 0,
            committed: vec![None; sources],
            watermark_ms: seq.metadata.batch_watermark_ms,
            last_batch_watermark_ms: 0,
            pending: Some((0, seq)),
            shuffle_partitions: shuffle,
            conf,
        }),
        Some(c) if c > n => Err(StreamError::corrupt(
            checkpoint.commits_path(c),
            format!("commits batch {c} but the offset log ends at batch {n}"),
        )),
        _ => Err(StreamError::corrupt(
            checkpoint.offsets_path(n),
            format!(
                "batch {n} is logged but batch {} was never committed (latest commit: {})",
                n.saturating_sub(1),
                latest_commit.map_or_else(|| "none".to_string(), |c| c.to_string())
            ),
        )),
    }
}
