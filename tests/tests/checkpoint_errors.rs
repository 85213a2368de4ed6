//! A checkpoint the engine cannot trust is refused with an error that names the file,
//! and is left exactly as it was.

use std::path::Path;

use stream_core::{
    JsonFileSource, MapPipeline, MemorySink, QueryBuilder, StreamError, StreamingQuery,
    StreamingQueryManager, Trigger,
};
use tests::{event_schema, files_under, land_golden, runtime};

fn query(landing: &Path, checkpoint: &Path) -> QueryBuilder {
    StreamingQuery::builder()
        .manager(&StreamingQueryManager::new())
        .source(JsonFileSource::new(landing, event_schema()).max_files_per_trigger(1))
        .pipeline(MapPipeline::identity(event_schema()))
        .sink(MemorySink::new(format!(
            "checkpoint_errors_{}",
            checkpoint.display()
        )))
        .trigger(Trigger::AvailableNow)
        .checkpoint_location(checkpoint)
}

/// A checkpoint after three committed batches.
fn three_batches() -> (tempfile::TempDir, tempfile::TempDir) {
    let landing = tempfile::tempdir().unwrap();
    let checkpoint = tempfile::tempdir().unwrap();
    land_golden(landing.path(), 0..3);
    let q = query(landing.path(), checkpoint.path()).start().unwrap();
    runtime().block_on(q.await_termination()).unwrap();
    land_golden(landing.path(), 3..4); // something new, so a start would want to write
    (landing, checkpoint)
}

/// Starts the query on a damaged checkpoint: it must fail before writing anything.
fn start_fails(landing: &Path, checkpoint: &Path, builder: Option<QueryBuilder>) -> StreamError {
    let before = files_under(checkpoint);
    let error = builder
        .unwrap_or_else(|| query(landing, checkpoint))
        .start()
        .expect_err("a damaged checkpoint must be refused");
    assert_eq!(
        files_under(checkpoint),
        before,
        "the checkpoint was changed"
    );
    error
}

#[test]
fn truncated_offsets_file_is_refused_and_named() {
    let (landing, checkpoint) = three_batches();
    let file = checkpoint.path().join("offsets/2");
    let text = std::fs::read(&file).unwrap();
    std::fs::write(&file, &text[..text.len() - 5]).unwrap();
    let error = start_fails(landing.path(), checkpoint.path(), None);
    assert!(
        matches!(&error, StreamError::CorruptCheckpoint { path, .. } if path == &file),
        "{error}"
    );
    let message = error.to_string();
    assert!(message.contains("offsets/2"), "{message}");
    assert!(message.contains("left as it is"), "{message}");
}

#[test]
fn garbage_in_offsets_file_is_refused_and_named() {
    let (landing, checkpoint) = three_batches();
    let file = checkpoint.path().join("offsets/2");
    std::fs::write(&file, b"\x00\x01not a log file").unwrap();
    let error = start_fails(landing.path(), checkpoint.path(), None);
    assert!(
        matches!(&error, StreamError::CorruptCheckpoint { path, .. } if path == &file),
        "{error}"
    );
}

#[test]
fn corrupt_commit_file_is_refused_and_named() {
    let (landing, checkpoint) = three_batches();
    let file = checkpoint.path().join("commits/2");
    std::fs::write(&file, "v1\n{\"nextBatchWatermarkMs\":").unwrap();
    let error = start_fails(landing.path(), checkpoint.path(), None);
    assert!(
        matches!(&error, StreamError::CorruptCheckpoint { path, .. } if path == &file),
        "{error}"
    );
}

#[test]
fn missing_metadata_with_batches_is_refused_not_restarted_from_zero() {
    let (landing, checkpoint) = three_batches();
    std::fs::remove_file(checkpoint.path().join("metadata")).unwrap();
    let error = start_fails(landing.path(), checkpoint.path(), None);
    assert!(error.to_string().contains("metadata"), "{error}");
}

