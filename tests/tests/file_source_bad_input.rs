//! Bad input in the file source: the `mode` option (permissive with a corrupt-record
//! column, drop-malformed counted in the progress record, fail-fast naming file and
//! line) for JSON, CSV and text; and no panic whatever the bytes.

use std::sync::Arc;

use arrow_schema::{DataType, Field, Schema, SchemaRef};
use serde_json::json;
use stream_core::{
    FileFormat, FileSource, MapPipeline, MemorySink, ParseMode, ReadLimit, Source, StreamError,
    StreamingQuery, StreamingQueryManager, Trigger,
};
use tests::files::{drain, land, open, read_error};
use tests::{memory_table_rows, runtime};

fn schema(corrupt: bool) -> SchemaRef {
    let mut fields = vec![
        Field::new("id", DataType::Int64, true),
        Field::new("name", DataType::Utf8, true),
    ];
    if corrupt {
        fields.push(Field::new("_corrupt_record", DataType::Utf8, true));
    }
    Arc::new(Schema::new(fields))
}

const BAD_JSON: &str = "{\"id\": 1, \"name\": \"a\"}\n\
                        {\"id\": \"two\", \"name\": \"b\"}\n\
                        \n\
                        not json at all\n\
                        {\"id\": 4, \"name\": \"d\"}\n";

fn corrupt(raw: &str) -> String {
    json!({ "_corrupt_record": raw }).to_string()
}

fn metric(source: &FileSource, name: &str) -> Option<String> {
    source.metrics().get(name).cloned()
}

#[test]
fn json_permissive_keeps_bad_lines_in_the_corrupt_record_column() {
    let landing = tempfile::tempdir().unwrap();
    let checkpoint = tempfile::tempdir().unwrap();
    land(landing.path(), "a.json", BAD_JSON, 0);
    let mut source = open(
        FileSource::json(landing.path(), schema(true)).mode(ParseMode::Permissive),
        checkpoint.path(),
    );
    assert_eq!(
        drain(&mut source, &mut None),
        vec![vec![
            r#"{"id":1,"name":"a"}"#.to_string(),
            corrupt(r#"{"id": "two", "name": "b"}"#),
            corrupt("not json at all"),
            r#"{"id":4,"name":"d"}"#.to_string(),
        ]]
    );
    assert_eq!(
        metric(&source, FileSource::METRIC_CORRUPT_RECORDS).as_deref(),
        Some("2")
    );
}

#[test]
fn json_permissive_without_the_column_gives_rows_of_nulls() {
    let landing = tempfile::tempdir().unwrap();
    let checkpoint = tempfile::tempdir().unwrap();
    land(landing.path(), "a.json", BAD_JSON, 0);
    let mut source = open(
        FileSource::json(landing.path(), schema(false)).mode(ParseMode::Permissive),
        checkpoint.path(),
    );
    assert_eq!(
        drain(&mut source, &mut None),
        vec![vec![
            r#"{"id":1,"name":"a"}"#.to_string(),
            "{}".to_string(),
            "{}".to_string(),
            r#"{"id":4,"name":"d"}"#.to_string(),
        ]]
    );
}

#[test]
fn a_custom_corrupt_record_column_name() {
    let landing = tempfile::tempdir().unwrap();
    let checkpoint = tempfile::tempdir().unwrap();
    land(landing.path(), "a.json", "{\"id\": 1}\n[oops\n", 0);
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, true),
        Field::new("raw", DataType::Utf8, true),
    ]));
    let mut source = open(
        FileSource::json(landing.path(), schema)
            .mode(ParseMode::Permissive)
            .column_name_of_corrupt_record("raw"),
        checkpoint.path(),
    );
    assert_eq!(
        drain(&mut source, &mut None),
        vec![vec![
            r#"{"id":1}"#.to_string(),
            r#"{"raw":"[oops"}"#.to_string()
        ]]
    );
}

