//! The file source's landing-zone options: max_bytes_per_trigger, latest_first,
//! max_file_age, file_name_only, globs, partition folders, clean_source (after commit
//! only, also across a crash), settle_time on a manual clock, restarts.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use arrow_schema::{DataType, Field, Schema, SchemaRef};
use stream_core::{
    CleanSource, FaultPoint, FileSource, ManualClock, MapPipeline, MemorySink, Offset,
    QueryBuilder, ReadLimit, Source, StreamError, StreamingQuery, StreamingQueryManager, Trigger,
};
use tests::files::{context, drain, land, mtime_ms, next_batch, open, read_error, set_mtime};
use tests::{memory_table_rows, runtime};

fn id_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![Field::new("id", DataType::Int64, true)]))
}

fn ids(ids: &[i64]) -> Vec<String> {
    ids.iter().map(|i| format!("{{\"id\":{i}}}")).collect()
}

/// Lands `name` holding the rows `{"id": i}`.
fn land_ids(dir: &Path, name: &str, values: &[i64], seq: u64) -> std::path::PathBuf {
    let text: String = values.iter().map(|i| format!("{{\"id\":{i}}}\n")).collect();
    land(dir, name, text, seq)
}

fn values(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| format!("{{\"value\":\"{s}\"}}")).collect()
}

#[test]
fn max_bytes_per_trigger_takes_files_up_to_the_size_and_at_least_one() {
    let landing = tempfile::tempdir().unwrap();
    let checkpoint = tempfile::tempdir().unwrap();
    land(landing.path(), "a.txt", "aaaaaaaaa\n", 0); // 10 bytes
    land(landing.path(), "b.txt", "bbbbbbbbb\n", 1); // 10
    land(landing.path(), "c.txt", "cccccccccccccccccccccccc\n", 2); // 25: more than the cap
    land(landing.path(), "d.txt", "ddd\n", 3); // 4
    land(landing.path(), "e.txt", "eeeeeeeeeeeeeee\n", 4); // 16
    let source = FileSource::text(landing.path()).max_bytes_per_trigger(20);
    assert_eq!(source.default_read_limit(), ReadLimit::MaxBytes(20));
    let mut source = open(source, checkpoint.path());
    assert_eq!(
        drain(&mut source, &mut None),
        vec![
            values(&["aaaaaaaaa", "bbbbbbbbb"]),
            values(&["cccccccccccccccccccccccc"]),
            values(&["ddd", "eeeeeeeeeeeeeee"]),
        ]
    );
}

#[test]
fn max_files_and_max_bytes_together_are_refused_when_the_query_starts() {
    let landing = tempfile::tempdir().unwrap();
    let checkpoint = tempfile::tempdir().unwrap();
    let result = StreamingQuery::builder()
        .manager(&StreamingQueryManager::new())
        .source(
            FileSource::json(landing.path(), id_schema())
                .max_files_per_trigger(2)
                .max_bytes_per_trigger(1_000),
        )
        .pipeline(MapPipeline::identity(id_schema()))
        .sink(MemorySink::new("file_source_both_limits"))
        .checkpoint_location(checkpoint.path())
        .start();
    match result {
        Err(StreamError::InvalidOption { name, message }) => {
            assert_eq!(name, "max_bytes_per_trigger");
            assert!(message.contains("max_files_per_trigger"), "{message}");
        }
        Err(other) => panic!("expected an invalid option, got {other}"),
        Ok(_) => panic!("the query started"),
    }
    let zero = FileSource::text(landing.path()).max_bytes_per_trigger(0);
    assert!(matches!(
        zero.validate(),
        Err(StreamError::InvalidOption { name, .. }) if name == "max_bytes_per_trigger"
    ));
}

#[test]
fn latest_first_takes_the_newest_files_first() {
    let landing = tempfile::tempdir().unwrap();
    let checkpoint = tempfile::tempdir().unwrap();
    land_ids(landing.path(), "a.json", &[1], 0);
    land_ids(landing.path(), "b.json", &[2], 1);
    land_ids(landing.path(), "c.json", &[3], 2);
    let mut source = open(
        FileSource::json(landing.path(), id_schema())
            .latest_first(true)
            .max_files_per_trigger(2),
        checkpoint.path(),
    );
    let mut start = None;
    assert_eq!(
        drain(&mut source, &mut start),
        vec![ids(&[3, 2]), ids(&[1])]
    );
    // a newer file arriving later is still taken
    land_ids(landing.path(), "d.json", &[4], 3);
    assert_eq!(drain(&mut source, &mut start), vec![ids(&[4])]);
}

