use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::Int64Type;
use arrow_array::{Float64Array, Int64Array, StringArray, TimestampMillisecondArray};
use arrow_schema::{DataType, Field, Schema, TimeUnit};

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
        Field::new("n", DataType::Int64, false),
        Field::new("country", DataType::Utf8, true),
        Field::new("amount", DataType::Float64, true),
    ]))
}

/// Rows `from..to`: country cycles DE, US, null; amount is n / 4.
fn rows(from: i64, to: i64) -> RecordBatch {
    let n: Vec<i64> = (from..to).collect();
    let country: Vec<Option<&str>> = n
        .iter()
        .map(|i| [Some("DE"), Some("US"), None][(*i % 3) as usize])
        .collect();
    RecordBatch::try_new(
        schema(),
        vec![
            Arc::new(
                TimestampMillisecondArray::from(
                    n.iter().map(|i| 1_700_000_000_000 + i).collect::<Vec<_>>(),
                )
                .with_timezone("UTC"),
            ),
            Arc::new(Int64Array::from(n.clone())),
            Arc::new(StringArray::from(country)),
            Arc::new(Float64Array::from(
                n.iter().map(|i| *i as f64 / 4.0).collect::<Vec<_>>(),
            )),
        ],
    )
    .unwrap()
}

fn context(clock: Arc<dyn Clock>) -> SinkContext {
    SinkContext {
        query_id: "q".into(),
        query_name: None,
        checkpoint_dir: PathBuf::from("/nonexistent"),
        output_mode: OutputMode::Append,
        schema: schema(),
        clock,
    }
}

fn open(sink: FileSink) -> FileSink {
    open_at(sink, Arc::new(ManualClock::new(1_000)))
}

fn open_at(mut sink: FileSink, clock: Arc<dyn Clock>) -> FileSink {
    sink.open(&context(clock)).unwrap();
    sink
}

fn add(sink: &mut FileSink, id: u64, batches: Vec<RecordBatch>) -> Result<()> {
    add_with(sink, id, batches, &Faults::default())
}

fn add_with(
    sink: &mut FileSink,
    id: u64,
    batches: Vec<RecordBatch>,
    faults: &Faults,
) -> Result<()> {
    sink.add_batch(SinkBatch {
        batch_id: id,
        output_mode: OutputMode::Append,
        schema: schema(),
        batches,
        faults,
    })
}

/// The `n` column of every row read back, sorted.
fn read_ns(path: &Path) -> Vec<i64> {
    let batches = read_file_sink(path).unwrap();
    let mut ns: Vec<i64> = batches
        .iter()
        .flat_map(|b| {
            assert_eq!(
                b.schema().fields(),
                schema().fields(),
                "full schema, in order"
            );
            b.column(1).as_primitive::<Int64Type>().values().to_vec()
        })
        .collect();
    ns.sort_unstable();
    ns
}

/// Every file under `root` (relative), manifest folder excluded, sorted.
fn files_on_disk(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let entry = entry.unwrap();
            let name = entry.file_name().to_string_lossy().into_owned();
            if entry.file_type().unwrap().is_dir() {
                if name != METADATA_DIR {
                    dirs.push(entry.path());
                }
            } else {
                let rel = entry
                    .path()
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                out.push(rel);
            }
        }
    }
    out.sort();
    out
}

#[test]
fn every_format_round_trips_with_partitions() {
    for format in FileSinkFormat::ALL {
        let dir = tempfile::tempdir().unwrap();
        let mut sink = open(
            FileSink::new(dir.path())
                .format(format)
                .partition_by(["country"]),
        );
        add(&mut sink, 0, vec![rows(0, 5), rows(5, 7)]).unwrap();
        add(&mut sink, 1, vec![rows(7, 10)]).unwrap();
        assert_eq!(read_ns(dir.path()), (0..10).collect::<Vec<_>>(), "{format}");
        // the batches read back are the rows written, partition column included
        let mut expected = rows(0, 10);
        let mut got =
            arrow_select::concat::concat_batches(&schema(), &read_file_sink(dir.path()).unwrap())
                .unwrap();
        let order =
            |b: &RecordBatch| arrow_ord::sort::sort_to_indices(b.column(1), None, None).unwrap();
        got = arrow_select::take::take_record_batch(&got, &order(&got)).unwrap();
        expected = arrow_select::take::take_record_batch(&expected, &order(&expected)).unwrap();
        assert_eq!(got, expected, "{format}");
        let files = files_on_disk(dir.path());
        assert_eq!(files.len(), 6, "{format}: 3 folders x 2 batches: {files:?}");
        assert!(
            files.iter().all(|f| f.starts_with("country=DE/part-0000")
                || f.starts_with("country=US/part-0000")
                || f.starts_with("country=__HIVE_DEFAULT_PARTITION__/part-0000")),
            "{files:?}"
        );
        assert!(files.iter().all(|f| {
            f.ends_with(
                WriteOptions {
                    format,
                    compression: ParquetCompression::Snappy,
                    max_rows_per_file: None,
                    target_file_size: None,
                }
                .extension(),
            )
        }));
    }
}

