//! Column pruning end to end: a `stream!` pipeline over JSON files decodes only the
//! columns it uses, so extra fields, missing non-nullable fields and values that would
//! not decode as their declared type in columns it never reads do not stop it.

use std::path::Path;
use std::sync::Arc;

use arrow_schema::{DataType, Field, Schema};
use stream_core::{MemoryStream, StreamError, StreamingQueryManager, stream};
use tests::{land_file, memory_table_rows, runtime};

/// Two files of orders: `qty` is declared `i64` but holds words, `note` is declared
/// non-nullable but no row has it, one row lacks the non-nullable `country`, and the rows
/// carry fields the schema does not declare.
fn land_orders(dir: &Path) {
    land_file(
        dir,
        "a.json",
        r#"{"user":"ann","amount":60.5,"qty":"two","country":"DE","extra":{"nested":[1,2]}}
{"user":"bob","amount":10.0,"qty":"n/a","country":"FR","extra":null}
{"user":"cid","amount":99.25,"qty":"lots","page":"/x"}
"#,
        0,
    );
    land_file(
        dir,
        "b.json",
        r#"{"user":"dan","amount":50.0,"qty":"zero","country":"US"}
{"user":"eve","amount":200.0,"qty":"seven","country":"DE","extra":[true]}
"#,
        1,
    );
}

fn start<R: stream_core::OutputRow>(
    builder: stream_core::QueryBuilder<R>,
    checkpoint: &Path,
) -> stream_core::StreamingQuery {
    let query = builder
        .manager(&StreamingQueryManager::new())
        .checkpoint_location(checkpoint)
        .start()
        .expect("query starts");
    query.as_ref().clone()
}

/// The pipeline's input schemas as the checkpoint recorded them: `name: type` per column.
fn recorded_inputs(checkpoint: &Path) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(checkpoint.join("metadata")).expect("metadata");
    let record: serde_json::Value =
        serde_json::from_str(text.lines().nth(1).expect("a JSON line")).expect("JSON");
    record["plan"]["inputs"]
        .as_array()
        .expect("inputs")
        .iter()
        .map(|fields| {
            fields
                .as_array()
                .expect("fields")
                .iter()
                .map(|f| format!("{}: {}", f["name"].as_str().unwrap(), f["type"]))
                .collect()
        })
        .collect()
}

