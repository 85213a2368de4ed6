//! Loading the table and reading its log: the table at a path, its `txn` versions, the
//! damaged line of a log that does not load.

use std::path::{Path, PathBuf};

use deltalake_core::{DeltaTable, DeltaTableBuilder, DeltaTableError};

use crate::{Result, StreamError};

pub(super) fn table_error(path: &Path, batch: Option<u64>, e: DeltaTableError) -> StreamError {
    let message = match batch {
        Some(id) => format!("Delta table: batch {id}: {e}"),
        None => format!("Delta table: {e}"),
    };
    StreamError::SinkFile {
        path: path.to_path_buf(),
        message,
    }
}

/// The table at `path`, or `None` if the folder holds none.
pub(super) async fn load(path: &Path) -> Result<Option<DeltaTable>> {
    if !path.join("_delta_log").is_dir() {
        return Ok(None);
    }
    let url = table_url(path)?;
    let mut table = DeltaTableBuilder::from_url(url)
        .and_then(|b| b.build())
        .map_err(|e| table_error(path, None, e))?;
    match table.load().await {
        Ok(()) => Ok(Some(table)),
        Err(DeltaTableError::NotATable(_)) => Ok(None),
        Err(e) => Err(match unreadable_log_line(path) {
            Some((file, line, why)) => StreamError::SinkFile {
                path: file,
                message: format!(
                    "line {line} of the Delta table's log is not JSON ({why}); the table cannot be read"
                ),
            },
            None => table_error(path, None, e),
        }),
    }
}

/// The first line of a `_delta_log/<version>.json` commit file of the table at `path`
/// that is not JSON, with its 1-based number and the parser's reason: which file a
/// table that does not load holds damaged (deltalake's error does not say).
fn unreadable_log_line(path: &Path) -> Option<(PathBuf, usize, String)> {
    let log = path.join("_delta_log");
    let mut commits: Vec<PathBuf> = std::fs::read_dir(&log)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension().is_some_and(|x| x == "json")
                && p.file_stem()
                    .and_then(|s| s.to_str())
                    .is_some_and(|s| s.bytes().all(|b| b.is_ascii_digit()))
        })
        .collect();
    commits.sort();
    for file in commits.into_iter().rev() {
        let text = std::fs::read_to_string(&file).ok()?;
        for (i, line) in text.lines().enumerate() {
            if let Err(e) = serde_json::from_str::<serde_json::Value>(line) {
                return Some((file, i + 1, e.to_string()));
            }
        }
    }
    None
}

/// The latest `txn` version of `app_id` in `table`, as a batch id.
pub(super) async fn txn_version(
    path: &Path,
    table: &DeltaTable,
    app_id: &str,
) -> Result<Option<u64>> {
    let snapshot = table.snapshot().map_err(|e| table_error(path, None, e))?;
    let version = snapshot
        .transaction_version(table.log_store().as_ref(), app_id)
        .await
        .map_err(|e| table_error(path, None, e))?;
    Ok(version.and_then(|v| u64::try_from(v).ok()))
}

pub(super) fn table_url(path: &Path) -> Result<url::Url> {
    std::fs::create_dir_all(path).map_err(|e| StreamError::io(path, e))?;
    let absolute = path.canonicalize().map_err(|e| StreamError::io(path, e))?;
    url::Url::from_directory_path(&absolute).map_err(|()| StreamError::SinkFile {
        path: path.to_path_buf(),
        message: "cannot be made a file URL".into(),
    })
}
