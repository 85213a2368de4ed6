//! The way forward after a bad file stopped a query: `ignore_missing_files` lets a
//! restarted query run the batch again without a file that was removed, and
//! `ignore_corrupt_files` skips a file that cannot be read; each skip is counted in the
//! progress record. Also: a UTF-8 byte-order mark at the start of a text file is not
//! part of its first record.

use std::path::Path;
use std::sync::Arc;

use arrow_schema::{DataType, Field, Schema, SchemaRef};
use stream_core::{
    FileSource, MapPipeline, MemorySink, StreamError, StreamingQuery, StreamingQueryManager,
    StreamingQueryProgress, Trigger,
};
use tests::files::{drain, land, open};
use tests::{memory_table_rows, runtime};

fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, true),
        Field::new("name", DataType::Utf8, true),
    ]))
}

/// Runs `source` to the end of what is there on `checkpoint` into the memory table
/// `table`: the progress of its batches, or the error that stopped it.
fn run(
    source: FileSource,
    table: &str,
    checkpoint: &Path,
) -> Result<Vec<StreamingQueryProgress>, Arc<StreamError>> {
    let query = StreamingQuery::builder()
        .manager(&StreamingQueryManager::new())
        .source(source)
        .pipeline(MapPipeline::identity(schema()))
        .sink(MemorySink::new(table))
        .trigger(Trigger::AvailableNow)
        .checkpoint_location(checkpoint)
        .start()
        .map_err(Arc::new)?;
    runtime().block_on(query.await_termination())?;
    Ok(query.recent_progress())
}

fn metric(progress: &StreamingQueryProgress, name: &str) -> Option<String> {
    progress.sources[0].metrics.get(name).cloned()
}

