//! The file sink end to end: the golden events written as Parquet partitioned by
//! country, read back through the manifest by our reader and by pyarrow; crashes at every
//! fault point leave every input row exactly once; modes other than append are refused.

use std::path::Path;

use stream_core::{
    FaultPoint, FileSink, FileSinkFormat, JsonFileSource, ManualClock, MapPipeline, OutputMode,
    QueryBuilder, StreamError, StreamingQuery, StreamingQueryManager, Trigger, read_file_sink,
};
use tests::{
    event_schema, golden_rows, land_golden, python_read, python_readers, rows_of, runtime,
};

/// The crash tests fail in batch 3, which with a compaction interval of 4 is a
/// compaction batch (it writes `3.compact`).
const FAILING_BATCH: u64 = 3;
const COMPACT_INTERVAL: u64 = 4;
const T0: i64 = 1_700_000_000_000;

fn query(landing: &Path, checkpoint: &Path, out: &Path, format: FileSinkFormat) -> QueryBuilder {
    StreamingQuery::builder()
        .manager(&StreamingQueryManager::new())
        .source(JsonFileSource::new(landing, event_schema()).max_files_per_trigger(1))
        .pipeline(MapPipeline::identity(event_schema()))
        .sink(
            FileSink::new(out)
                .format(format)
                .partition_by(["country"])
                .compact_interval(COMPACT_INTERVAL),
        )
        .trigger(Trigger::AvailableNow)
        .clock(ManualClock::new(T0))
        .checkpoint_location(checkpoint)
}

/// Every data file under `root` (manifest folder excluded), sorted.
fn data_files_on_disk(root: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let entry = entry.unwrap();
            if entry.file_type().unwrap().is_dir() {
                if entry.file_name() != "_stream_metadata" {
                    dirs.push(entry.path());
                }
            } else {
                out.push(entry.path());
            }
        }
    }
    out.sort();
    out
}

/// The output holds golden files `0..n` exactly once, for our reader and for pyarrow,
/// and no file on disk is outside the manifest.
fn assert_output_is_exactly(out: &Path, n: usize, test: &str) {
    assert_eq!(
        rows_of(&read_file_sink(out).unwrap()),
        golden_rows(0..n),
        "every input row exactly once"
    );
    let mut committed = FileSink::committed_files(out).unwrap();
    committed.sort();
    assert_eq!(
        committed,
        data_files_on_disk(out),
        "no orphan or temp file is left"
    );
    if let Some(python) = python_readers(test) {
        let read = python_read(&python, "files", out, None);
        assert_eq!(
            read.rows,
            golden_rows(0..n),
            "pyarrow, following the manifest"
        );
    }
}

#[test]
fn parquet_partitioned_output_is_read_back_by_us_and_by_pyarrow() {
    let landing = tempfile::tempdir().unwrap();
    let checkpoint = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    land_golden(landing.path(), 0..6);
    let rt = runtime();
    let query = query(
        landing.path(),
        checkpoint.path(),
        out.path(),
        FileSinkFormat::Parquet,
    )
    .start()
    .unwrap();
    rt.block_on(query.await_termination()).unwrap();
    assert_eq!(FileSink::latest_batch_id(out.path()).unwrap(), Some(5));
    for country in ["DE", "JP", "NG", "US"] {
        assert!(
            out.path().join(format!("country={country}")).is_dir(),
            "{country}"
        );
    }
    let progress = query.last_progress().unwrap();
    assert_eq!(
        progress.sink.description,
        format!("FileSink[{}]", out.path().display())
    );
    assert_output_is_exactly(out.path(), 6, "file_sink::parquet_partitioned_output");
}

#[test]
fn json_and_csv_outputs_round_trip() {
    for format in [FileSinkFormat::Json, FileSinkFormat::Csv] {
        let landing = tempfile::tempdir().unwrap();
        let checkpoint = tempfile::tempdir().unwrap();
        let out = tempfile::tempdir().unwrap();
        land_golden(landing.path(), 0..3);
        let rt = runtime();
        let query = query(landing.path(), checkpoint.path(), out.path(), format)
            .start()
            .unwrap();
        rt.block_on(query.await_termination()).unwrap();
        assert_eq!(
            rows_of(&read_file_sink(out.path()).unwrap()),
            golden_rows(0..3),
            "{format}"
        );
        let extension = format!(".{format}");
        assert!(
            FileSink::committed_files(out.path())
                .unwrap()
                .iter()
                .all(|f| f.to_string_lossy().ends_with(&extension)),
            "{format}"
        );
    }
}

