//! The Delta sink's unit tests.

use arrow_array::{Int64Array, StringArray, TimestampMillisecondArray};
use arrow_schema::{DataType, Field, TimeUnit};

use super::checkpoint::{due_at, has_checkpoint};
use super::*;
use crate::ManualClock;
use crate::fault::Faults;

fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new(
            "ts",
            DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
            true,
        ),
        Field::new(
            "local",
            DataType::Timestamp(TimeUnit::Millisecond, None),
            true,
        ),
        Field::new("n", DataType::Int64, false),
        Field::new("country", DataType::Utf8, true),
    ]))
}

fn rows(from: i64, to: i64) -> RecordBatch {
    let n: Vec<i64> = (from..to).collect();
    RecordBatch::try_new(
        schema(),
        vec![
            Arc::new(TimestampMillisecondArray::from(n.clone()).with_timezone("UTC")),
            Arc::new(TimestampMillisecondArray::from(n.clone())),
            Arc::new(Int64Array::from(n.clone())),
            Arc::new(StringArray::from(
                n.iter()
                    .map(|i| if i % 2 == 0 { "DE" } else { "US" })
                    .collect::<Vec<_>>(),
            )),
        ],
    )
    .unwrap()
}

fn context(mode: OutputMode) -> SinkContext {
    SinkContext {
        query_id: "query-1".into(),
        query_name: None,
        checkpoint_dir: PathBuf::from("/nonexistent"),
        output_mode: mode,
        schema: schema(),
        clock: Arc::new(ManualClock::new(0)),
    }
}

fn add(sink: &mut DeltaSink, id: u64, mode: OutputMode, batches: Vec<RecordBatch>) {
    add_with(sink, id, batches, &Faults::default(), mode).unwrap();
}

fn add_with(
    sink: &mut DeltaSink,
    id: u64,
    batches: Vec<RecordBatch>,
    faults: &Faults,
    mode: OutputMode,
) -> Result<()> {
    sink.add_batch(SinkBatch {
        batch_id: id,
        output_mode: mode,
        schema: schema(),
        batches,
        faults,
    })
}

/// The versions of the table's log checkpoints (`_delta_log/<v>.checkpoint.parquet`).
fn log_checkpoints(table: &Path) -> Vec<u64> {
    let mut versions: Vec<u64> = std::fs::read_dir(table.join("_delta_log"))
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            name.strip_suffix(".checkpoint.parquet")?.parse().ok()
        })
        .collect();
    versions.sort_unstable();
    versions
}