#[test]
fn a_gap_in_the_logs_is_refused() {
    let (landing, checkpoint) = three_batches();
    std::fs::remove_file(checkpoint.path().join("commits/1")).unwrap();
    std::fs::remove_file(checkpoint.path().join("commits/2")).unwrap();
    let error = start_fails(landing.path(), checkpoint.path(), None);
    assert!(error.to_string().contains("offsets/2"), "{error}");
}

#[test]
fn checkpoint_of_another_query_is_refused() {
    let (landing, checkpoint) = three_batches();
    let other = StreamingQuery::builder()
        .manager(&StreamingQueryManager::new())
        .source(JsonFileSource::new(landing.path(), event_schema()))
        .pipeline(MapPipeline::new(
            "big_spenders",
            event_schema(),
            event_schema(),
            |b| Ok(b.clone()),
        ))
        .sink(MemorySink::new("checkpoint_other_query"))
        .checkpoint_location(checkpoint.path());
    let error = start_fails(landing.path(), checkpoint.path(), Some(other));
    assert!(
        matches!(error, StreamError::CheckpointMismatch { .. }),
        "{error}"
    );
    let message = error.to_string();
    assert!(
        message.contains("big_spenders") && message.contains("identity"),
        "{message}"
    );
}

#[test]
fn checkpoint_with_another_input_schema_is_refused_naming_the_schema() {
    let (landing, checkpoint) = three_batches();
    let narrow = std::sync::Arc::new(arrow_schema::Schema::new(vec![
        event_schema().field(1).clone(),
    ]));
    let other = StreamingQuery::builder()
        .manager(&StreamingQueryManager::new())
        .source(JsonFileSource::new(landing.path(), narrow.clone()))
        .pipeline(MapPipeline::identity(narrow))
        .sink(MemorySink::new("checkpoint_other_schema"))
        .checkpoint_location(checkpoint.path());
    let error = start_fails(landing.path(), checkpoint.path(), Some(other));
    assert!(
        matches!(error, StreamError::CheckpointMismatch { .. }),
        "{error}"
    );
    assert!(error.to_string().contains("source 0 had schema"), "{error}");
}

#[test]
fn unknown_format_version_is_refused() {
    for file in ["metadata", "offsets/2", "commits/2"] {
        let (landing, checkpoint) = three_batches();
        let path = checkpoint.path().join(file);
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, text.replacen("v1", "v7", 1)).unwrap();
        let error = start_fails(landing.path(), checkpoint.path(), None);
        assert!(
            matches!(&error, StreamError::UnsupportedCheckpointVersion { path: p, found, .. } if p == &path && found == "v7"),
            "{file}: {error}"
        );
    }
}

/// What the batch wrote (`offsets/3`) when a file it needs turns out to be damaged: the
/// message says the batch is not committed and runs again, not that the checkpoint was
/// left as it is.
#[test]
fn a_damaged_file_found_while_a_batch_runs_says_what_that_means() {
    let (landing, checkpoint) = three_batches();
    // the source's log entry of batch 3 is gone once the batch has logged its offsets
    let entry = checkpoint.path().join("sources/0/3");
    let q = query(landing.path(), checkpoint.path())
        .inject_fault(stream_core::FaultPoint::AfterOffsetsWrite, 3)
        .start()
        .unwrap();
    assert!(runtime().block_on(q.await_termination()).is_err());
    std::fs::remove_file(&entry).unwrap();
    let q = query(landing.path(), checkpoint.path()).start().unwrap();
    let error = runtime().block_on(q.await_termination()).unwrap_err();
    let message = error.to_string();
    assert!(message.contains("sources/0/3"), "{message}");
    assert!(
        message.contains("found while batch 3 ran: the batch is not committed"),
        "{message}"
    );
    assert!(!message.contains("left as it is"), "{message}");
    assert!(checkpoint.path().join("offsets/3").exists());
    assert!(!checkpoint.path().join("commits/3").exists());
}