#[test]
fn update_and_complete_modes_are_refused_when_the_query_starts() {
    let out = tempfile::tempdir().unwrap();
    for mode in [OutputMode::Update, OutputMode::Complete] {
        let error = StreamingQuery::builder()
            .manager(&StreamingQueryManager::new())
            .source(stream_core::MemoryStream::new(event_schema()))
            .pipeline(MapPipeline::identity(event_schema()))
            .sink(FileSink::new(out.path()))
            .output_mode(mode)
            .start()
            .unwrap_err();
        assert!(
            matches!(&error, StreamError::UnsupportedOutputMode { mode: m, supported, .. } if *m == mode && supported == "append"),
            "{error}"
        );
    }
    assert!(
        std::fs::read_dir(out.path()).unwrap().next().is_none(),
        "nothing written"
    );
}

/// Runs to the fault in batch 3, checks the query died of it, restarts and runs to the
/// end; the output must hold every row exactly once.
fn crash_and_restart(point: FaultPoint, test: &str) {
    let landing = tempfile::tempdir().unwrap();
    let checkpoint = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    land_golden(landing.path(), 0..6);
    let rt = runtime();
    let crashed = query(
        landing.path(),
        checkpoint.path(),
        out.path(),
        FileSinkFormat::Parquet,
    )
    .inject_fault(point, FAILING_BATCH)
    .start()
    .unwrap();
    let error = rt.block_on(crashed.await_termination()).unwrap_err();
    assert!(
        matches!(*error, StreamError::InjectedFault { point: p, batch_id } if p == point && batch_id == FAILING_BATCH),
        "{error}"
    );
    let visible = rows_of(&read_file_sink(out.path()).unwrap());
    match point {
        // the manifest has batch 3 only once the sink is done with it
        FaultPoint::BeforeCommit => assert_eq!(visible, golden_rows(0..4)),
        _ => assert_eq!(visible, golden_rows(0..3), "nothing of batch 3 is visible"),
    }
    if point == FaultPoint::DuringSinkWrite {
        let on_disk = data_files_on_disk(out.path());
        assert!(
            on_disk
                .iter()
                .any(|f| f.to_string_lossy().contains("part-00003-")),
            "a data file of the failed attempt is on disk: {on_disk:?}"
        );
    }

    let resumed = query(
        landing.path(),
        checkpoint.path(),
        out.path(),
        FileSinkFormat::Parquet,
    )
    .start()
    .unwrap();
    rt.block_on(resumed.await_termination()).unwrap();
    let after: Vec<u64> = resumed
        .recent_progress()
        .iter()
        .map(|p| p.batch_id)
        .collect();
    assert_eq!(after, vec![3, 4, 5], "batch 3 re-runs, ids stay contiguous");
    assert_eq!(FileSink::latest_batch_id(out.path()).unwrap(), Some(5));
    assert_output_is_exactly(out.path(), 6, test);
}

#[test]
fn fault_after_offsets_write_file_sink() {
    crash_and_restart(
        FaultPoint::AfterOffsetsWrite,
        "file_sink::fault_after_offsets_write",
    );
}

#[test]
fn fault_during_sink_write_file_sink() {
    crash_and_restart(
        FaultPoint::DuringSinkWrite,
        "file_sink::fault_during_sink_write",
    );
}

#[test]
fn fault_before_commit_file_sink() {
    crash_and_restart(FaultPoint::BeforeCommit, "file_sink::fault_before_commit");
}

/// A damaged manifest entry of the output folder is refused when the query starts,
/// naming the file, and neither the checkpoint nor the folder is written to (it was
/// found only at the next compaction before).
#[test]
fn a_damaged_manifest_entry_is_found_when_the_query_starts() {
    let landing = tempfile::tempdir().unwrap();
    let checkpoint = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    land_golden(landing.path(), 0..2);
    let rt = runtime();
    let q = query(
        landing.path(),
        checkpoint.path(),
        out.path(),
        FileSinkFormat::Parquet,
    )
    .start()
    .unwrap();
    rt.block_on(q.await_termination()).unwrap();
    land_golden(landing.path(), 2..3);
    let entry = out.path().join("_stream_metadata/1");
    std::fs::write(&entry, "v1\nnot a manifest entry\n").unwrap();
    let before = (
        tests::files_under(checkpoint.path()),
        tests::files_under(out.path()),
    );
    let error = query(
        landing.path(),
        checkpoint.path(),
        out.path(),
        FileSinkFormat::Parquet,
    )
    .start()
    .expect_err("a query started on a damaged manifest")
    .to_string();
    assert!(error.contains(&entry.display().to_string()), "{error}");
    assert!(error.contains("line 2 is not a file entry"), "{error}");
    let after = (
        tests::files_under(checkpoint.path()),
        tests::files_under(out.path()),
    );
    assert!(
        before == after,
        "the checkpoint or the folder was written to"
    );
}
