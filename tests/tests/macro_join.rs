//! Stream–static joins through `stream!`: inner and left outer, a key with several table
//! rows, null keys that match nothing, a join before an aggregation, a table that does
//! not fit its schema, and column pruning through a join (a Parquet column nothing reads
//! is left unread, a column read only before the join is read but not carried on).

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

    // a pipeline that reads nothing of the table after the join (pruning takes no column
    // of it into the output) still checks the table against the whole schema
    let input = orders();
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
            .select(id, amount)
            .write(memory, name = "join_bad_table_unread")
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

/// A Parquet file of orders in `dir`: `id`, `page`, `amount`, `country` (with a null and
/// a country the table lacks), and `note`, which holds numbers where the blocks below
/// declare strings: reading `note` would stop the query with an error naming it.
fn orders_parquet(dir: &std::path::Path) {
    use std::sync::Arc;

    use arrow_array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};

    let batch = RecordBatch::try_from_iter([
        (
            "id",
            Arc::new(Int64Array::from(vec![1, 2, 3, 4, 5])) as ArrayRef,
        ),
        (
            "page",
            Arc::new(StringArray::from(vec![
                "home", "cart", "home", "home", "home",
            ])) as _,
        ),
        (
            "amount",
            Arc::new(Float64Array::from(vec![10.0, 20.0, 30.0, 40.0, 50.0])) as _,
        ),
        (
            "country",
            Arc::new(StringArray::from(vec![
                Some("DE"),
                Some("JP"),
                None,
                Some("BR"),
                Some("CH"),
            ])) as _,
        ),
        (
            "note",
            Arc::new(Int64Array::from(vec![7, 8, 9, 10, 11])) as _,
        ),
    ])
    .unwrap();
    let file = std::fs::File::create(dir.join("orders.parquet")).unwrap();
    let mut writer = parquet::arrow::ArrowWriter::try_new(file, batch.schema(), None).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
}

#[test]
fn a_join_leaves_the_stream_columns_nothing_reads_unread() {
    // neither `note` (numbers in the file, `string` in the block) nor `page` is read,
    // and the key `country` is read by the join but not carried on: the query runs, with
    // the left outer join's rows as they are without pruning (the null key and the
    // country the table lacks kept with a null region, both regions of CH)
    let landing = tempfile::tempdir().unwrap();
    orders_parquet(landing.path());
    let query = run_to_end(stream! {
        schema Order { id: i64, page: string, amount: f64, country: Option<string>, note: Option<string> }
        schema Region = Region;
        read(parquet, path = {landing.path()}, schema = Order)
            .join({regions()}, schema = Region, on = country, how = left)
            .select(id, region, amount)
            .write(memory, name = "join_pruned_parquet")
            .trigger(available_now)
    });
    let mut rows: Vec<(i64, Option<String>, f64)> = query
        .rows()
        .unwrap()
        .into_iter()
        .map(|r| (r.id, r.region, r.amount))
        .collect();
    rows.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    assert_eq!(
        rows,
        [
            (1, Some("EU".into()), 10.0),
            (2, Some("APAC".into()), 20.0),
            (3, None, 30.0),
            (4, None, 40.0),
            (5, Some("EFTA".into()), 50.0),
            (5, Some("EU".into()), 50.0),
        ]
    );

    // the same file joined by a pipeline that reads `note` after the join: the
    // mismatch names the column, so the run above succeeded only by leaving it unread
    let checkpoint = tempfile::tempdir().unwrap();
    let failing = stream! {
        schema Order { id: i64, page: string, amount: f64, country: Option<string>, note: Option<string> }
        schema Region = Region;
        read(parquet, path = {landing.path()}, schema = Order)
            .join({regions()}, schema = Region, on = country)
            .select(id, region, note)
            .write(memory, name = "join_pruned_parquet_notes")
            .trigger(available_now)
    }
    .manager(&StreamingQueryManager::new())
    .checkpoint_location(checkpoint.path())
    .start()
    .unwrap();
    let error = runtime()
        .block_on(failing.as_ref().await_termination())
        .unwrap_err()
        .to_string();
    assert!(error.contains("`note`"), "{error}");
    assert!(error.contains("orders.parquet"), "{error}");
}

#[test]
fn a_column_read_only_before_the_join_is_still_read() {
    // `page` is read by the filter and `amount` by `with_column`, both before the join
    // only; `note` is never read (reading it would fail)
    let landing = tempfile::tempdir().unwrap();
    orders_parquet(landing.path());
    let query = run_to_end(stream! {
        schema Order { id: i64, page: string, amount: f64, country: Option<string>, note: Option<string> }
        schema Region = Region;
        read(parquet, path = {landing.path()}, schema = Order)
            .filter(page == "home")
            .with_column(doubled, amount * 2.0)
            .join({regions()}, schema = Region, on = country)
            .filter(region != "EFTA")
            .select(region, doubled, id)
            .write(memory, name = "join_pruned_before")
            .trigger(available_now)
    });
    let mut rows: Vec<(i64, String, f64)> = query
        .rows()
        .unwrap()
        .into_iter()
        .map(|r| (r.id, r.region, r.doubled))
        .collect();
    rows.sort_by_key(|a| a.0);
    // 2 is on another page, 3 has a null key, 4 a country the table lacks, and 5's EFTA
    // row is filtered out after the join
    assert_eq!(rows, [(1, "EU".into(), 20.0), (5, "EU".into(), 100.0)]);

    // the same from a memory stream (whose batches keep every column): the join takes
    // only `id`, `doubled` and `region` into its output
    let input = orders();
    let query = run_to_end(stream! {
        schema Order = Order;
        schema Region = Region;
        read(memory, stream = {input}, schema = Order)
            .filter(id != 2)
            .with_column(doubled, amount * 2.0)
            .join({regions()}, schema = Region, on = country)
            .select(region, doubled)
            .write(memory, name = "join_pruned_memory")
            .trigger(available_now)
    });
    let mut rows: Vec<(String, f64)> = query
        .rows()
        .unwrap()
        .into_iter()
        .map(|r| (r.region, r.doubled))
        .collect();
    rows.sort_by(|a, b| a.partial_cmp(b).unwrap());
    assert_eq!(
        rows,
        [
            ("EFTA".into(), 100.0),
            ("EU".into(), 20.0),
            ("EU".into(), 100.0)
        ]
    );
}