fn log_entries(table: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(table.join("_delta_log"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json"))
        .collect();
    names.sort();
    names
        .iter()
        .map(|n| std::fs::read_to_string(table.join("_delta_log").join(n)).unwrap())
        .collect()
}

#[test]
fn the_table_is_created_with_utc_timestamps_and_a_replay_is_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let mut sink = DeltaSink::new(dir.path()).partition_by(["country"]);
    sink.open(&context(OutputMode::Append)).unwrap();
    add(&mut sink, 0, OutputMode::Append, vec![rows(0, 4)]);
    add(&mut sink, 0, OutputMode::Append, vec![rows(0, 4)]);
    // a restarted sink reads the txn from the log
    let mut restarted = DeltaSink::new(dir.path()).partition_by(["country"]);
    restarted.open(&context(OutputMode::Append)).unwrap();
    add(&mut restarted, 0, OutputMode::Append, vec![rows(0, 4)]);
    add(&mut restarted, 1, OutputMode::Append, vec![]);
    let log = log_entries(dir.path());
    assert_eq!(log.len(), 3, "create, batch 0, batch 1: {log:?}");
    assert!(
        log[0].contains(r#"\"name\":\"local\",\"type\":\"timestamp\""#),
        "{}",
        log[0]
    );
    assert!(
        log[0].contains(r#"\"name\":\"ts\",\"type\":\"timestamp\""#),
        "{}",
        log[0]
    );
    assert!(
        log[0].contains(r#""partitionColumns":["country"]"#),
        "{}",
        log[0]
    );
    assert!(
        log[1].contains(r#""txn":{"appId":"query-1","version":0"#),
        "{}",
        log[1]
    );
    assert_eq!(
        log[1].matches(r#""add":"#).count(),
        2,
        "one file per partition"
    );
    assert!(
        log[2].contains(r#""txn":{"appId":"query-1","version":1"#),
        "{}",
        log[2]
    );
    assert_eq!(
        DeltaSink::committed_batch(dir.path(), "query-1").unwrap(),
        Some(1)
    );
    assert_eq!(
        DeltaSink::committed_batch(dir.path(), "other").unwrap(),
        None
    );
}

#[test]
fn complete_mode_removes_every_earlier_file_in_the_same_commit() {
    let dir = tempfile::tempdir().unwrap();
    let mut sink = DeltaSink::new(dir.path());
    sink.open(&context(OutputMode::Complete)).unwrap();
    add(&mut sink, 0, OutputMode::Complete, vec![rows(0, 2)]);
    add(&mut sink, 1, OutputMode::Complete, vec![rows(0, 3)]);
    let log = log_entries(dir.path());
    assert_eq!(log[2].matches(r#""remove":"#).count(), 1, "{}", log[2]);
    assert_eq!(log[2].matches(r#""add":"#).count(), 1, "{}", log[2]);
    assert!(log[2].contains(r#""outputMode":"Complete""#), "{}", log[2]);
}

#[test]
fn a_sink_opened_and_dropped_inside_an_async_context_does_not_panic() {
    let dir = tempfile::tempdir().unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let mut sink = DeltaSink::new(dir.path());
        sink.open(&context(OutputMode::Append)).unwrap();
        add(&mut sink, 0, OutputMode::Append, vec![rows(0, 1)]);
        drop(sink);
    });
    assert_eq!(
        DeltaSink::committed_batch(dir.path(), "query-1").unwrap(),
        Some(0)
    );
}

#[test]
fn bad_partition_columns_and_other_tables_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let e = DeltaSink::new(dir.path())
        .partition_by(["nope"])
        .open(&context(OutputMode::Append))
        .unwrap_err()
        .to_string();
    assert!(e.contains("no column `nope`"), "{e}");
    DeltaSink::new(dir.path())
        .open(&context(OutputMode::Append))
        .unwrap();
    let e = DeltaSink::new(dir.path())
        .partition_by(["country"])
        .open(&context(OutputMode::Append))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("partitioned by [] but the sink by [country]"),
        "{e}"
    );
    assert!(e.contains(&*dir.path().to_string_lossy()), "{e}");
}

#[test]
fn without_a_query_an_app_id_is_needed() {
    let dir = tempfile::tempdir().unwrap();
    let mut sink = DeltaSink::new(dir.path());
    let e = sink
        .add_batch(SinkBatch {
            batch_id: 0,
            output_mode: OutputMode::Append,
            schema: schema(),
            batches: vec![],
            faults: &Faults::default(),
        })
        .unwrap_err()
        .to_string();
    assert!(e.contains("app_id"), "{e}");
    let mut sink = DeltaSink::new(dir.path()).app_id("by-hand");
    add(&mut sink, 7, OutputMode::Append, vec![rows(0, 1)]);
    assert_eq!(
        DeltaSink::committed_batch(dir.path(), "by-hand").unwrap(),
        Some(7)
    );
}

#[test]
fn a_log_checkpoint_is_due_at_every_positive_multiple_of_the_interval() {
    assert_eq!(due_at(0, 10), None);
    assert_eq!(due_at(9, 10), None);
    assert_eq!(due_at(10, 10), Some(10));
    assert_eq!(due_at(19, 10), Some(10));
    assert_eq!(due_at(20, 10), Some(20));
    assert_eq!(due_at(250, 100), Some(200));
    assert_eq!(due_at(1, 1), Some(1));
}

#[test]
fn log_checkpoints_are_written_at_multiples_of_the_tables_interval() {
    let dir = tempfile::tempdir().unwrap();
    let mut sink = DeltaSink::new(dir.path()).checkpoint_interval(3);
    sink.open(&context(OutputMode::Append)).unwrap();
    // the create is version 0, batch n is version n + 1
    for id in 0..7 {
        add(
            &mut sink,
            id,
            OutputMode::Append,
            vec![rows(id as i64, id as i64 + 1)],
        );
    }
    assert!(
        log_entries(dir.path())[0].contains(r#""delta.checkpointInterval":"3""#),
        "{}",
        log_entries(dir.path())[0]
    );
    assert_eq!(log_checkpoints(dir.path()), vec![3, 6]);
    let log = dir.path().join("_delta_log");
    assert!(has_checkpoint(&log, 6));
    assert!(!has_checkpoint(&log, 9));
}

/// A table whose log checkpoint due at version 3 (interval 3; batch n is version n + 1)
/// is missing, as a crash after that commit and before its checkpoint leaves it.
fn table_missing_its_due_checkpoint(dir: &Path) {
    let mut sink = DeltaSink::new(dir).checkpoint_interval(3);
    sink.open(&context(OutputMode::Append)).unwrap();
    for id in 0..3 {
        add(
            &mut sink,
            id,
            OutputMode::Append,
            vec![rows(2 * id as i64, 2 * id as i64 + 2)],
        );
    }
    drop(sink);
    let log = dir.join("_delta_log");
    std::fs::remove_file(log.join(format!("{:020}.checkpoint.parquet", 3))).unwrap();
    std::fs::remove_file(log.join("_last_checkpoint")).unwrap();
    assert!(!has_checkpoint(&log, 3));
}

#[test]
fn a_due_log_checkpoint_that_is_missing_is_written_at_open() {
    let dir = tempfile::tempdir().unwrap();
    table_missing_its_due_checkpoint(dir.path());
    let mut restarted = DeltaSink::new(dir.path()).checkpoint_interval(3);
    restarted.open(&context(OutputMode::Append)).unwrap();
    assert_eq!(log_checkpoints(dir.path()), vec![3]);
    assert!(has_checkpoint(&dir.path().join("_delta_log"), 3));
    // the replay of batch 2 is skipped, and the table goes on from its checkpoint
    add(&mut restarted, 2, OutputMode::Append, vec![rows(4, 6)]);
    add(&mut restarted, 3, OutputMode::Append, vec![rows(6, 8)]);
    assert_eq!(log_entries(dir.path()).len(), 5, "create, batches 0 to 3");
    assert_eq!(
        DeltaSink::committed_batch(dir.path(), "query-1").unwrap(),
        Some(3)
    );
}

/// The fault point between the commit and the log checkpoint, and what the next commit
/// or start does after a failure there.
#[cfg(feature = "fault-injection")]
mod after_delta_commit {
    use super::*;
    use crate::FaultPoint;

    /// Fails batch `id` of `sink` at [`FaultPoint::AfterDeltaCommit`].
    fn fail_after_commit(sink: &mut DeltaSink, id: u64) {
        let faults = Faults::default();
        faults.plan(FaultPoint::AfterDeltaCommit, id);
        let error = add_with(sink, id, vec![rows(0, 1)], &faults, OutputMode::Append)
            .unwrap_err()
            .to_string();
        assert!(error.contains("after-delta-commit"), "{error}");
    }

    /// Batches 0 and 1, then batch 2, version 3, where a checkpoint is due (interval 3),
    /// failed after its commit.
    fn failed_at_a_due_checkpoint(dir: &Path) -> DeltaSink {
        let mut sink = DeltaSink::new(dir).checkpoint_interval(3);
        sink.open(&context(OutputMode::Append)).unwrap();
        add(&mut sink, 0, OutputMode::Append, vec![rows(0, 2)]);
        add(&mut sink, 1, OutputMode::Append, vec![rows(2, 4)]);
        fail_after_commit(&mut sink, 2);
        assert_eq!(
            DeltaSink::committed_batch(dir, "query-1").unwrap(),
            Some(2),
            "the batch is committed"
        );
        assert_eq!(
            log_checkpoints(dir),
            Vec::<u64>::new(),
            "its checkpoint is not"
        );
        sink
    }

    #[test]
    fn a_failure_after_the_commit_leaves_the_checkpoint_to_the_next_start() {
        let dir = tempfile::tempdir().unwrap();
        drop(failed_at_a_due_checkpoint(dir.path()));
        DeltaSink::new(dir.path())
            .open(&context(OutputMode::Append))
            .unwrap();
        assert_eq!(log_checkpoints(dir.path()), vec![3]);
    }

    #[test]
    fn a_missing_due_log_checkpoint_is_written_after_the_next_commit() {
        let dir = tempfile::tempdir().unwrap();
        let mut sink = failed_at_a_due_checkpoint(dir.path());
        // the same sink goes on: batch 3 is version 4, and 3 is the newest due version
        add(&mut sink, 3, OutputMode::Append, vec![rows(6, 8)]);
        assert_eq!(log_checkpoints(dir.path()), vec![3]);
        for id in 4..6 {
            add(&mut sink, id, OutputMode::Append, vec![rows(0, 1)]);
        }
        assert_eq!(log_checkpoints(dir.path()), vec![3, 6]);
    }

    #[test]
    fn only_the_newest_due_log_checkpoint_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let mut sink = failed_at_a_due_checkpoint(dir.path());
        for id in 3..6 {
            fail_after_commit(&mut sink, id);
        }
        drop(sink);
        assert_eq!(log_checkpoints(dir.path()), Vec::<u64>::new());
        // versions 3 and 6 were due; a reader starts from the newest, so 6 is enough
        DeltaSink::new(dir.path())
            .open(&context(OutputMode::Append))
            .unwrap();
        assert_eq!(log_checkpoints(dir.path()), vec![6]);
    }
}