#[test]
fn unused_columns_are_never_decoded() {
    let landing = tempfile::tempdir().unwrap();
    let checkpoint = tempfile::tempdir().unwrap();
    land_orders(landing.path());
    let path = landing.path().to_path_buf();
    let query = start(
        stream! {
            schema Order { user: string, amount: f64, qty: i64, country: string, note: string }
            read(json, path = {path}, schema = Order)
                .filter(amount > 50.0)
                .select(user, amount * 2.0 as doubled)
                .write(memory, name = "macro_pruning_filter_select")
                .trigger(available_now)
        },
        checkpoint.path(),
    );
    runtime()
        .block_on(query.await_termination())
        .expect("the query succeeds: `qty`, `country` and `note` are never decoded");
    assert_eq!(
        memory_table_rows("macro_pruning_filter_select"),
        [
            r#"{"doubled":121.0,"user":"ann"}"#,
            r#"{"doubled":198.5,"user":"cid"}"#,
            r#"{"doubled":400.0,"user":"eve"}"#,
        ]
    );
    // the pipeline's input schema, which the source decodes with, holds the used columns
    assert_eq!(
        recorded_inputs(checkpoint.path()),
        [[r#"user: "Utf8""#, r#"amount: "Float64""#]]
    );
    let input_rows: u64 = query
        .recent_progress()
        .iter()
        .map(|p| p.num_input_rows)
        .sum();
    assert_eq!(input_rows, 5);
}

#[test]
fn a_projection_computes_only_what_is_kept() {
    // `with_column` passes every column on, but `select` keeps two: the source decodes
    // `user` and `amount` only
    let landing = tempfile::tempdir().unwrap();
    let checkpoint = tempfile::tempdir().unwrap();
    land_orders(landing.path());
    let path = landing.path().to_path_buf();
    let query = start(
        stream! {
            schema Order { user: string, amount: f64, qty: i64, country: string, note: string }
            read(json, path = {path}, schema = Order)
                .with_column(total, amount + 0.5)
                .drop(note)
                .filter(total < 60.0)
                .select(user, total)
                .write(memory, name = "macro_pruning_with_column")
                .trigger(available_now)
        },
        checkpoint.path(),
    );
    runtime()
        .block_on(query.await_termination())
        .expect("the query succeeds");
    assert_eq!(
        memory_table_rows("macro_pruning_with_column"),
        [
            r#"{"total":10.5,"user":"bob"}"#,
            r#"{"total":50.5,"user":"dan"}"#,
        ]
    );
    assert_eq!(
        recorded_inputs(checkpoint.path()),
        [[r#"user: "Utf8""#, r#"amount: "Float64""#]]
    );
}

#[test]
fn the_same_files_fail_when_the_bad_column_is_used() {
    // the control: reading `qty` decodes it, and "two" is no i64
    let landing = tempfile::tempdir().unwrap();
    let checkpoint = tempfile::tempdir().unwrap();
    land_orders(landing.path());
    let path = landing.path().to_path_buf();
    let query = start(
        stream! {
            schema Order { user: string, amount: f64, qty: i64, country: string, note: string }
            read(json, path = {path}, schema = Order)
                .select(user, qty)
                .write(memory, name = "macro_pruning_bad_column")
                .trigger(available_now)
        },
        checkpoint.path(),
    );
    let error = runtime()
        .block_on(query.await_termination())
        .expect_err("`qty` does not decode");
    match &*error {
        StreamError::MalformedRecord { path, line, .. } => {
            assert!(path.ends_with("a.json"), "{error}");
            assert_eq!(*line, 1, "{error}");
        }
        other => panic!("expected a malformed record, got {other}"),
    }
    assert_eq!(
        recorded_inputs(checkpoint.path()),
        [[r#"user: "Utf8""#, r#"qty: "Int64""#]]
    );
}

#[test]
fn a_memory_source_keeps_its_schema_and_gives_the_same_rows() {
    let schema = Arc::new(Schema::new(vec![
        Field::new("country", DataType::Utf8, true),
        Field::new("user", DataType::Utf8, false),
        Field::new("amount", DataType::Float64, true),
    ]));
    let input = MemoryStream::new(schema);
    input
        .add_json(
            r#"{"country":"DE","user":"ann","amount":60.5}
{"country":null,"user":"bob","amount":null}
{"country":"FR","user":"cid","amount":99.25}
{"country":"US","user":"dan","amount":50.0}
"#,
        )
        .unwrap();
    let checkpoint = tempfile::tempdir().unwrap();
    let query = start(
        stream! {
            schema Order { country: Option<string>, user: string, amount: Option<f64> }
            read(memory, stream = {input}, schema = Order)
                .filter(amount > 50.0)
                .select(user, amount * 2.0 as doubled)
                .write(memory, name = "macro_pruning_memory")
                .trigger(available_now)
        },
        checkpoint.path(),
    );
    runtime()
        .block_on(query.await_termination())
        .expect("the query succeeds");
    assert_eq!(
        memory_table_rows("macro_pruning_memory"),
        [
            r#"{"doubled":121.0,"user":"ann"}"#,
            r#"{"doubled":198.5,"user":"cid"}"#,
        ]
    );
    // the engine checks a memory stream's schema against the pipeline's: all of it stays
    assert_eq!(
        recorded_inputs(checkpoint.path()),
        [[
            r#"country: "Utf8""#,
            r#"user: "Utf8""#,
            r#"amount: "Float64""#
        ]]
    );
}
