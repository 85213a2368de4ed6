//! A damaged state file is found when the query starts, before anything is written: the
//! error names the file, and the checkpoint (offsets, commits, source log, state) is
//! left exactly as it was, so repairing or restoring the file and starting again goes on
//! where the query stopped.

use std::fs;
use std::path::{Path, PathBuf};

use stream_core::{QueryBuilder, StreamingQueryManager, stream};
use tests::{files_under, land_golden, runtime};

fn counts(
    landing: &Path,
    checkpoint: &Path,
) -> QueryBuilder<impl stream_core::types::TypedRow + use<>> {
    stream! {
        schema Event { ts: Option<timestamp_ms>, user: Option<string>, page: Option<string>, amount: Option<f64>, country: Option<string> }
        read(json, path = {landing}, schema = Event, max_files_per_trigger = 1)
            .with_watermark(ts, "2 minutes")
            .group_by(window(ts, "1 minute"), country)
            .agg(count() as count)
            .write(memory, name = "state_damage")
            .trigger(available_now)
            .checkpoint({checkpoint})
    }
    .manager(&StreamingQueryManager::new())
}

/// A checkpoint after three batches, and a new file for a fourth.
fn three_batches() -> (tempfile::TempDir, tempfile::TempDir) {
    let landing = tempfile::tempdir().unwrap();
    let checkpoint = tempfile::tempdir().unwrap();
    land_golden(landing.path(), 0..3);
    let q = counts(landing.path(), checkpoint.path()).start().unwrap();
    runtime().block_on(q.await_termination()).unwrap();
    land_golden(landing.path(), 3..4);
    (landing, checkpoint)
}

/// The newest delta file of the first partition of the aggregation's state.
fn newest_delta(checkpoint: &Path) -> PathBuf {
    let partition = checkpoint.join("state/0/0");
    let mut deltas: Vec<(u64, PathBuf)> = fs::read_dir(&partition)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter_map(|p| {
            let name = p.file_name()?.to_str()?.to_string();
            let v = name.strip_suffix(".delta")?.parse().ok()?;
            Some((v, p))
        })
        .collect();
    deltas.sort();
    deltas.pop().expect("a delta file").1
}

/// Damages the checkpoint with `damage`, starts the query on it, and returns the error;
/// the checkpoint must be as it was after the damage.
fn start_fails(damage: impl FnOnce(&Path) -> PathBuf) -> (String, PathBuf) {
    let (landing, checkpoint) = three_batches();
    let damaged = damage(checkpoint.path());
    let before = files_under(checkpoint.path());
    let error = match counts(landing.path(), checkpoint.path()).start() {
        Err(e) => e.to_string(),
        Ok(_) => panic!("a query started on damaged state"),
    };
    assert_eq!(
        files_under(checkpoint.path()),
        before,
        "the checkpoint was written to"
    );
    (error, damaged)
}

#[test]
fn a_damaged_byte_in_a_delta_is_found_at_start_naming_it() {
    let (error, path) = start_fails(|ck| {
        let path = newest_delta(ck);
        let mut bytes = fs::read(&path).unwrap();
        let middle = bytes.len() / 2;
        bytes[middle] ^= 0xff;
        fs::write(&path, bytes).unwrap();
        path
    });
    assert!(error.contains(&path.display().to_string()), "{error}");
    assert!(error.contains("checksum"), "{error}");
}

#[test]
fn a_truncated_delta_is_found_at_start_naming_it() {
    let (error, path) = start_fails(|ck| {
        let path = newest_delta(ck);
        let bytes = fs::read(&path).unwrap();
        fs::write(&path, &bytes[..bytes.len() - 10]).unwrap();
        path
    });
    assert!(error.contains(&path.display().to_string()), "{error}");
    assert!(error.contains("truncated"), "{error}");
}

#[test]
fn a_missing_delta_is_found_at_start_naming_it() {
    let (error, path) = start_fails(|ck| {
        let path = newest_delta(ck);
        fs::remove_file(&path).unwrap();
        path
    });
    assert!(error.contains(&path.display().to_string()), "{error}");
    assert!(error.contains("is missing"), "{error}");
}

#[test]
fn a_deleted_schema_file_is_found_at_start_naming_it() {
    let (error, path) = start_fails(|ck| {
        let path = ck.join("state/0/_metadata/schema");
        fs::remove_file(&path).unwrap();
        path
    });
    assert!(error.contains(&path.display().to_string()), "{error}");
}

#[test]
fn state_written_with_other_columns_is_refused_at_start() {
    // the recorded value columns renamed: the state no longer fits the aggregation's
    // accumulator, which the query finds before it writes anything
    let (error, path) = start_fails(|ck| {
        let path = ck.join("state/0/_metadata/schema");
        let text = fs::read_to_string(&path).unwrap();
        let (version, json) = text.split_once('\n').unwrap();
        let mut record: serde_json::Value = serde_json::from_str(json).unwrap();
        let name = &mut record["value"]["fields"][0]["name"];
        *name = format!("{}_renamed", name.as_str().unwrap()).into();
        fs::write(&path, format!("{version}\n{record}")).unwrap();
        path
    });
    assert!(error.contains(&path.display().to_string()), "{error}");
    assert!(error.contains("was written with other columns"), "{error}");
    assert!(error.contains("_renamed"), "{error}");
}

#[test]
fn the_undamaged_checkpoint_resumes() {
    let (landing, checkpoint) = three_batches();
    let before = fs::read_dir(checkpoint.path().join("offsets"))
        .unwrap()
        .count();
    let q = counts(landing.path(), checkpoint.path()).start().unwrap();
    runtime().block_on(q.await_termination()).unwrap();
    let after = fs::read_dir(checkpoint.path().join("offsets"))
        .unwrap()
        .count();
    assert!(after > before, "the fourth file made a batch");
}