#[test]
fn json_drop_malformed_drops_and_counts_in_the_progress_record() {
    let landing = tempfile::tempdir().unwrap();
    let checkpoint = tempfile::tempdir().unwrap();
    land(landing.path(), "a.json", BAD_JSON, 0);
    land(
        landing.path(),
        "b.json",
        "{\"id\": 5, \"name\": \"e\"}\n",
        1,
    );
    let query = StreamingQuery::builder()
        .manager(&StreamingQueryManager::new())
        .source(
            FileSource::json(landing.path(), schema(false))
                .mode(ParseMode::DropMalformed)
                .max_files_per_trigger(1),
        )
        .pipeline(MapPipeline::identity(schema(false)))
        .sink(MemorySink::new("file_source_drop_malformed"))
        .trigger(Trigger::AvailableNow)
        .checkpoint_location(checkpoint.path())
        .start()
        .unwrap();
    runtime().block_on(query.await_termination()).unwrap();
    assert_eq!(
        memory_table_rows("file_source_drop_malformed"),
        [
            r#"{"id":1,"name":"a"}"#,
            r#"{"id":4,"name":"d"}"#,
            r#"{"id":5,"name":"e"}"#
        ]
    );
    let progress = query.recent_progress();
    let dropped: Vec<Option<&String>> = progress
        .iter()
        .map(|p| {
            p.sources[0]
                .metrics
                .get(FileSource::METRIC_MALFORMED_ROWS_DROPPED)
        })
        .collect();
    assert_eq!(dropped, [Some(&"2".to_string()), Some(&"0".to_string())]);
    assert_eq!(progress[0].num_input_rows, 2);
    // the metric is in the progress JSON, under Spark's `metrics` map
    let json: serde_json::Value = serde_json::from_str(&progress[0].json()).unwrap();
    assert_eq!(
        json["sources"][0]["metrics"]["numMalformedRowsDropped"],
        "2"
    );
}

#[test]
fn json_fail_fast_names_file_and_line() {
    let landing = tempfile::tempdir().unwrap();
    let checkpoint = tempfile::tempdir().unwrap();
    let path = land(landing.path(), "a.json", BAD_JSON, 0);
    let mut source = open(
        FileSource::json(landing.path(), schema(false)).mode(ParseMode::FailFast),
        checkpoint.path(),
    );
    match read_error(&mut source) {
        StreamError::MalformedRecord { path: p, line, .. } => {
            assert_eq!(p, path);
            assert_eq!(line, 2);
        }
        other => panic!("expected a malformed record, got {other}"),
    }
}

/// Line 3 does not parse (`x` is no integer), lines 4-5 are one record, line 6 has
/// one field of two.
const BAD_CSV: &str = "id,name\n1,a\nx,c\n4,\"multi\nline\"\n5\n6,f\n";

#[test]
fn csv_fail_fast_names_the_line_of_the_bad_record() {
    let landing = tempfile::tempdir().unwrap();
    let checkpoint = tempfile::tempdir().unwrap();
    let path = land(landing.path(), "a.csv", BAD_CSV, 0);
    let mut source = open(
        FileSource::csv(landing.path(), schema(false)).header(true),
        checkpoint.path(),
    );
    match read_error(&mut source) {
        StreamError::MalformedRecord {
            path: p,
            line,
            message,
        } => {
            assert_eq!(p, path);
            assert_eq!(line, 3);
            assert_eq!(
                message,
                "column `id` (field 1) is declared i64 but the record holds `x`"
            );
        }
        other => panic!("expected a malformed record, got {other}"),
    }
    // with the first bad record gone, the next one is on line 6 (also with `\r\n`
    // line ends, whose `\n` the CSV reader counts before the next record)
    let landing = tempfile::tempdir().unwrap();
    let checkpoint = tempfile::tempdir().unwrap();
    land(
        landing.path(),
        "a.csv",
        BAD_CSV.replace("x,c", "3,c").replace('\n', "\r\n"),
        0,
    );
    let mut source = open(
        FileSource::csv(landing.path(), schema(false)).header(true),
        checkpoint.path(),
    );
    match read_error(&mut source) {
        StreamError::MalformedRecord { line, message, .. } => {
            assert_eq!(line, 6);
            assert!(message.contains("number of fields"), "{message}");
        }
        other => panic!("expected a malformed record, got {other}"),
    }
}