#[test]
fn max_file_age_is_relative_to_the_newest_file_and_survives_a_restart() {
    let landing = tempfile::tempdir().unwrap();
    let checkpoint = tempfile::tempdir().unwrap();
    let source =
        || FileSource::json(landing.path(), id_schema()).max_file_age(Duration::from_secs(50));
    // the first batch takes every file, however old
    land_ids(landing.path(), "a.json", &[1], 0);
    land_ids(landing.path(), "b.json", &[2], 100);
    let mut first = open(source(), checkpoint.path());
    let mut start = None;
    assert_eq!(drain(&mut first, &mut start), vec![ids(&[1, 2])]);
    // newest taken: 100 s, so files modified before 100 - 50 = 50 s are too old
    land_ids(landing.path(), "c.json", &[3], 49);
    land_ids(landing.path(), "d.json", &[4], 50);
    assert_eq!(drain(&mut first, &mut start), vec![ids(&[4])]);
    drop(first);

    // a restarted source rebuilds the threshold from its log
    land_ids(landing.path(), "e.json", &[5], 10);
    land_ids(landing.path(), "f.json", &[6], 200);
    let mut second = open(source(), checkpoint.path());
    assert_eq!(drain(&mut second, &mut start), vec![ids(&[6])]);
}

#[test]
fn max_file_age_is_ignored_with_latest_first_and_max_files_per_trigger() {
    let landing = tempfile::tempdir().unwrap();
    let checkpoint = tempfile::tempdir().unwrap();
    land_ids(landing.path(), "a.json", &[1], 0);
    land_ids(landing.path(), "b.json", &[2], 100);
    let mut source = open(
        FileSource::json(landing.path(), id_schema())
            .max_file_age(Duration::from_secs(50))
            .latest_first(true)
            .max_files_per_trigger(1),
        checkpoint.path(),
    );
    // newest first: b (100 s), then a (0 s), although a is 100 s older than b
    assert_eq!(drain(&mut source, &mut None), vec![ids(&[2]), ids(&[1])]);
}

#[test]
fn file_name_only_treats_the_same_name_in_another_folder_as_seen() {
    let landing = tempfile::tempdir().unwrap();
    land_ids(landing.path(), "day=1/part-0.json", &[1], 0);
    land_ids(landing.path(), "day=2/part-0.json", &[2], 1);
    land_ids(landing.path(), "day=2/part-1.json", &[3], 2);
    let by_name = tempfile::tempdir().unwrap();
    let mut source = open(
        FileSource::json(landing.path(), id_schema())
            .file_name_only(true)
            .max_files_per_trigger(1),
        by_name.path(),
    );
    // day=2/part-0.json has the name of a file already taken
    assert_eq!(drain(&mut source, &mut None), vec![ids(&[1]), ids(&[3])]);
    let by_path = tempfile::tempdir().unwrap();
    let mut source = open(
        FileSource::json(landing.path(), id_schema()).max_files_per_trigger(1),
        by_path.path(),
    );
    assert_eq!(
        drain(&mut source, &mut None),
        vec![ids(&[1]), ids(&[2]), ids(&[3])]
    );
}

#[test]
fn a_glob_path_reads_the_matching_files_as_they_come() {
    let landing = tempfile::tempdir().unwrap();
    let checkpoint = tempfile::tempdir().unwrap();
    let l = landing.path();
    land_ids(l, "eu/2024-01/a.json", &[1], 0);
    land_ids(l, "us/2024-02/b.json", &[2], 1);
    land_ids(l, "us/2023-12/c.json", &[3], 2); // not 2024
    land_ids(l, "us/2024-02/d.csv", &[4], 3); // not .json
    land_ids(l, "a.json", &[5], 4); // not two folders deep
    land_ids(l, "eu/2024-01/_e.json", &[6], 5); // hidden
    let mut source = open(
        FileSource::json(l.join("*/2024-*/*.json"), id_schema()),
        checkpoint.path(),
    );
    assert_eq!(
        source.description(),
        format!("FileStreamSource[file:{}/*/2024-*/*.json]", l.display())
    );
    let mut start = None;
    assert_eq!(drain(&mut source, &mut start), vec![ids(&[1, 2])]);
    land_ids(l, "asia/2024-03/f.json", &[7], 6);
    assert_eq!(drain(&mut source, &mut start), vec![ids(&[7])]);
}

