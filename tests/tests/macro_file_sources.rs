//! The file formats and landing-zone options through `stream!`: CSV with a header and a
//! malformed row dropped, a cut-short file skipped, text lines, and Parquet read only in
//! the columns the pipeline uses.

use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use parquet::arrow::ArrowWriter;
use stream_core::stream;
use tests::run_to_end;

#[test]
fn a_csv_landing_zone_through_the_macro_drops_the_malformed_row_and_counts_it() {
    let landing = tempfile::tempdir().unwrap();
    std::fs::write(
        landing.path().join("orders.csv"),
        "id;amount;shop\n1;10.5;north\n2;oops;south\n3;7.25;north\n",
    )
    .unwrap();
    let query = run_to_end(stream! {
        schema Order { id: Option<i64>, amount: Option<f64>, shop: Option<string> }
        read(csv, path = {landing.path()}, schema = Order, header = true, delimiter = ";",
             mode = drop_malformed, max_files_per_trigger = 1)
            .filter(shop == "north")
            .select(id, amount * 2.0 as doubled)
            .write(memory, name = "macro_csv_orders")
            .trigger(available_now)
    });
    let rows: Vec<(Option<i64>, Option<f64>)> = query
        .rows()
        .unwrap()
        .into_iter()
        .map(|r| (r.id, r.doubled))
        .collect();
    assert_eq!(rows, [(Some(1), Some(21.0)), (Some(3), Some(14.5))]);
    let dropped: u64 = query
        .recent_progress()
        .iter()
        .filter_map(|p| p.sources[0].metrics.get("numMalformedRowsDropped"))
        .map(|v| v.parse::<u64>().unwrap())
        .sum();
    assert_eq!(dropped, 1);
}

#[test]
fn ignore_corrupt_files_through_the_macro_skips_a_cut_short_file_and_counts_it() {
    let landing = tempfile::tempdir().unwrap();
    let whole = tests::files::gzip("{\"id\": 2}\n");
    tests::files::land(landing.path(), "a.json", "{\"id\": 1}\n", 0);
    tests::files::land(landing.path(), "b.json.gz", &whole[..whole.len() / 2], 1);
    let query = run_to_end(stream! {
        schema Row { id: i64 }
        read(json, path = {landing.path()}, schema = Row, ignore_corrupt_files = true,
             ignore_missing_files = true, compact_interval = 5)
            .write(memory, name = "macro_skip_corrupt")
            .trigger(available_now)
    });
    let ids: Vec<i64> = query.rows().unwrap().into_iter().map(|r| r.id).collect();
    assert_eq!(ids, [1]);
    let metrics = &query.recent_progress()[0].sources[0].metrics;
    assert_eq!(
        metrics.get("numCorruptFilesSkipped").map(String::as_str),
        Some("1")
    );
    assert_eq!(
        metrics.get("numMissingFilesSkipped").map(String::as_str),
        Some("0")
    );
}

#[test]
fn text_lines_become_a_value_column() {
    let landing = tempfile::tempdir().unwrap();
    std::fs::write(
        landing.path().join("app.log"),
        "INFO start\nERROR disk full\nINFO stop\n",
    )
    .unwrap();
    let query = run_to_end(stream! {
        read(text, path = {landing.path()})
            .filter(starts_with(value, "ERROR"))
            .write(memory, name = "macro_text_errors")
            .trigger(available_now)
    });
    let lines: Vec<String> = query.rows().unwrap().into_iter().map(|r| r.value).collect();
    assert_eq!(lines, ["ERROR disk full"]);
}

#[test]
fn parquet_is_read_only_in_the_columns_the_pipeline_uses() {
    let landing = tempfile::tempdir().unwrap();
    // `note` is declared a string but the file holds numbers: reading it would be an
    // error naming the column, so the query succeeds only if the unused column is left
    // unread
    let batch = RecordBatch::try_from_iter([
        ("id", Arc::new(Int64Array::from(vec![1, 2, 3])) as ArrayRef),
        (
            "amount",
            Arc::new(Float64Array::from(vec![Some(10.5), None, Some(7.25)])) as _,
        ),
        (
            "shop",
            Arc::new(StringArray::from(vec!["north", "south", "north"])) as _,
        ),
        ("note", Arc::new(Int64Array::from(vec![7, 8, 9])) as _),
    ])
    .unwrap();
    let file = std::fs::File::create(landing.path().join("orders.parquet")).unwrap();
    let mut writer = ArrowWriter::try_new(file, batch.schema(), None).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
    let query = run_to_end(stream! {
        schema Order { id: i64, amount: Option<f64>, shop: string, note: Option<string> }
        read(parquet, path = {landing.path()}, schema = Order)
            .filter(shop == "north")
            .select(id, amount * 2.0 as doubled)
            .write(memory, name = "macro_parquet_orders")
            .trigger(available_now)
    });
    let rows: Vec<(i64, Option<f64>)> = query
        .rows()
        .unwrap()
        .into_iter()
        .map(|r| (r.id, r.doubled))
        .collect();
    assert_eq!(rows, [(1, Some(21.0)), (3, Some(14.5))]);

    // the same file read by a pipeline that uses `note`: the mismatch names the column
    let checkpoint = tempfile::tempdir().unwrap();
    let failing = stream! {
        schema Order { id: i64, amount: Option<f64>, shop: string, note: Option<string> }
        read(parquet, path = {landing.path()}, schema = Order)
            .select(id, note)
            .write(memory, name = "macro_parquet_notes")
            .trigger(available_now)
    }
    .manager(&stream_core::StreamingQueryManager::new())
    .checkpoint_location(checkpoint.path())
    .start()
    .unwrap();
    let error = tests::runtime()
        .block_on(failing.as_ref().await_termination())
        .unwrap_err()
        .to_string();
    assert!(error.contains("`note`"), "{error}");
    assert!(error.contains("orders.parquet"), "{error}");
}