#[test]
fn partition_columns_are_not_repeated_inside_files() {
    let dir = tempfile::tempdir().unwrap();
    let mut sink = open(
        FileSink::new(dir.path())
            .format(FileSinkFormat::Json)
            .partition_by(["country"]),
    );
    add(&mut sink, 0, vec![rows(0, 1)]).unwrap();
    let file = &FileSink::committed_files(dir.path()).unwrap()[0];
    let text = std::fs::read_to_string(file).unwrap();
    assert_eq!(
        text.trim(),
        r#"{"ts":"2023-11-14T22:13:20Z","n":0,"amount":0.0}"#
    );
    assert!(file.to_string_lossy().contains("country=DE"));
}

#[test]
fn a_replayed_batch_is_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let mut sink = open(FileSink::new(dir.path()));
    add(&mut sink, 0, vec![rows(0, 3)]).unwrap();
    let before = files_on_disk(dir.path());
    add(&mut sink, 0, vec![rows(0, 3)]).unwrap();
    // and after a restart, too
    let mut restarted = open(FileSink::new(dir.path()));
    add(&mut restarted, 0, vec![rows(0, 3)]).unwrap();
    assert_eq!(files_on_disk(dir.path()), before);
    assert_eq!(read_ns(dir.path()), vec![0, 1, 2]);
    assert_eq!(FileSink::latest_batch_id(dir.path()).unwrap(), Some(0));
}

#[cfg(feature = "fault-injection")]
#[test]
fn a_crash_mid_write_leaves_no_visible_rows_and_its_files_are_removed() {
    use crate::FaultPoint;
    let dir = tempfile::tempdir().unwrap();
    let mut sink = open(FileSink::new(dir.path()).partition_by(["country"]));
    add(&mut sink, 0, vec![rows(0, 3)]).unwrap();
    let faults = Faults::default();
    faults.plan(FaultPoint::DuringSinkWrite, 1);
    let error = add_with(&mut sink, 1, vec![rows(3, 9)], &faults).unwrap_err();
    assert!(
        matches!(error, StreamError::InjectedFault { batch_id: 1, .. }),
        "{error}"
    );
    // one complete data file of batch 1 is on disk, but no manifest lists it
    let on_disk = files_on_disk(dir.path());
    assert_eq!(
        on_disk.iter().filter(|f| f.contains("part-00001-")).count(),
        1,
        "{on_disk:?}"
    );
    assert_eq!(read_ns(dir.path()), vec![0, 1, 2]);
    assert_eq!(FileSink::committed_files(dir.path()).unwrap().len(), 3);

    let mut restarted = open(FileSink::new(dir.path()).partition_by(["country"]));
    assert!(
        files_on_disk(dir.path())
            .iter()
            .all(|f| !f.contains("part-00001-")),
        "the orphan is gone"
    );
    add(&mut restarted, 1, vec![rows(3, 9)]).unwrap();
    assert_eq!(read_ns(dir.path()), (0..9).collect::<Vec<_>>());
    assert_eq!(files_on_disk(dir.path()).len(), 6, "no leftovers");
}

#[test]
fn temp_files_and_unlisted_files_of_later_batches_are_removed_at_open() {
    let dir = tempfile::tempdir().unwrap();
    let mut sink = open(FileSink::new(dir.path()));
    add(&mut sink, 0, vec![rows(0, 3)]).unwrap();
    let committed = files_on_disk(dir.path());
    let later = writer::data_file_name(1, 0, "snappy.parquet");
    let earlier_unlisted = writer::data_file_name(0, 7, "snappy.parquet");
    for name in [
        later.clone(),
        format!(".{later}.tmp"),
        earlier_unlisted.clone(),
        "notes.txt".into(),
    ] {
        std::fs::write(dir.path().join(name), b"x").unwrap();
    }
    std::fs::create_dir(dir.path().join("other")).unwrap();
    std::fs::write(dir.path().join("other").join(&later), b"x").unwrap();
    let _restarted = open(FileSink::new(dir.path()));
    let mut expected = committed;
    // files of committed batches and files that are not ours stay
    expected.extend([
        earlier_unlisted,
        "notes.txt".into(),
        format!("other/{later}"),
    ]);
    expected.sort();
    assert_eq!(files_on_disk(dir.path()), expected);
}