fn partition_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, true),
        Field::new("date", DataType::Date32, true),
        Field::new("country", DataType::Utf8, true),
        Field::new("hour", DataType::Int32, true),
    ]))
}

#[test]
fn partition_folders_become_typed_columns() {
    let landing = tempfile::tempdir().unwrap();
    let checkpoint = tempfile::tempdir().unwrap();
    let l = landing.path();
    land_ids(l, "date=2024-01-01/country=DE/hour=7/a.json", &[1, 2], 0);
    // the folder wins over a field of the same name in the file
    land(
        l,
        "date=2024-01-02/country=FR%2FNC/hour=23/b.json",
        "{\"id\": 3, \"country\": \"XX\"}\n",
        1,
    );
    // the default partition is null; a column without a folder comes from the file
    land(
        l,
        "date=__HIVE_DEFAULT_PARTITION__/c.json",
        "{\"id\": 4, \"hour\": 5}\n",
        2,
    );
    let mut source = open(
        FileSource::json(l, partition_schema()).max_files_per_trigger(1),
        checkpoint.path(),
    );
    assert_eq!(
        drain(&mut source, &mut None),
        vec![
            vec![
                r#"{"country":"DE","date":"2024-01-01","hour":7,"id":1}"#.to_string(),
                r#"{"country":"DE","date":"2024-01-01","hour":7,"id":2}"#.to_string(),
            ],
            vec![r#"{"country":"FR/NC","date":"2024-01-02","hour":23,"id":3}"#.to_string()],
            vec![r#"{"hour":5,"id":4}"#.to_string()],
        ]
    );
}

#[test]
fn partition_columns_with_csv_and_text() {
    let landing = tempfile::tempdir().unwrap();
    let checkpoint = tempfile::tempdir().unwrap();
    land(landing.path(), "country=DE/a.csv", "id\n1\n", 0);
    let schema = Arc::new(Schema::new(vec![
        Field::new("country", DataType::Utf8, false),
        Field::new("id", DataType::Int64, true),
    ]));
    let mut csv = open(
        FileSource::csv(landing.path(), schema).header(true),
        checkpoint.path(),
    );
    assert_eq!(
        drain(&mut csv, &mut None),
        vec![vec![r#"{"country":"DE","id":1}"#.to_string()]]
    );

    let landing = tempfile::tempdir().unwrap();
    let checkpoint = tempfile::tempdir().unwrap();
    land(landing.path(), "level=warn/a.log", "disk full\n", 0);
    let schema = Arc::new(Schema::new(vec![
        Field::new("value", DataType::Utf8, false),
        Field::new("level", DataType::Utf8, false),
    ]));
    let mut text = open(
        FileSource::with_format(landing.path(), schema, stream_core::FileFormat::Text),
        checkpoint.path(),
    );
    assert_eq!(
        drain(&mut text, &mut None),
        vec![vec![r#"{"level":"warn","value":"disk full"}"#.to_string()]]
    );
}

#[test]
fn a_partition_value_that_does_not_parse_names_the_path() {
    let landing = tempfile::tempdir().unwrap();
    let checkpoint = tempfile::tempdir().unwrap();
    let path = land_ids(
        landing.path(),
        "date=2024-02-30/country=DE/hour=1/a.json",
        &[1],
        0,
    );
    let mut source = open(
        FileSource::json(landing.path(), partition_schema()),
        checkpoint.path(),
    );
    match read_error(&mut source) {
        StreamError::BadInputFile { path: p, message } => {
            assert_eq!(p, path);
            assert!(message.contains("`date=2024-02-30`"), "{message}");
            assert!(message.contains("column `date`"), "{message}");
        }
        other => panic!("expected a bad input file, got {other}"),
    }
}

#[test]
fn clean_source_delete_removes_files_only_once_their_batch_is_committed() {
    let landing = tempfile::tempdir().unwrap();
    let checkpoint = tempfile::tempdir().unwrap();
    let a = land_ids(landing.path(), "a.json", &[1], 0);
    let b = land_ids(landing.path(), "b.json", &[2], 1);
    let mut source = open(
        FileSource::json(landing.path(), id_schema())
            .max_files_per_trigger(1)
            .clean_source(CleanSource::Delete),
        checkpoint.path(),
    );
    let end = source
        .latest_offset(None, source.default_read_limit())
        .unwrap()
        .unwrap();
    source.read(None, &end).unwrap();
    assert!(a.exists(), "read but not committed: still there");
    source.commit(&end).unwrap();
    assert!(!a.exists(), "committed: deleted");
    assert!(b.exists(), "not in the committed batch");
}

#[test]
fn clean_source_after_a_crash_between_commit_log_and_source_commit() {
    let landing = tempfile::tempdir().unwrap();
    let checkpoint = tempfile::tempdir().unwrap();
    let a = land_ids(landing.path(), "a.json", &[1], 0);
    let b = land_ids(landing.path(), "b.json", &[2], 1);
    let source = || {
        FileSource::json(landing.path(), id_schema())
            .max_files_per_trigger(1)
            .clean_source(CleanSource::Delete)
    };
    let mut first = open(source(), checkpoint.path());
    let end = first
        .latest_offset(None, ReadLimit::MaxFiles(1))
        .unwrap()
        .unwrap();
    first.read(None, &end).unwrap();
    drop(first); // `commits/0` was written, then the process died before commit(end)
    assert!(a.exists());

    let mut second = open(source(), checkpoint.path());
    let mut start: Option<Offset> = Some(end);
    assert_eq!(drain(&mut second, &mut start), vec![ids(&[2])]);
    assert!(
        !a.exists(),
        "the committed batch before the crash is cleaned too"
    );
    assert!(!b.exists());
}

#[test]
fn clean_source_archive_moves_files_under_the_archive_keeping_their_path() {
    let root = tempfile::tempdir().unwrap();
    let landing = root.path().join("landing");
    let archive = root.path().join("archive");
    let checkpoint = tempfile::tempdir().unwrap();
    let a = land_ids(&landing, "country=DE/a.json", &[1], 0);
    let mut source = open(
        FileSource::json(&landing, id_schema()).clean_source(CleanSource::Archive {
            dir: archive.clone(),
        }),
        checkpoint.path(),
    );
    assert_eq!(drain(&mut source, &mut None), vec![ids(&[1])]);
    assert!(!a.exists());
    let moved = archive.join(a.strip_prefix("/").unwrap());
    assert_eq!(std::fs::read_to_string(moved).unwrap(), "{\"id\":1}\n");
}

#[test]
fn an_archive_folder_the_path_could_match_is_refused_at_start() {
    let root = tempfile::tempdir().unwrap();
    let landing = root.path().join("landing");
    std::fs::create_dir_all(&landing).unwrap();
    for (path, archive) in [
        (landing.clone(), landing.join("archive")),
        (landing.join("*"), landing.join("archive")),
        (landing.clone(), root.path().to_path_buf()),
    ] {
        let checkpoint = tempfile::tempdir().unwrap();
        let result = StreamingQuery::builder()
            .manager(&StreamingQueryManager::new())
            .source(
                FileSource::json(&path, id_schema()).clean_source(CleanSource::Archive {
                    dir: archive.clone(),
                }),
            )
            .pipeline(MapPipeline::identity(id_schema()))
            .sink(MemorySink::new("file_source_archive_inside"))
            .checkpoint_location(checkpoint.path())
            .start();
        match result {
            Err(StreamError::InvalidOption { name, .. }) => assert_eq!(name, "clean_source"),
            Err(other) => panic!(
                "{}: expected an invalid option, got {other}",
                archive.display()
            ),
            Ok(_) => panic!("{}: the query started", archive.display()),
        }
    }
}

fn cleaning_query(landing: &Path, checkpoint: &Path, table: &str) -> QueryBuilder {
    StreamingQuery::builder()
        .manager(&StreamingQueryManager::new())
        .source(
            FileSource::json(landing, id_schema())
                .max_files_per_trigger(1)
                .clean_source(CleanSource::Delete),
        )
        .pipeline(MapPipeline::identity(id_schema()))
        .sink(MemorySink::new(table))
        .trigger(Trigger::AvailableNow)
        .checkpoint_location(checkpoint)
}

#[test]
fn clean_source_in_a_query_that_crashes_before_commit() {
    let landing = tempfile::tempdir().unwrap();
    let checkpoint = tempfile::tempdir().unwrap();
    let files: Vec<_> = (0..3)
        .map(|i| land_ids(landing.path(), &format!("f{i}.json"), &[i as i64], i))
        .collect();
    let table = "file_source_clean_crash";
    let rt = runtime();
    let crashed = cleaning_query(landing.path(), checkpoint.path(), table)
        .inject_fault(FaultPoint::BeforeCommit, 1)
        .start()
        .unwrap();
    assert!(rt.block_on(crashed.await_termination()).is_err());
    assert!(!files[0].exists(), "batch 0 was committed");
    assert!(
        files[1].exists(),
        "batch 1 was not committed: its file stays"
    );
    assert!(files[2].exists());

    let resumed = cleaning_query(landing.path(), checkpoint.path(), table)
        .start()
        .unwrap();
    rt.block_on(resumed.await_termination()).unwrap();
    assert!(files.iter().all(|f| !f.exists()));
    assert_eq!(memory_table_rows(table), ids(&[0, 1, 2]));
}

#[test]
fn settle_time_waits_on_the_query_clock_for_a_file_to_stop_changing() {
    let landing = tempfile::tempdir().unwrap();
    let checkpoint = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(mtime_ms(100));
    let mut source =
        FileSource::json(landing.path(), id_schema()).settle_time(Duration::from_secs(5));
    source.open(&context(checkpoint.path(), &clock)).unwrap();
    let mut start = None;

    // a file still being written: modified "now"
    let path = land(landing.path(), "a.json", "{\"id\": 1}\n", 100);
    assert!(
        next_batch(&mut source, &mut start).is_none(),
        "just written"
    );
    clock.advance(3_000);
    // it grew meanwhile: the wait starts again
    std::fs::write(&path, "{\"id\": 1}\n{\"id\": 2}\n").unwrap();
    set_mtime(&path, 103);
    assert!(next_batch(&mut source, &mut start).is_none(), "changed");
    clock.advance(4_000);
    assert!(
        next_batch(&mut source, &mut start).is_none(),
        "unchanged for 4 s only"
    );
    clock.advance(1_000);
    assert_eq!(drain(&mut source, &mut start), vec![ids(&[1, 2])]);

    // a file last modified long enough ago is taken at once
    land_ids(landing.path(), "old.json", &[3], 0);
    assert_eq!(drain(&mut source, &mut start), vec![ids(&[3])]);
}

#[test]
fn restarts_neither_reread_nor_lose_files_across_globs_and_partitions() {
    let landing = tempfile::tempdir().unwrap();
    let checkpoint = tempfile::tempdir().unwrap();
    let l = landing.path();
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, true),
        Field::new("day", DataType::Int32, true),
    ]));
    let run = |table: &str| {
        let query = StreamingQuery::builder()
            .manager(&StreamingQueryManager::new())
            .source(
                FileSource::csv(l.join("*=*"), schema.clone())
                    .header(true)
                    .max_files_per_trigger(2),
            )
            .pipeline(MapPipeline::identity(schema.clone()))
            .sink(MemorySink::new(table))
            .trigger(Trigger::AvailableNow)
            .checkpoint_location(checkpoint.path())
            .start()
            .unwrap();
        runtime().block_on(query.await_termination()).unwrap();
        query.recent_progress().len()
    };
    for i in 0..3 {
        land(l, &format!("day={i}/f.csv"), format!("id\n{i}\n"), i);
    }
    assert_eq!(run("file_source_restarts"), 2);
    for i in 3..5 {
        land(l, &format!("day={i}/f.csv"), format!("id\n{i}\n"), i);
    }
    land(l, "day=5/_temporary.csv", "id\n99\n", 5); // hidden
    assert_eq!(run("file_source_restarts"), 1);
    assert_eq!(run("file_source_restarts"), 0);
    let expected: Vec<String> = (0..5)
        .map(|i| format!("{{\"day\":{i},\"id\":{i}}}"))
        .collect();
    assert_eq!(memory_table_rows("file_source_restarts"), expected);
}
