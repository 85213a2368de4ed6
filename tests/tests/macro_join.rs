//! Stream–static joins through `stream!`: inner and left outer, a key with several table
//! rows, null keys that match nothing, a join before an aggregation, and a table that
//! does not fit its schema.

use stream_core::{MemoryStream, Schema, StaticTable, StreamingQueryManager, stream};
use tests::{run_to_end, runtime};

#[derive(Schema, Clone)]
struct Order {
    id: i64,
    country: Option<String>,
    amount: f64,
}

#[derive(Schema, Clone)]
struct Region {
    country: String,
    region: String,
}

fn orders() -> MemoryStream {
    let order = |id, country: Option<&str>, amount| Order {
        id,
        country: country.map(String::from),
        amount,
    };
    let input = MemoryStream::of::<Order>();
    input
        .add_rows(&[
            order(1, Some("DE"), 10.0),
            order(2, Some("JP"), 20.0),
            order(3, None, 30.0),
            order(4, Some("BR"), 40.0),
            order(5, Some("CH"), 50.0),
        ])
        .unwrap();
    input
}

/// DE and JP once each; CH is in two regions (both rows match); BR in none.
fn regions() -> StaticTable {
    let region = |country: &str, region: &str| Region {
        country: country.into(),
        region: region.into(),
    };
    StaticTable::from_rows(&[
        region("DE", "EU"),
        region("JP", "APAC"),
        region("CH", "EU"),
        region("CH", "EFTA"),
    ])
    .unwrap()
}

#[test]
fn an_inner_join_keeps_the_rows_with_a_match_once_per_match() {
    let input = orders();
    let query = run_to_end(stream! {
        schema Order = Order;
        schema Region = Region;
        read(memory, stream = {input}, schema = Order)
            .join({regions()}, schema = Region, on = country)
            .select(id, country, region, amount)
            .write(memory, name = "join_inner")
            .trigger(available_now)
    });
    let mut rows: Vec<(i64, Option<String>, String)> = query
        .rows()
        .unwrap()
        .into_iter()
        .map(|r| (r.id, r.country, r.region))
        .collect();
    rows.sort();
    assert_eq!(
        rows,
        [
            (1, Some("DE".into()), "EU".into()),
            (2, Some("JP".into()), "APAC".into()),
            (5, Some("CH".into()), "EFTA".into()),
            (5, Some("CH".into()), "EU".into()),
        ]
    );
}

#[test]
fn a_left_join_keeps_every_row_and_nulls_the_table_columns_without_a_match() {
    let input = orders();
    let query = run_to_end(stream! {
        schema Order = Order;
        schema Region = Region;
        read(memory, stream = {input}, schema = Order)
            .join({regions()}, schema = Region, on = [country], how = left)
            .filter(amount < 45.0)
            .write(memory, name = "join_left")
            .trigger(available_now)
    });
    let mut rows: Vec<(i64, Option<String>)> = query
        .rows()
        .unwrap()
        .into_iter()
        .map(|r| (r.id, r.region))
        .collect();
    rows.sort();
    // the null key (3) and the key the table lacks (4) stay, with a null region
    assert_eq!(
        rows,
        [
            (1, Some("EU".into())),
            (2, Some("APAC".into())),
            (3, None),
            (4, None)
        ]
    );
}

#[test]
fn a_join_feeds_an_aggregation_on_every_task() {
    let input = orders();
    let checkpoint = tempfile::tempdir().unwrap();
    let query = stream! {
        schema Order = Order;
        schema Region = Region;
        read(memory, stream = {input}, schema = Order)
            .join({regions()}, schema = Region, on = country)
            .group_by(region)
            .agg(count() as orders, sum(amount) as total)
            .write(memory, name = "join_then_aggregate")
            .output_mode(complete)
    }
    .manager(&StreamingQueryManager::new())
    .checkpoint_location(checkpoint.path())
    .parallelism(3)
    .start()
    .unwrap();
    let rt = runtime();
    rt.block_on(query.process_all_available()).unwrap();
    rt.block_on(query.stop());
    let mut rows: Vec<(String, i64, Option<f64>)> = query
        .rows()
        .unwrap()
        .into_iter()
        .map(|r| (r.region, r.orders, r.total))
        .collect();
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        rows,
        [
            ("APAC".into(), 1, Some(20.0)),
            ("EFTA".into(), 1, Some(50.0)),
            ("EU".into(), 2, Some(60.0)),
        ]
    );
}

#[test]
fn a_table_that_does_not_fit_its_schema_stops_the_query_naming_the_column() {
    use std::sync::Arc;

    use arrow_array::{ArrayRef, Int64Array, RecordBatch};

    let input = orders();
    // `region` holds numbers where the block declares strings
    let table = RecordBatch::try_from_iter([
        (
            "country",
            Arc::new(arrow_array::StringArray::from(vec!["DE"])) as ArrayRef,
        ),
        ("region", Arc::new(Int64Array::from(vec![1])) as ArrayRef),
    ])
    .unwrap();
    let checkpoint = tempfile::tempdir().unwrap();
    let query = stream! {
        schema Order = Order;
        schema Region = Region;
        read(memory, stream = {input}, schema = Order)
            .join({table}, schema = Region, on = country)
            .write(memory, name = "join_bad_table")
            .trigger(available_now)
    }
    .manager(&StreamingQueryManager::new())
    .checkpoint_location(checkpoint.path())
    .start()
    .unwrap();
    let error = runtime()
        .block_on(query.as_ref().await_termination())
        .unwrap_err()
        .to_string();
    assert!(error.contains("`region`"), "{error}");
    assert!(error.contains("static table"), "{error}");
}
