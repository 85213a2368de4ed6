//! `schema Event = file(..)`: a schema read from Spark's schema JSON when the crate
//! compiles; the block is checked against it and runs on the golden input.

use stream_core::stream;
use tests::{land_golden, memory_table_rows, run_to_end};

#[test]
fn a_schema_file_types_the_block_and_reads_the_golden_events() {
    let landing = tempfile::tempdir().unwrap();
    land_golden(landing.path(), 0..1);
    let query = run_to_end(stream! {
        // Spark's `df.schema.json()` of the golden input: `timestamp` is microseconds
        schema Event = file("schemas/event.schema.json");
        read(json, path = {landing.path()}, schema = Event)
            .filter(country == "DE" && amount > 100.0)
            .select(user, amount, hour(ts) as hour)
            .write(memory, name = "schema_file_de")
            .trigger(available_now)
    });
    let rows = query.rows().unwrap();
    // the same rows, computed from the file's text without the engine
    let text = std::fs::read_to_string(tests::golden_files()[0].clone()).unwrap();
    let mut expected = Vec::new();
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let amount = v["amount"].as_f64().unwrap();
        if v["country"] == "DE" && amount > 100.0 {
            let hour: i32 = v["ts"].as_str().unwrap()[11..13].parse().unwrap();
            expected.push((v["user"].as_str().unwrap().to_string(), amount, hour));
        }
    }
    assert!(!expected.is_empty());
    let got: Vec<(String, f64, i32)> = rows
        .into_iter()
        .map(|r| (r.user.unwrap(), r.amount.unwrap(), r.hour.unwrap()))
        .collect();
    assert_eq!(got, expected);
    assert_eq!(memory_table_rows("schema_file_de").len(), expected.len());
}
