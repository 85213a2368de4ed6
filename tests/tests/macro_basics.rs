//! `stream!` pipelines end to end on the memory source: hand-computed rows, nulls,
//! three-valued logic and numeric promotion.

use stream_core::{MemoryStream, StreamingQueryManager, stream};
use tests::{memory_table_rows, run_to_end, runtime};

#[test]
fn filter_select_with_promotion_and_three_valued_logic() {
    let input = MemoryStream::new(std::sync::Arc::new(arrow_schema::Schema::new(vec![
        arrow_schema::Field::new("user", arrow_schema::DataType::Utf8, false),
        arrow_schema::Field::new("amount", arrow_schema::DataType::Float64, true),
        arrow_schema::Field::new("qty", arrow_schema::DataType::Int64, false),
        arrow_schema::Field::new("country", arrow_schema::DataType::Utf8, true),
    ])));
    input
        .add_json(
            r#"{"user":"a","amount":60.5,"qty":2,"country":"DE"}
{"user":"b","amount":null,"qty":3,"country":"DE"}
{"user":"c","amount":10.0,"qty":1,"country":null}
{"user":"d","amount":99.0,"qty":4,"country":"FR"}
"#,
        )
        .unwrap();
    let min = 50.0;
    run_to_end(stream! {
        schema Order { user: string, amount: Option<f64>, qty: i64, country: Option<string> }
        read(memory, stream = {input}, schema = Order)
            .filter(amount > {min} || country == "DE")
            .with_column(total, amount * qty)
            .select(user, total, qty + 1 as next_qty, country.is_null() as no_country)
            .write(memory, name = "macro_basics")
            .trigger(available_now)
    });
    assert_eq!(
        memory_table_rows("macro_basics"),
        [
            r#"{"next_qty":3,"no_country":false,"total":121.0,"user":"a"}"#,
            r#"{"next_qty":4,"no_country":false,"user":"b"}"#,
            r#"{"next_qty":5,"no_country":false,"total":396.0,"user":"d"}"#,
        ]
    );
}

#[test]
fn a_stream_that_is_never_written_is_not_read() {
    let schema = std::sync::Arc::new(arrow_schema::Schema::new(vec![arrow_schema::Field::new(
        "n",
        arrow_schema::DataType::Int64,
        false,
    )]));
    let used = MemoryStream::new(schema.clone());
    let unused = MemoryStream::new(schema);
    used.add_json("{\"n\": 1}\n{\"n\": 2}\n").unwrap();
    unused.add_json("{\"n\": 7}\n").unwrap();
    let checkpoint = tempfile::tempdir().unwrap();
    let query = stream! {
        schema Numbers { n: i64 }
        let _spare = read(memory, stream = {unused}, schema = Numbers);
        read(memory, stream = {used}, schema = Numbers)
            .filter(n > 0)
            .write(memory, name = "macro_basics_unused_let")
            .trigger(available_now)
    }
    .manager(&StreamingQueryManager::new())
    .checkpoint_location(checkpoint.path())
    .start()
    .unwrap();
    runtime().block_on(query.await_termination()).unwrap();
    let progress = query.last_progress().unwrap();
    assert_eq!(
        progress.sources.len(),
        1,
        "only the written stream's source is read"
    );
    assert_eq!(progress.num_input_rows, 2);
    assert_eq!(
        memory_table_rows("macro_basics_unused_let"),
        [r#"{"n":1}"#, r#"{"n":2}"#]
    );
}
