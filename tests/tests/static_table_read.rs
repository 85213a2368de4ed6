//! The static side of a join read from files named in the block, as
//! `spark.read.parquet(path)` gives a Spark user: `join(read(parquet, path = ..,
//! schema = Region), on = country)`. The files (a Parquet file, a folder of JSON files, a
//! CSV file with a header) are read once, when the query starts, with the file source's
//! readers; inner and left outer joins give Spark's rows (computed here: each order once
//! per matching region, a null or unknown country matching nothing). A file that does
//! not hold the schema stops the start with an error naming the file and the column.

use std::path::Path;
use std::sync::Arc;

use arrow_array::{ArrayRef, Int64Array, RecordBatch, StringArray};
use stream_core::{MemoryStream, Schema, StreamingQueryManager, stream};
use tests::run_to_end;

#[derive(Schema, Clone)]
struct Order {
    id: i64,
    country: Option<String>,
    amount: f64,
}

const REGIONS: [(&str, &str); 4] = [("DE", "EU"), ("JP", "APAC"), ("CH", "EU"), ("CH", "EFTA")];

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

/// What Spark's join of the orders with `REGIONS` gives: `(id, region)`, each order
/// once per region of its country; with `left`, an order without one once with null.
fn expected(left: bool) -> Vec<(i64, Option<String>)> {
    let orders = [
        (1, Some("DE")),
        (2, Some("JP")),
        (3, None),
        (4, Some("BR")),
        (5, Some("CH")),
    ];
    let mut out = Vec::new();
    for (id, country) in orders {
        let matches: Vec<&str> = REGIONS
            .iter()
            .filter(|(c, _)| Some(*c) == country)
            .map(|(_, r)| *r)
            .collect();
        if matches.is_empty() && left {
            out.push((id, None));
        }
        out.extend(matches.into_iter().map(|r| (id, Some(r.to_string()))));
    }
    out.sort();
    out
}

fn regions_batch() -> RecordBatch {
    let countries: Vec<&str> = REGIONS.iter().map(|(c, _)| *c).collect();
    let regions: Vec<&str> = REGIONS.iter().map(|(_, r)| *r).collect();
    RecordBatch::try_from_iter([
        (
            "country",
            Arc::new(StringArray::from(countries)) as ArrayRef,
        ),
        ("region", Arc::new(StringArray::from(regions)) as ArrayRef),
    ])
    .unwrap()
}

fn write_parquet(path: &Path, batch: &RecordBatch) {
    let file = std::fs::File::create(path).unwrap();
    let mut writer = parquet::arrow::ArrowWriter::try_new(file, batch.schema(), None).unwrap();
    writer.write(batch).unwrap();
    writer.close().unwrap();
}

#[test]
fn an_inner_join_with_a_parquet_file_read_in_the_block() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("regions.parquet");
    write_parquet(&file, &regions_batch());
    let path = file.to_string_lossy().to_string();
    let input = orders();
    let query = run_to_end(stream! {
        schema Order = Order;
        schema Region { country: string, region: string }
        read(memory, stream = {input}, schema = Order)
            .join(read(parquet, path = {path.clone()}, schema = Region), on = country)
            .select(id, region)
            .write(memory, name = "static_read_parquet")
            .trigger(available_now)
    });
    let mut rows: Vec<(i64, Option<String>)> = query
        .rows()
        .unwrap()
        .into_iter()
        .map(|r| (r.id, Some(r.region)))
        .collect();
    rows.sort();
    assert_eq!(rows, expected(false));
}

