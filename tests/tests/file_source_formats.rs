//! The file source's formats: JSON lines, CSV, Parquet and text, plain and compressed,
//! through the source API and end to end; damaged files name the file.

use std::sync::Arc;

use arrow_array::{Float64Array, Int32Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use stream_core::{
    FileFormat, FileSource, MapPipeline, MemorySink, Source, StreamError, StreamingQuery,
    StreamingQueryManager, Trigger,
};
use tests::files::{drain, gzip, land, open, read_error, zstd};
use tests::{memory_table_rows, runtime};

fn id_name() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, true),
        Field::new("name", DataType::Utf8, true),
    ]))
}

fn rows(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn json_lines_plain_gzip_and_zstd() {
    let landing = tempfile::tempdir().unwrap();
    let checkpoint = tempfile::tempdir().unwrap();
    land(
        landing.path(),
        "a.json",
        "{\"id\": 1, \"name\": \"a\"}\n",
        0,
    );
    land(
        landing.path(),
        "b.json.gz",
        gzip("{\"id\": 2, \"name\": \"b\", \"extra\": true}\n{\"id\": 3}\n"),
        1,
    );
    land(
        landing.path(),
        "c.json.zst",
        zstd("{\"name\": \"c\", \"id\": 4}\n"),
        2,
    );
    let mut source = open(
        FileSource::json(landing.path(), id_name()).max_files_per_trigger(1),
        checkpoint.path(),
    );
    assert_eq!(
        drain(&mut source, &mut None),
        vec![
            rows(&[r#"{"id":1,"name":"a"}"#]),
            rows(&[r#"{"id":2,"name":"b"}"#, r#"{"id":3}"#]),
            rows(&[r#"{"id":4,"name":"c"}"#]),
        ]
    );
}

#[test]
fn csv_with_a_header_matches_columns_by_name() {
    let landing = tempfile::tempdir().unwrap();
    let checkpoint = tempfile::tempdir().unwrap();
    // columns in another order, an extra column that is never parsed (not an integer)
    land(
        landing.path(),
        "a.csv",
        "name,skip,id\na,x,1\n\"b, quoted\",y,2\n,z,3\n",
        0,
    );
    // a file without the nullable `name` column
    land(landing.path(), "b.csv", "id\n4\n", 1);
    // a header only: no rows
    land(landing.path(), "c.csv", "id,name\n", 2);
    let mut source = open(
        FileSource::csv(landing.path(), id_name()).header(true),
        checkpoint.path(),
    );
    assert_eq!(
        drain(&mut source, &mut None),
        vec![rows(&[
            r#"{"id":1,"name":"a"}"#,
            r#"{"id":2,"name":"b, quoted"}"#,
            r#"{"id":3}"#,
            r#"{"id":4}"#,
        ])]
    );
}

#[test]
fn csv_without_a_header_is_positional() {
    let landing = tempfile::tempdir().unwrap();
    let checkpoint = tempfile::tempdir().unwrap();
    land(landing.path(), "a.csv", "1,a\r\n2,b\r\n", 0);
    let mut source = open(
        FileSource::csv(landing.path(), id_name()),
        checkpoint.path(),
    );
    assert_eq!(
        drain(&mut source, &mut None),
        vec![rows(&[r#"{"id":1,"name":"a"}"#, r#"{"id":2,"name":"b"}"#])]
    );
}

#[test]
fn csv_delimiter_quote_escape_and_null_value() {
    let landing = tempfile::tempdir().unwrap();
    let checkpoint = tempfile::tempdir().unwrap();
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, true),
        Field::new("name", DataType::Utf8, true),
        Field::new("score", DataType::Float64, true),
    ]));
    land(
        landing.path(),
        "a.csv",
        "1;'it#'s; here';2.5\n2;NA;NA\n3;'';\n",
        0,
    );
    let mut source = open(
        FileSource::csv(landing.path(), schema)
            .sep(';')
            .quote('\'')
            .escape('#')
            .null_value("NA"),
        checkpoint.path(),
    );
    assert_eq!(
        drain(&mut source, &mut None),
        vec![rows(&[
            r#"{"id":1,"name":"it's; here","score":2.5}"#,
            r#"{"id":2}"#,
            r#"{"id":3}"#,
        ])]
    );
}

#[test]
fn csv_defaults_are_sparks_comma_double_quote_and_backslash_escape() {
    let landing = tempfile::tempdir().unwrap();
    let checkpoint = tempfile::tempdir().unwrap();
    land(
        landing.path(),
        "a.csv",
        "1,\"say \\\"hi\\\"\"\n2,\"doubled \"\"quote\"\"\"\n",
        0,
    );
    let mut source = open(
        FileSource::csv(landing.path(), id_name()),
        checkpoint.path(),
    );
    assert_eq!(
        drain(&mut source, &mut None),
        vec![rows(&[
            r#"{"id":1,"name":"say \"hi\""}"#,
            r#"{"id":2,"name":"doubled \"quote\""}"#,
        ])]
    );
}

#[test]
fn csv_gzip_and_zstd() {
    let landing = tempfile::tempdir().unwrap();
    let checkpoint = tempfile::tempdir().unwrap();
    land(landing.path(), "a.csv.gz", gzip("id,name\n1,a\n"), 0);
    land(landing.path(), "b.csv.zst", zstd("id,name\n2,b\n"), 1);
    let mut source = open(
        FileSource::csv(landing.path(), id_name()).header(true),
        checkpoint.path(),
    );
    assert_eq!(
        drain(&mut source, &mut None),
        vec![rows(&[r#"{"id":1,"name":"a"}"#, r#"{"id":2,"name":"b"}"#])]
    );
}

#[test]
fn csv_header_without_a_required_column_names_file_and_column() {
    let landing = tempfile::tempdir().unwrap();
    let checkpoint = tempfile::tempdir().unwrap();
    let path = land(landing.path(), "a.csv", "name\na\n", 0);
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("name", DataType::Utf8, true),
    ]));
    let mut source = open(
        FileSource::csv(landing.path(), schema).header(true),
        checkpoint.path(),
    );
    match read_error(&mut source) {
        StreamError::BadInputFile { path: p, message } => {
            assert_eq!(p, path);
            assert!(message.contains("`id`"), "{message}");
        }
        other => panic!("expected a bad input file, got {other}"),
    }
}

/// A Parquet file with columns `id: Int64`, `name: Utf8`, `score: Float64`, `n: Int32`.
fn parquet_file(rows: &[(i64, &str, f64)], compression: Compression) -> Vec<u8> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("name", DataType::Utf8, true),
        Field::new("score", DataType::Float64, true),
        Field::new("n", DataType::Int32, true),
    ]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.0))),
            Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.1))),
            Arc::new(Float64Array::from_iter_values(rows.iter().map(|r| r.2))),
            Arc::new(Int32Array::from_iter_values(0..rows.len() as i32)),
        ],
    )
    .unwrap();
    let mut bytes = Vec::new();
    let props = WriterProperties::builder()
        .set_compression(compression)
        .build();
    let mut writer = ArrowWriter::try_new(&mut bytes, schema, Some(props)).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
    bytes
}

