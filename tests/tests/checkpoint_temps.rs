//! The temporary files of checkpoint writes that a kill cut short are removed at the next
//! start, once the checkpoint is validated, and only those: anything else in the folder
//! stays, and a checkpoint that is refused keeps them too.

use std::fs;
use std::path::{Path, PathBuf};

use stream_core::{
    JsonFileSource, MapPipeline, MemorySink, QueryBuilder, StreamingQuery, StreamingQueryManager,
    Trigger,
};
use tests::{event_schema, land_golden, memory_table_rows, runtime};

fn query(landing: &Path, checkpoint: &Path, table: &str) -> QueryBuilder {
    StreamingQuery::builder()
        .manager(&StreamingQueryManager::new())
        .source(JsonFileSource::new(landing, event_schema()).max_files_per_trigger(1))
        .pipeline(MapPipeline::identity(event_schema()))
        .sink(MemorySink::new(table))
        .trigger(Trigger::AvailableNow)
        .checkpoint_location(checkpoint)
}

fn run(landing: &Path, checkpoint: &Path, table: &str) {
    let q = query(landing, checkpoint, table).start().unwrap();
    runtime().block_on(q.await_termination()).unwrap();
}

/// What a killed `write_atomic` leaves: `.<name>.<32 hex digits>.tmp` beside the file.
fn plant_temps(checkpoint: &Path) -> Vec<PathBuf> {
    let id = "0123456789abcdef0123456789abcdef";
    let temps = vec![
        checkpoint.join(format!("offsets/.2.{id}.tmp")),
        checkpoint.join(format!("commits/.2.{id}.tmp")),
        checkpoint.join(format!("sources/0/.2.{id}.tmp")),
        checkpoint.join(format!(".metadata.{id}.tmp")),
    ];
    for t in &temps {
        fs::create_dir_all(t.parent().unwrap()).unwrap();
        fs::write(t, b"half a file").unwrap();
    }
    temps
}

#[test]
fn leftover_temps_are_removed_at_start_and_nothing_else_is() {
    let landing = tempfile::tempdir().unwrap();
    let checkpoint = tempfile::tempdir().unwrap();
    let table = "checkpoint_temps_removed";
    land_golden(landing.path(), 0..2);
    run(landing.path(), checkpoint.path(), table);
    let first = memory_table_rows(table);

    let temps = plant_temps(checkpoint.path());
    let notes = checkpoint.path().join("offsets/notes.tmp");
    fs::write(&notes, b"someone else's").unwrap();
    land_golden(landing.path(), 2..3);
    run(landing.path(), checkpoint.path(), table);

    for t in &temps {
        assert!(!t.exists(), "{} is still there", t.display());
    }
    assert!(notes.exists(), "a file not of ours was removed");
    // the run after the sweep added only the new file's rows (the table is shared by
    // name across the two runs)
    let second = memory_table_rows(table);
    assert_eq!(second[..first.len()], first[..]);
    let added = &second[first.len()..];
    assert!(!added.is_empty());
    assert!(added.iter().all(|row| !first.contains(row)));
}

#[test]
fn a_refused_checkpoint_keeps_its_temps() {
    let landing = tempfile::tempdir().unwrap();
    let checkpoint = tempfile::tempdir().unwrap();
    land_golden(landing.path(), 0..2);
    run(
        landing.path(),
        checkpoint.path(),
        "checkpoint_temps_refused",
    );
    let temps = plant_temps(checkpoint.path());
    fs::write(checkpoint.path().join("commits/1"), b"garbage").unwrap();
    let error = query(
        landing.path(),
        checkpoint.path(),
        "checkpoint_temps_refused",
    )
    .start()
    .expect_err("a damaged commit file is refused");
    assert!(error.to_string().contains("commits"), "{error}");
    assert!(temps.iter().all(|t| t.exists()));
}
