//! Test-only fault injection at the points of the micro-batch protocol.
//!
//! The crash-recovery tests make a query fail at a chosen point of a chosen batch and
//! then restart it on the same checkpoint. Without the `fault-injection` cargo feature
//! every check is a no-op that the compiler removes.

use std::fmt;

/// A point in the micro-batch protocol where a test can make the query fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FaultPoint {
    /// `offsets/N` has been written; nothing of batch N has run.
    AfterOffsetsWrite,
    /// The sink has taken part of batch N (the sink decides where, see
    /// [`crate::SinkBatch::fault_point_mid_write`]).
    DuringSinkWrite,
    /// The Delta sink has committed batch N to the table; the table's log checkpoint due
    /// at that commit's version, if one is, is not written.
    AfterDeltaCommit,
    /// The sink has all of batch N; a query with a late-rows sink has not written the
    /// batch's late rows yet.
    AfterSinkWrite,
    /// The sink has all of batch N; `commits/N` is not written.
    BeforeCommit,
}

impl fmt::Display for FaultPoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FaultPoint::AfterOffsetsWrite => "after-offsets-write",
            FaultPoint::DuringSinkWrite => "during-sink-write",
            FaultPoint::AfterDeltaCommit => "after-delta-commit",
            FaultPoint::AfterSinkWrite => "after-sink-write",
            FaultPoint::BeforeCommit => "before-commit",
        })
    }
}

/// The faults a query was asked to inject: (point, batch id) pairs, each fired once.
#[derive(Debug, Default)]
pub(crate) struct Faults {
    #[cfg(feature = "fault-injection")]
    planned: std::sync::Mutex<Vec<(FaultPoint, u64)>>,
}

impl Faults {
    #[cfg(feature = "fault-injection")]
    pub(crate) fn plan(&self, point: FaultPoint, batch_id: u64) {
        self.planned
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((point, batch_id));
    }

    /// Fails with [`crate::StreamError::InjectedFault`] if a fault was planned here.
    #[inline]
    pub(crate) fn check(&self, point: FaultPoint, batch_id: u64) -> crate::Result<()> {
        #[cfg(feature = "fault-injection")]
        {
            let mut planned = self.planned.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(i) = planned.iter().position(|&p| p == (point, batch_id)) {
                planned.remove(i);
                return Err(crate::StreamError::InjectedFault { point, batch_id });
            }
        }
        let _ = (point, batch_id);
        Ok(())
    }
}