#[test]
fn parquet_reads_the_schema_columns_by_name_in_the_schema_order() {
    let landing = tempfile::tempdir().unwrap();
    let checkpoint = tempfile::tempdir().unwrap();
    land(
        landing.path(),
        "a.parquet",
        parquet_file(&[(1, "a", 0.5), (2, "b", 1.5)], Compression::SNAPPY),
        0,
    );
    land(
        landing.path(),
        "b.parquet",
        parquet_file(&[(3, "c", 2.5)], Compression::ZSTD(ZstdLevel::default())),
        1,
    );
    land(
        landing.path(),
        "c.parquet",
        parquet_file(&[(4, "d", 3.5)], Compression::GZIP(Default::default())),
        2,
    );
    // the schema names two of the four columns, in another order; `missing` is not in
    // the files and is nullable
    let schema = Arc::new(Schema::new(vec![
        Field::new("score", DataType::Float64, true),
        Field::new("id", DataType::Int64, false),
        Field::new("missing", DataType::Utf8, true),
    ]));
    let mut source = open(
        FileSource::parquet(landing.path(), schema.clone()),
        checkpoint.path(),
    );
    let mut start = None;
    let batches = tests::files::next_batch(&mut source, &mut start).unwrap();
    assert!(batches.iter().all(|b| b.schema() == schema));
    assert_eq!(
        batches
            .iter()
            .flat_map(tests::batch_rows)
            .collect::<Vec<_>>(),
        rows(&[
            r#"{"id":1,"score":0.5}"#,
            r#"{"id":2,"score":1.5}"#,
            r#"{"id":3,"score":2.5}"#,
            r#"{"id":4,"score":3.5}"#,
        ])
    );
}

