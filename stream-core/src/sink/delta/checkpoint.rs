//! The table's log checkpoints (`_delta_log/<v>.checkpoint.parquet`): the table's whole
//! state at version `v`, which a reader loads instead of replaying every commit up to
//! `v`, then replays only the commits after it.
//!
//! One is due at every positive multiple of the table's `delta.checkpointInterval`
//! (default 100), as Delta's writers for Spark do it (deltalake's post-commit hook would
//! write it one version earlier, at `v + 1` a multiple; the sink turns that hook off and
//! writes them here). A crash between a commit and its checkpoint leaves the checkpoint
//! unwritten, and every read of the table after it replays the commits since the
//! checkpoint before: more of them with every missed checkpoint. So at every start and
//! after every commit the sink writes the checkpoint due at the table's version if the
//! log has none. Only the newest due one matters: a reader starts from the newest
//! checkpoint, so older ones left missing cost it nothing.
//!
//! After writing one, the sink deletes the log's expired files (older than the table's
//! `delta.logRetentionDuration`, 30 days by default, and before a checkpoint) unless the
//! table's `delta.enableExpiredLogCleanup` is `false`, as Delta's writers for Spark do
//! it. deltalake would do it after every commit, listing the whole log each time; it
//! only deletes files older than a checkpoint, so doing it after each new one loses
//! nothing.

use std::path::Path;

use deltalake_core::checkpoints::{
    cleanup_metadata, create_checkpoint, create_checkpoint_from_table_url_and_cleanup,
};
use deltalake_core::table::config::TablePropertiesExt as _;
use deltalake_core::{DeltaTable, DeltaTableError};

/// The newest version at or before `version` that a log checkpoint is due at: the
/// largest positive multiple of `interval`.
pub(super) fn due_at(version: u64, interval: u64) -> Option<u64> {
    let due = version - version % interval.max(1);
    (due > 0).then_some(due)
}

/// Whether the log folder `log` holds a checkpoint at `version` or after it.
pub(super) fn has_checkpoint(log: &Path, version: u64) -> bool {
    last_checkpoint(log).is_some_and(|v| v >= version) || checkpoint_file_at(log, version)
}

/// The version `_last_checkpoint` names, the writers' hint of the newest checkpoint.
fn last_checkpoint(log: &Path) -> Option<u64> {
    let text = std::fs::read_to_string(log.join("_last_checkpoint")).ok()?;
    let hint: serde_json::Value = serde_json::from_str(text.lines().next()?).ok()?;
    hint["version"].as_u64()
}

/// Whether a checkpoint file of `version` is in `log` (`<v>.checkpoint.parquet`, or a
/// V2 checkpoint's `<v>.checkpoint.<uuid>.parquet`): the hint is written after the
/// checkpoint, so a crash between the two leaves a checkpoint the hint does not name.
fn checkpoint_file_at(log: &Path, version: u64) -> bool {
    let prefix = format!("{version:020}.checkpoint.");
    let Ok(entries) = std::fs::read_dir(log) else {
        return false;
    };
    entries.filter_map(|e| e.ok()).any(|e| {
        let name = e.file_name();
        let name = name.to_string_lossy();
        name.starts_with(&prefix) && (name.ends_with(".parquet") || name.ends_with(".json"))
    })
}

/// The log checkpoints of one open table: what the sink knows of them, so that a commit
/// at which none is due reads nothing.
#[derive(Debug, Default)]
pub(super) struct LogCheckpoints {
    /// The newest due version known to have its checkpoint.
    known: Option<u64>,
}

impl LogCheckpoints {
    /// Writes the checkpoint due at `table`'s version (see the module) if the log in the
    /// folder `path` has none there nor after, and then deletes the expired log files;
    /// returns the version written, if one was.
    pub(super) async fn write_due(
        &mut self,
        table: &DeltaTable,
        path: &Path,
    ) -> Result<Option<u64>, DeltaTableError> {
        let snapshot = table.snapshot()?;
        let version = snapshot.version();
        let interval = snapshot.table_config().checkpoint_interval().get();
        let Some(due) = due_at(version, interval) else {
            return Ok(None);
        };
        if self.known == Some(due) || has_checkpoint(&path.join("_delta_log"), due) {
            self.known = Some(due);
            return Ok(None);
        }
        if due == version {
            create_checkpoint(table, None).await?;
        } else {
            create_checkpoint_from_table_url_and_cleanup(
                table.table_url().clone(),
                due,
                Some(false),
                None,
            )
            .await?;
        }
        self.known = Some(due);
        if snapshot.table_config().enable_expired_log_cleanup() {
            cleanup_metadata(table, None).await?;
        }
        Ok(Some(due))
    }
}