#[test]
fn a_left_join_with_a_folder_of_json_files() {
    let dir = tempfile::tempdir().unwrap();
    // two files and a hidden one, which Spark's reader skips as ours does
    let line = |(c, r): &(&str, &str)| format!("{{\"country\":\"{c}\",\"region\":\"{r}\"}}\n");
    let first: String = REGIONS[..2].iter().map(line).collect();
    let second: String = REGIONS[2..].iter().map(line).collect();
    std::fs::write(dir.path().join("part-0.json"), first).unwrap();
    std::fs::write(dir.path().join("part-1.json"), second).unwrap();
    std::fs::write(
        dir.path().join(".hidden.json"),
        "{\"country\":\"BR\",\"region\":\"LATAM\"}\n",
    )
    .unwrap();
    let path = dir.path().to_string_lossy().to_string();
    let input = orders();
    let query = run_to_end(stream! {
        schema Order = Order;
        schema Region { country: string, region: string }
        read(memory, stream = {input}, schema = Order)
            .join(read(json, path = {path.clone()}, schema = Region), on = country, how = left)
            .select(id, region)
            .write(memory, name = "static_read_json")
            .trigger(available_now)
    });
    let mut rows: Vec<(i64, Option<String>)> = query
        .rows()
        .unwrap()
        .into_iter()
        .map(|r| (r.id, r.region))
        .collect();
    rows.sort();
    assert_eq!(rows, expected(true));
}

#[test]
fn a_csv_file_with_a_header_and_its_options() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("country;region\n");
    for (c, r) in REGIONS {
        text.push_str(&format!("{c};{r}\n"));
    }
    let file = dir.path().join("regions.csv");
    std::fs::write(&file, text).unwrap();
    let path = file.to_string_lossy().to_string();
    let input = orders();
    let query = run_to_end(stream! {
        schema Order = Order;
        schema Region { country: string, region: string }
        read(memory, stream = {input}, schema = Order)
            .join(read(csv, path = {path.clone()}, schema = Region, header = true, delimiter = ";"), on = country)
            .select(id, region)
            .write(memory, name = "static_read_csv")
            .trigger(available_now)
    });
    let mut rows: Vec<(i64, Option<String>)> = query
        .rows()
        .unwrap()
        .into_iter()
        .map(|r| (r.id, Some(r.region)))
        .collect();
    rows.sort();
    assert_eq!(rows, expected(false));
}

#[test]
fn a_file_that_does_not_hold_the_schema_stops_the_start_naming_file_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("regions.parquet");
    // `region` is a number in the file, a string in the schema
    let batch = RecordBatch::try_from_iter([
        (
            "country",
            Arc::new(StringArray::from(vec!["DE"])) as ArrayRef,
        ),
        ("region", Arc::new(Int64Array::from(vec![7])) as ArrayRef),
    ])
    .unwrap();
    write_parquet(&file, &batch);
    let path = file.to_string_lossy().to_string();
    let input = orders();
    let checkpoint = tempfile::tempdir().unwrap();
    let started = stream! {
        schema Order = Order;
        schema Region { country: string, region: string }
        read(memory, stream = {input}, schema = Order)
            .join(read(parquet, path = {path.clone()}, schema = Region), on = country)
            .write(memory, name = "static_read_bad")
    }
    .manager(&StreamingQueryManager::new())
    .checkpoint_location(checkpoint.path())
    .start();
    let Err(error) = started else {
        panic!("the start fails")
    };
    let text = error.to_string();
    assert!(text.contains("regions.parquet"), "{text}");
    assert!(text.contains("`region`"), "{text}");

    // a JSON file without a column the schema declares not nullable
    let json = dir.path().join("regions.json");
    std::fs::write(&json, "{\"country\":\"DE\"}\n").unwrap();
    let path = json.to_string_lossy().to_string();
    let input = orders();
    let checkpoint = tempfile::tempdir().unwrap();
    let started = stream! {
        schema Order = Order;
        schema Region { country: string, region: string }
        read(memory, stream = {input}, schema = Order)
            .join(read(json, path = {path.clone()}, schema = Region), on = country)
            .write(memory, name = "static_read_bad_json")
    }
    .manager(&StreamingQueryManager::new())
    .checkpoint_location(checkpoint.path())
    .start();
    let Err(error) = started else {
        panic!("the start fails")
    };
    let text = error.to_string();
    // the JSON reader's own words: a null in the non-nullable `region`
    assert!(text.contains("regions.json"), "{text}");
    assert!(text.contains("\"region\""), "{text}");
    assert!(text.contains("line 1"), "{text}");
}