#[test]
fn parquet_missing_required_column_names_file_and_column() {
    let landing = tempfile::tempdir().unwrap();
    let checkpoint = tempfile::tempdir().unwrap();
    let path = land(
        landing.path(),
        "a.parquet",
        parquet_file(&[(1, "a", 0.5)], Compression::SNAPPY),
        0,
    );
    let schema = Arc::new(Schema::new(vec![Field::new(
        "country",
        DataType::Utf8,
        false,
    )]));
    let mut source = open(
        FileSource::parquet(landing.path(), schema),
        checkpoint.path(),
    );
    match read_error(&mut source) {
        StreamError::BadInputFile { path: p, message } => {
            assert_eq!(p, path);
            assert!(message.contains("`country`"), "{message}");
            assert!(message.contains("missing"), "{message}");
        }
        other => panic!("expected a bad input file, got {other}"),
    }
}

#[test]
fn parquet_column_of_another_type_names_file_and_column() {
    let landing = tempfile::tempdir().unwrap();
    let checkpoint = tempfile::tempdir().unwrap();
    let path = land(
        landing.path(),
        "a.parquet",
        parquet_file(&[(1, "a", 0.5)], Compression::SNAPPY),
        0,
    );
    let schema = Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, true)]));
    let mut source = open(
        FileSource::parquet(landing.path(), schema),
        checkpoint.path(),
    );
    let err = read_error(&mut source);
    let text = err.to_string();
    match err {
        StreamError::BadInputFile { path: p, message } => {
            assert_eq!(p, path);
            assert_eq!(
                message,
                "column `n` is i32 in the file but the schema declares i64"
            );
        }
        other => panic!("expected a bad input file, got {other}"),
    }
    assert!(text.contains("a.parquet"), "{text}");
}