#[test]
fn a_removed_bad_file_lets_the_restarted_batch_go_on_with_ignore_missing_files() {
    let landing = tempfile::tempdir().unwrap();
    let checkpoint = tempfile::tempdir().unwrap();
    land(
        landing.path(),
        "a.json",
        "{\"id\": 1, \"name\": \"a\"}\n",
        0,
    );
    let bad = land(landing.path(), "b.json", "{\"id\": \"two\"}\n", 1);
    land(
        landing.path(),
        "c.json",
        "{\"id\": 3, \"name\": \"c\"}\n",
        2,
    );
    let source = || FileSource::json(landing.path(), schema());

    // fail_fast stops batch 0, naming the file, the line, the column and its type
    match run(source(), "skip_missing", checkpoint.path())
        .as_ref()
        .map_err(|e| &**e)
    {
        Err(StreamError::MalformedRecord {
            path,
            line,
            message,
        }) => {
            assert_eq!((path, *line), (&bad, 1));
            assert_eq!(
                message,
                "column `id` is declared i64 but the record holds `\"two\"`"
            );
        }
        other => panic!("expected a malformed record, got {other:?}"),
    }
    assert!(memory_table_rows("skip_missing").is_empty());

    // the file is quarantined; without the option the batch cannot run again
    std::fs::rename(&bad, checkpoint.path().join("quarantined.json")).unwrap();
    match run(source(), "skip_missing", checkpoint.path()) {
        Err(e) => assert!(e.to_string().contains("b.json"), "{e}"),
        Ok(_) => panic!("a file of the batch is gone: the batch cannot run as logged"),
    }

    // with it, batch 0 runs again without the file, and says so
    let progress = run(
        source().ignore_missing_files(true),
        "skip_missing",
        checkpoint.path(),
    )
    .unwrap();
    assert_eq!(
        memory_table_rows("skip_missing"),
        [r#"{"id":1,"name":"a"}"#, r#"{"id":3,"name":"c"}"#]
    );
    assert_eq!(progress[0].batch_id, 0);
    assert_eq!(
        metric(&progress[0], FileSource::METRIC_MISSING_FILES_SKIPPED).as_deref(),
        Some("1")
    );
    assert_eq!(progress[0].num_input_rows, 2);
}

#[test]
fn ignore_corrupt_files_skips_a_damaged_file_but_not_a_bad_record() {
    let landing = tempfile::tempdir().unwrap();
    let checkpoint = tempfile::tempdir().unwrap();
    // a gzip file cut short, between two good files
    let whole = tests::files::gzip("{\"id\": 2, \"name\": \"b\"}\n");
    land(
        landing.path(),
        "a.json",
        "{\"id\": 1, \"name\": \"a\"}\n",
        0,
    );
    land(landing.path(), "b.json.gz", &whole[..whole.len() / 2], 1);
    land(
        landing.path(),
        "c.json",
        "{\"id\": 3, \"name\": \"c\"}\n",
        2,
    );
    let progress = run(
        FileSource::json(landing.path(), schema()).ignore_corrupt_files(true),
        "skip_corrupt",
        checkpoint.path(),
    )
    .unwrap();
    assert_eq!(
        memory_table_rows("skip_corrupt"),
        [r#"{"id":1,"name":"a"}"#, r#"{"id":3,"name":"c"}"#]
    );
    assert_eq!(
        metric(&progress[0], FileSource::METRIC_CORRUPT_FILES_SKIPPED).as_deref(),
        Some("1")
    );

    // a record that does not parse is the parse mode's business, not a corrupt file
    let landing = tempfile::tempdir().unwrap();
    let checkpoint = tempfile::tempdir().unwrap();
    land(landing.path(), "a.json", "{\"id\": \"one\"}\n", 0);
    let error = run(
        FileSource::json(landing.path(), schema()).ignore_corrupt_files(true),
        "skip_corrupt_record",
        checkpoint.path(),
    )
    .unwrap_err();
    assert!(
        matches!(*error, StreamError::MalformedRecord { line: 1, .. }),
        "{error}"
    );
}

#[test]
fn without_the_options_the_metrics_are_not_reported() {
    let landing = tempfile::tempdir().unwrap();
    let checkpoint = tempfile::tempdir().unwrap();
    land(landing.path(), "a.json", "{\"id\": 1}\n", 0);
    let progress = run(
        FileSource::json(landing.path(), schema()),
        "skip_none",
        checkpoint.path(),
    )
    .unwrap();
    assert_eq!(
        metric(&progress[0], FileSource::METRIC_MISSING_FILES_SKIPPED),
        None
    );
    assert_eq!(
        metric(&progress[0], FileSource::METRIC_CORRUPT_FILES_SKIPPED),
        None
    );
}

#[test]
fn a_byte_order_mark_is_not_part_of_the_first_record() {
    const BOM: &str = "\u{feff}";
    let cases = [
        (
            (|p: &Path, s: SchemaRef| FileSource::json(p, s)) as fn(&Path, SchemaRef) -> FileSource,
            "a.json",
            format!("{BOM}{{\"id\": 1, \"name\": \"a\"}}\n{{\"id\": 2}}\n"),
        ),
        (
            |p: &Path, s: SchemaRef| FileSource::csv(p, s).header(true),
            "a.csv",
            format!("{BOM}id,name\n1,a\n2,\n"),
        ),
    ];
    for (make, name, text) in cases {
        let landing = tempfile::tempdir().unwrap();
        let checkpoint = tempfile::tempdir().unwrap();
        land(landing.path(), name, text, 0);
        let mut source = open(make(landing.path(), schema()), checkpoint.path());
        assert_eq!(
            drain(&mut source, &mut None),
            [[r#"{"id":1,"name":"a"}"#, r#"{"id":2}"#]],
            "{name}"
        );
    }
    // text: the first line's value has no mark; a mark further on is kept
    let landing = tempfile::tempdir().unwrap();
    let checkpoint = tempfile::tempdir().unwrap();
    land(landing.path(), "a.txt", format!("{BOM}one\n{BOM}two\n"), 0);
    let mut source = open(FileSource::text(landing.path()), checkpoint.path());
    assert_eq!(
        drain(&mut source, &mut None),
        [[
            r#"{"value":"one"}"#.to_string(),
            format!(r#"{{"value":"{BOM}two"}}"#)
        ]]
    );
}
