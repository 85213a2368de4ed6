//! The file formats and landing-zone options through `stream!`: CSV with a header and a
//! malformed row dropped, and text lines.

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