#[test]
fn parquet_nulls_in_a_column_declared_not_nullable_name_the_column() {
    let landing = tempfile::tempdir().unwrap();
    let checkpoint = tempfile::tempdir().unwrap();
    let schema = Arc::new(Schema::new(vec![Field::new("name", DataType::Utf8, true)]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![Arc::new(StringArray::from(vec![Some("a"), None]))],
    )
    .unwrap();
    let mut bytes = Vec::new();
    let mut writer = ArrowWriter::try_new(&mut bytes, schema, None).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
    land(landing.path(), "a.parquet", bytes, 0);
    let strict = Arc::new(Schema::new(vec![Field::new("name", DataType::Utf8, false)]));
    let mut source = open(
        FileSource::parquet(landing.path(), strict),
        checkpoint.path(),
    );
    let message = read_error(&mut source).to_string();
    assert!(
        message.contains("`name` holds nulls") && message.contains("a.parquet"),
        "{message}"
    );
}

#[test]
fn truncated_parquet_names_the_file() {
    let landing = tempfile::tempdir().unwrap();
    let checkpoint = tempfile::tempdir().unwrap();
    let whole = parquet_file(&[(1, "a", 0.5), (2, "b", 1.5)], Compression::SNAPPY);
    for (name, bytes) in [
        ("head.parquet", whole[..whole.len() / 2].to_vec()),
        ("empty.parquet", Vec::new()),
        ("garbage.parquet", b"PAR1 not really".to_vec()),
    ] {
        let landing = landing.path().join(name.replace('.', "_"));
        let path = land(&landing, name, bytes, 0);
        let checkpoint = checkpoint.path().join(name);
        let schema = Arc::new(Schema::new(vec![Field::new("id", DataType::Int64, false)]));
        let mut source = open(FileSource::parquet(&landing, schema), &checkpoint);
        match read_error(&mut source) {
            StreamError::BadInputFile { path: p, .. } => assert_eq!(p, path),
            other => panic!("{name}: expected a bad input file, got {other}"),
        }
    }
}

#[test]
fn truncated_or_corrupt_compressed_files_name_the_file() {
    let cases = [
        ("a.json.gz", gzip("{\"id\": 1}\n{\"id\": 2}\n")),
        ("a.json.zst", zstd("{\"id\": 1}\n{\"id\": 2}\n")),
    ];
    for (name, whole) in cases {
        for (what, bytes) in [
            ("truncated", whole[..whole.len() - 6].to_vec()),
            ("garbage", b"definitely not compressed".to_vec()),
        ] {
            let landing = tempfile::tempdir().unwrap();
            let checkpoint = tempfile::tempdir().unwrap();
            let path = land(landing.path(), name, bytes, 0);
            let mut source = open(
                FileSource::json(landing.path(), id_name()),
                checkpoint.path(),
            );
            match read_error(&mut source) {
                StreamError::BadInputFile { path: p, message } => {
                    assert_eq!(p, path, "{name} {what}");
                    assert!(message.contains("corrupt or truncated"), "{message}");
                }
                other => panic!("{name} {what}: expected a bad input file, got {other}"),
            }
        }
    }
}

#[test]
fn text_lines_are_rows_of_one_value_column() {
    let landing = tempfile::tempdir().unwrap();
    let checkpoint = tempfile::tempdir().unwrap();
    land(landing.path(), "a.txt", "first\r\nsecond\n\nlast", 0);
    land(landing.path(), "b.txt.gz", gzip("zipped\n"), 1);
    land(landing.path(), "c.txt.zst", zstd("z1\nz2\n"), 2);
    land(landing.path(), "d.txt", "", 3);
    let mut source = open(
        FileSource::text(landing.path()).max_files_per_trigger(2),
        checkpoint.path(),
    );
    let expected_schema = Schema::new(vec![Field::new("value", DataType::Utf8, false)]);
    assert_eq!(*Source::schema(&source), expected_schema);
    assert_eq!(
        drain(&mut source, &mut None),
        vec![
            rows(&[
                r#"{"value":"first"}"#,
                r#"{"value":"second"}"#,
                r#"{"value":""}"#,
                r#"{"value":"last"}"#,
                r#"{"value":"zipped"}"#,
            ]),
            rows(&[r#"{"value":"z1"}"#, r#"{"value":"z2"}"#]),
        ]
    );
}

#[test]
fn every_format_runs_end_to_end_in_a_query() {
    let cases: Vec<(FileFormat, SchemaRef, &str, Vec<u8>)> = vec![
        (
            FileFormat::Json,
            id_name(),
            "a.json",
            b"{\"id\": 1, \"name\": \"x\"}\n".to_vec(),
        ),
        (FileFormat::Csv, id_name(), "a.csv", b"1,x\n".to_vec()),
        (
            FileFormat::Parquet,
            Arc::new(Schema::new(vec![
                Field::new("id", DataType::Int64, false),
                Field::new("name", DataType::Utf8, true),
            ])),
            "a.parquet",
            parquet_file(&[(1, "x", 0.0)], Compression::SNAPPY),
        ),
        (
            FileFormat::Text,
            Arc::new(Schema::new(vec![Field::new(
                "value",
                DataType::Utf8,
                false,
            )])),
            "a.txt",
            b"x\n".to_vec(),
        ),
    ];
    for (format, schema, name, bytes) in cases {
        let landing = tempfile::tempdir().unwrap();
        let checkpoint = tempfile::tempdir().unwrap();
        land(landing.path(), name, bytes, 0);
        let table = format!("file_source_formats_{}", format.name());
        let query = StreamingQuery::builder()
            .manager(&StreamingQueryManager::new())
            .source(FileSource::with_format(
                landing.path(),
                schema.clone(),
                format,
            ))
            .pipeline(MapPipeline::identity(schema))
            .sink(MemorySink::new(&table))
            .trigger(Trigger::AvailableNow)
            .checkpoint_location(checkpoint.path())
            .start()
            .unwrap();
        runtime().block_on(query.await_termination()).unwrap();
        let expected = if format == FileFormat::Text {
            rows(&[r#"{"value":"x"}"#])
        } else {
            rows(&[r#"{"id":1,"name":"x"}"#])
        };
        assert_eq!(memory_table_rows(&table), expected, "{}", format.name());
        assert_eq!(query.recent_progress().len(), 1);
    }
}