#[test]
fn files_roll_at_the_row_limit_and_the_size_target() {
    let dir = tempfile::tempdir().unwrap();
    let mut sink = open(FileSink::new(dir.path()).max_rows_per_file(3));
    add(&mut sink, 0, vec![rows(0, 2), rows(2, 10)]).unwrap();
    let sizes: Vec<usize> = FileSink::committed_files(dir.path())
        .unwrap()
        .iter()
        .map(|f| {
            parquet::file::reader::FileReader::metadata(
                &parquet::file::serialized_reader::SerializedFileReader::new(
                    std::fs::File::open(f).unwrap(),
                )
                .unwrap(),
            )
            .file_metadata()
            .num_rows() as usize
        })
        .collect();
    assert_eq!(sizes, vec![3, 3, 3, 1]);
    assert_eq!(read_ns(dir.path()), (0..10).collect::<Vec<_>>());

    let dir = tempfile::tempdir().unwrap();
    let mut sink = open(
        FileSink::new(dir.path())
            .format(FileSinkFormat::Csv)
            .target_file_size(20_000),
    );
    add(&mut sink, 0, vec![rows(0, 5_000)]).unwrap();
    let files = FileSink::committed_files(dir.path()).unwrap();
    assert!(files.len() >= 5, "{} files", files.len());
    for f in &files[..files.len() - 1] {
        let size = std::fs::metadata(f).unwrap().len();
        assert!((20_000..40_000).contains(&size), "{size}");
    }
    assert_eq!(read_ns(dir.path()), (0..5_000).collect::<Vec<_>>());
}

#[test]
fn the_manifest_is_compacted_and_its_old_files_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let mut sink = open(FileSink::new(dir.path()).format(FileSinkFormat::Json));
    for id in 0..25 {
        add(&mut sink, id, vec![rows(id as i64, id as i64 + 1)]).unwrap();
    }
    let mut names: Vec<String> = std::fs::read_dir(dir.path().join(METADATA_DIR))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort_by_key(|n| {
        (
            n.split('.')
                .next()
                .unwrap()
                .parse::<u64>()
                .unwrap_or(u64::MAX),
            n.clone(),
        )
    });
    let mut expected: Vec<String> = vec!["9.compact".into()];
    expected.extend((10..19).map(|i| i.to_string()));
    expected.push("19.compact".into());
    expected.extend((20..25).map(|i| i.to_string()));
    expected.push("format".into());
    assert_eq!(names, expected);
    assert_eq!(read_ns(dir.path()), (0..25).collect::<Vec<_>>());
    assert_eq!(FileSink::latest_batch_id(dir.path()).unwrap(), Some(24));
    // a replay of a batch inside a compaction is still recognised
    let mut restarted = open(FileSink::new(dir.path()).format(FileSinkFormat::Json));
    add(&mut restarted, 3, vec![rows(3, 4)]).unwrap();
    assert_eq!(read_ns(dir.path()).len(), 25);
}

#[test]
fn retention_drops_old_files_from_the_manifest_at_compaction() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(0);
    let mut sink = open_at(
        FileSink::new(dir.path())
            .compact_interval(2)
            .retention(Duration::from_secs(60)),
        Arc::new(clock.clone()),
    );
    add(&mut sink, 0, vec![rows(0, 1)]).unwrap();
    clock.advance(30_000);
    add(&mut sink, 1, vec![rows(1, 2)]).unwrap(); // compaction at 30 s: both kept
    assert_eq!(read_ns(dir.path()), vec![0, 1]);
    clock.advance(40_000);
    add(&mut sink, 2, vec![rows(2, 3)]).unwrap();
    add(&mut sink, 3, vec![rows(3, 4)]).unwrap(); // at 70 s: batch 0 (0 s) expired
    assert_eq!(read_ns(dir.path()), vec![1, 2, 3]);
    // the expired file stays on disk
    assert_eq!(files_on_disk(dir.path()).len(), 4);
}

#[test]
fn an_empty_batch_is_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let mut sink = open(FileSink::new(dir.path()));
    add(&mut sink, 0, vec![]).unwrap();
    add(&mut sink, 1, vec![rows(0, 0)]).unwrap();
    assert_eq!(FileSink::latest_batch_id(dir.path()).unwrap(), Some(1));
    assert!(files_on_disk(dir.path()).is_empty());
    assert!(read_file_sink(dir.path()).unwrap().is_empty());
}

