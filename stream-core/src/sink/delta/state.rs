//! The table state the sink holds between batches, and why it is reloaded at each log
//! checkpoint.
//!
//! deltalake's commit hands back the state of the new version built from the one before
//! and the commit: its list of the table's files keeps the earlier list's pieces and adds
//! one, and the next commit carries every piece through again. After some hundred commits
//! that was most of a batch's time (600 commits, a debug build: 8 ms a batch at the
//! start, about 90 ms at the end). A log checkpoint holds the whole list in a few
//! pieces, so after writing one the sink loads the state afresh from it, as a restart
//! does: a batch never carries more than one checkpoint interval of pieces.

use deltalake_core::table::state::DeltaTableState;
use deltalake_core::{DeltaTable, DeltaTableError};

/// Replaces `table`'s state by one loaded from its log at the same version: from the newest
/// log checkpoint and the commits after it.
pub(super) async fn reload(table: &mut DeltaTable) -> Result<(), DeltaTableError> {
    let version = table.snapshot()?.version();
    let state = DeltaTableState::try_new(table.log_store().as_ref(), Some(version)).await?;
    table.state = Some(state);
    Ok(())
}