#[test]
fn csv_drop_malformed_and_permissive() {
    let landing = tempfile::tempdir().unwrap();
    land(landing.path(), "a.csv", BAD_CSV, 0);

    let checkpoint = tempfile::tempdir().unwrap();
    let mut dropping = open(
        FileSource::csv(landing.path(), schema(false))
            .header(true)
            .mode(ParseMode::DropMalformed),
        checkpoint.path(),
    );
    assert_eq!(
        drain(&mut dropping, &mut None),
        vec![vec![
            r#"{"id":1,"name":"a"}"#.to_string(),
            json!({"id": 4, "name": "multi\nline"}).to_string(),
            r#"{"id":6,"name":"f"}"#.to_string(),
        ]]
    );
    assert_eq!(
        metric(&dropping, FileSource::METRIC_MALFORMED_ROWS_DROPPED).as_deref(),
        Some("2")
    );

    let checkpoint = tempfile::tempdir().unwrap();
    let mut keeping = open(
        FileSource::csv(landing.path(), schema(true))
            .header(true)
            .mode(ParseMode::Permissive),
        checkpoint.path(),
    );
    assert_eq!(
        drain(&mut keeping, &mut None),
        vec![vec![
            r#"{"id":1,"name":"a"}"#.to_string(),
            corrupt("x,c"),
            json!({"id": 4, "name": "multi\nline"}).to_string(),
            corrupt("5"),
            r#"{"id":6,"name":"f"}"#.to_string(),
        ]]
    );
}

#[test]
fn text_lines_that_are_not_utf8_in_each_mode() {
    let landing = tempfile::tempdir().unwrap();
    let path = land(landing.path(), "a.txt", b"ok\n\xff\xfe bad\nfine\n", 0);
    let text = |mode: ParseMode| FileSource::text(landing.path()).mode(mode);

    let checkpoint = tempfile::tempdir().unwrap();
    match read_error(&mut open(text(ParseMode::FailFast), checkpoint.path())) {
        StreamError::MalformedRecord { path: p, line, .. } => {
            assert_eq!((p, line), (path.clone(), 2));
        }
        other => panic!("expected a malformed record, got {other}"),
    }

    let checkpoint = tempfile::tempdir().unwrap();
    let mut dropping = open(text(ParseMode::DropMalformed), checkpoint.path());
    assert_eq!(
        drain(&mut dropping, &mut None),
        vec![vec![
            r#"{"value":"ok"}"#.to_string(),
            r#"{"value":"fine"}"#.to_string()
        ]]
    );
    assert_eq!(
        metric(&dropping, FileSource::METRIC_MALFORMED_ROWS_DROPPED).as_deref(),
        Some("1")
    );

    let checkpoint = tempfile::tempdir().unwrap();
    let mut keeping = open(text(ParseMode::Permissive), checkpoint.path());
    assert_eq!(
        drain(&mut keeping, &mut None),
        vec![vec![
            r#"{"value":"ok"}"#.to_string(),
            json!({"value": "\u{fffd}\u{fffd} bad"}).to_string(),
            r#"{"value":"fine"}"#.to_string()
        ]]
    );
}

#[test]
fn permissive_cannot_null_a_non_nullable_column() {
    let landing = tempfile::tempdir().unwrap();
    let checkpoint = tempfile::tempdir().unwrap();
    let path = land(
        landing.path(),
        "a.json",
        "{\"id\": 1}\n{\"id\": \"x\"}\n",
        0,
    );
    let strict = Arc::new(Schema::new(vec![Field::new("id", DataType::Int64, false)]));
    let mut source = open(
        FileSource::json(landing.path(), strict).mode(ParseMode::Permissive),
        checkpoint.path(),
    );
    match read_error(&mut source) {
        StreamError::MalformedRecord {
            path: p,
            line,
            message,
        } => {
            assert_eq!((p, line), (path, 2));
            assert!(message.contains("`id` is not nullable"), "{message}");
        }
        other => panic!("expected a malformed record, got {other}"),
    }
}