/// The folder after two committed batches, with `damage` done to its manifest file of
/// batch 1; the error of opening a sink on it, and whether the folder was left as it was.
fn open_after_damage(damage: impl FnOnce(&Path)) -> (String, bool) {
    let dir = tempfile::tempdir().unwrap();
    let mut first = open(FileSink::new(dir.path()));
    add(&mut first, 0, vec![rows(0, 1)]).unwrap();
    add(&mut first, 1, vec![rows(1, 2)]).unwrap();
    drop(first);
    damage(&dir.path().join("_stream_metadata/1"));
    let before = files_on_disk(dir.path());
    let error = FileSink::new(dir.path())
        .open(&context(Arc::new(ManualClock::new(0))))
        .unwrap_err()
        .to_string();
    (error, files_on_disk(dir.path()) == before)
}

#[test]
fn a_garbage_manifest_entry_is_refused_at_open_naming_the_file_and_line() {
    let (error, untouched) = open_after_damage(|path| {
        let mut text = std::fs::read_to_string(path).unwrap();
        text.push_str("{\"not\": \"an entry\"}\n");
        std::fs::write(path, text).unwrap();
    });
    assert!(error.contains("_stream_metadata/1"), "{error}");
    assert!(error.contains("line 3 is not a file entry"), "{error}");
    assert!(untouched, "the folder was written to");
}

#[test]
fn a_manifest_file_of_another_version_is_refused_at_open_naming_it() {
    let (error, untouched) = open_after_damage(|path| {
        let text = std::fs::read_to_string(path).unwrap();
        std::fs::write(path, text.replacen("v1", "v2", 1)).unwrap();
    });
    assert!(error.contains("_stream_metadata/1"), "{error}");
    assert!(error.contains("v2"), "{error}");
    assert!(untouched, "the folder was written to");
}

#[test]
fn a_folder_of_another_layout_is_refused_with_the_file_named() {
    let dir = tempfile::tempdir().unwrap();
    let mut first = open(FileSink::new(dir.path()));
    add(&mut first, 0, vec![rows(0, 1)]).unwrap();
    let mut other = FileSink::new(dir.path()).partition_by(["country"]);
    let error = other
        .open(&context(Arc::new(ManualClock::new(0))))
        .unwrap_err()
        .to_string();
    assert!(error.contains("_stream_metadata/format"), "{error}");
    assert!(error.contains("partitioned by []"), "{error}");
}

#[test]
fn options_are_checked_when_the_sink_opens() {
    let dir = tempfile::tempdir().unwrap();
    let cases: Vec<(FileSink, &str)> = vec![
        (
            FileSink::new(dir.path()).compact_interval(0),
            "compact_interval",
        ),
        (
            FileSink::new(dir.path()).max_rows_per_file(0),
            "max_rows_per_file",
        ),
        (
            FileSink::new(dir.path()).target_file_size(0),
            "target_file_size",
        ),
        (
            FileSink::new(dir.path()).partition_by(["nope"]),
            "no column `nope`",
        ),
        (
            FileSink::new(dir.path()).partition_by(["amount"]),
            "`amount` is Float64",
        ),
    ];
    for (mut sink, expected) in cases {
        let error = sink
            .open(&context(Arc::new(ManualClock::new(0))))
            .unwrap_err()
            .to_string();
        assert!(error.contains(expected), "{error}");
    }
}

#[test]
fn only_append_mode_and_the_description_names_the_folder() {
    let sink = FileSink::new("out/x");
    assert!(sink.supports(OutputMode::Append));
    assert!(!sink.supports(OutputMode::Update));
    assert!(!sink.supports(OutputMode::Complete));
    assert_eq!(sink.description(), "FileSink[out/x]");
    assert!(
        "xml"
            .parse::<FileSinkFormat>()
            .unwrap_err()
            .to_string()
            .contains("unknown file format `xml`")
    );
}

#[test]
fn a_broken_data_file_is_named_by_the_reader() {
    let dir = tempfile::tempdir().unwrap();
    let mut sink = open(FileSink::new(dir.path()));
    add(&mut sink, 0, vec![rows(0, 3)]).unwrap();
    let file = FileSink::committed_files(dir.path()).unwrap().remove(0);
    std::fs::write(&file, b"not parquet").unwrap();
    let error = read_file_sink(dir.path()).unwrap_err().to_string();
    assert!(error.contains(&*file.to_string_lossy()), "{error}");
    std::fs::remove_file(&file).unwrap();
    let error = read_file_sink(dir.path()).unwrap_err().to_string();
    assert!(error.contains(&*file.to_string_lossy()), "{error}");
}

#[test]
fn a_sink_used_without_open_opens_itself() {
    let dir = tempfile::tempdir().unwrap();
    let mut sink = FileSink::new(dir.path().join("new")).format(FileSinkFormat::Csv);
    add(&mut sink, 0, vec![rows(0, 2)]).unwrap();
    assert_eq!(read_ns(&dir.path().join("new")), vec![0, 1]);
}