#[test]
fn mode_on_parquet_is_refused_when_the_query_starts() {
    let landing = tempfile::tempdir().unwrap();
    let checkpoint = tempfile::tempdir().unwrap();
    let schema = schema(false);
    let result = StreamingQuery::builder()
        .manager(&StreamingQueryManager::new())
        .source(FileSource::parquet(landing.path(), schema.clone()).mode(ParseMode::Permissive))
        .pipeline(MapPipeline::identity(schema))
        .sink(MemorySink::new("file_source_parquet_mode"))
        .checkpoint_location(checkpoint.path())
        .start();
    match result {
        Err(StreamError::InvalidOption { name, .. }) => assert_eq!(name, "mode"),
        Err(other) => panic!("expected an invalid option, got {other}"),
        Ok(_) => panic!("the query started"),
    }
}

/// Files of one extension: the extension and the bytes each file starts with.
type Kind = (&'static str, &'static [u8]);

/// A small deterministic generator, so the byte soup is the same on every run.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u8 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 56) as u8
    }
}

#[test]
fn no_bytes_make_the_source_panic() {
    let alphabet = b"{}[]\",:0123456789.-eE truefalsn\n\r\\'abcPAR1\x00\xff\x1f\x8b";
    let mut rng = Lcg(42);
    // per format, files of its extensions: a valid start followed by byte soup
    let cases: [(FileFormat, SchemaRef, &[Kind]); 4] = [
        (
            FileFormat::Json,
            schema(true),
            &[
                ("json", b"{\"id\": 1, \"name\": \"a\"}\n"),
                ("json.gz", b"\x1f\x8b\x08\x00"),
            ],
        ),
        (
            FileFormat::Csv,
            schema(true),
            &[
                ("csv", b"id,name\n1,\"a\"\n"),
                ("csv.zst", b"\x28\xb5\x2f\xfd"),
            ],
        ),
        (
            FileFormat::Text,
            FileSource::text("x").schema(),
            &[("txt", b"line\n")],
        ),
        (FileFormat::Parquet, schema(false), &[("parquet", b"PAR1")]),
    ];
    for (format, schema, kinds) in cases {
        let landing = tempfile::tempdir().unwrap();
        let mut files = 0;
        for (ext, start) in kinds {
            for _ in 0..25 {
                let mut bytes = start.to_vec();
                let len = (rng.next() as usize) % 64;
                for _ in 0..len {
                    bytes.push(alphabet[rng.next() as usize % alphabet.len()]);
                }
                land(landing.path(), &format!("f{files:03}.{ext}"), bytes, files);
                files += 1;
            }
        }
        let modes: &[Option<ParseMode>] = if format == FileFormat::Parquet {
            &[None]
        } else {
            &[
                Some(ParseMode::FailFast),
                Some(ParseMode::DropMalformed),
                Some(ParseMode::Permissive),
            ]
        };
        for mode in modes {
            let checkpoint = tempfile::tempdir().unwrap();
            let mut source = FileSource::with_format(landing.path(), schema.clone(), format);
            if let Some(mode) = mode {
                source = source.mode(*mode);
            }
            let mut source = open(source, checkpoint.path());
            let mut start = None;
            let mut read = 0;
            loop {
                let end = source
                    .latest_offset(start.as_ref(), ReadLimit::MaxFiles(1))
                    .unwrap();
                if end.is_none() || end == start {
                    break;
                }
                // Ok or a clean error, never a panic
                if let Err(e) = source.read(start.as_ref(), end.as_ref().unwrap()) {
                    assert!(!e.to_string().is_empty());
                }
                start = end;
                read += 1;
            }
            assert_eq!(read, files, "{} {mode:?}", format.name());
        }
    }
}
