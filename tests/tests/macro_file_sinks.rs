//! The file sinks through `stream!`: `write(parquet | json | csv, ..)` with Hive
//! partition folders, read back through the sink's manifest (and by pyarrow where the
//! independent readers are installed); a restart on the checkpoint adds only the new
//! files' rows.

use std::path::Path;

use stream_core::{FileSink, read_file_sink, stream};
use tests::{golden_rows, land_golden, python_read, python_readers, rows_of, run_to_end};

/// The golden rows of files `range` with `amount > 20`, as canonical JSON.
fn expected_big_orders(range: std::ops::Range<usize>) -> Vec<String> {
    golden_rows(range)
        .into_iter()
        .filter(|row| {
            let value: serde_json::Value = serde_json::from_str(row).unwrap();
            value["amount"].as_f64().is_some_and(|a| a > 20.0)
        })
        .collect()
}

/// The partition folders directly under `out`, sorted.
fn partition_folders(out: &Path) -> Vec<String> {
    let mut folders: Vec<String> = std::fs::read_dir(out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| !name.starts_with('_'))
        .collect();
    folders.sort();
    folders
}

#[test]
fn parquet_partitioned_by_country_holds_every_filtered_row_once_across_a_restart() {
    let landing = tempfile::tempdir().unwrap();
    let checkpoint = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let run = || {
        run_to_end(stream! {
            schema Event = file("schemas/event.schema.json");
            read(json, path = {landing.path()}, schema = Event, max_files_per_trigger = 1)
                .filter(amount > 20.0)
                .write(parquet, path = {out.path()}, partition_by = [country])
                .checkpoint({checkpoint.path()})
                .trigger(available_now)
        })
    };
    land_golden(landing.path(), 0..2);
    run();
    assert_eq!(
        rows_of(&read_file_sink(out.path()).unwrap()),
        expected_big_orders(0..2)
    );
    // the restart reads only the files landed since; nothing is written twice
    land_golden(landing.path(), 2..4);
    run();
    let expected = expected_big_orders(0..4);
    assert_eq!(rows_of(&read_file_sink(out.path()).unwrap()), expected);
    assert_eq!(FileSink::latest_batch_id(out.path()).unwrap(), Some(3));
    let countries: Vec<String> = {
        let mut c: Vec<String> = expected
            .iter()
            .map(|r| {
                let v: serde_json::Value = serde_json::from_str(r).unwrap();
                format!("country={}", v["country"].as_str().unwrap())
            })
            .collect();
        c.sort();
        c.dedup();
        c
    };
    assert_eq!(partition_folders(out.path()), countries);
    if let Some(python) = python_readers("macro_file_sinks::parquet") {
        assert_eq!(
            python_read(&python, "files", out.path(), None).rows,
            expected
        );
    }
}

#[test]
fn json_and_csv_sinks_write_what_the_pipeline_selects() {
    let landing = tempfile::tempdir().unwrap();
    land_golden(landing.path(), 0..2);
    let expected: Vec<String> = {
        let mut rows: Vec<String> = golden_rows(0..2)
            .into_iter()
            .map(|row| {
                let v: serde_json::Value = serde_json::from_str(&row).unwrap();
                serde_json::json!({
                    "user": v["user"],
                    "doubled": v["amount"].as_f64().map(|a| a * 2.0),
                })
                .to_string()
            })
            .collect();
        rows.sort();
        rows
    };
    let json_out = tempfile::tempdir().unwrap();
    let checkpoint = tempfile::tempdir().unwrap();
    run_to_end(stream! {
        schema Event = file("schemas/event.schema.json");
        read(json, path = {landing.path()}, schema = Event)
            .select(user, amount * 2.0 as doubled)
            .write(json, path = {json_out.path()}, max_rows_per_file = 25)
            .checkpoint({checkpoint.path().join("json")})
            .trigger(available_now)
    });
    assert_eq!(rows_of(&read_file_sink(json_out.path()).unwrap()), expected);
    // 80 rows at most 25 per file: rolled into 4 files
    assert_eq!(FileSink::committed_files(json_out.path()).unwrap().len(), 4);

    let csv_out = tempfile::tempdir().unwrap();
    run_to_end(stream! {
        schema Event = file("schemas/event.schema.json");
        read(json, path = {landing.path()}, schema = Event)
            .select(user, amount * 2.0 as doubled)
            .write(csv, path = {csv_out.path()})
            .checkpoint({checkpoint.path().join("csv")})
            .trigger(available_now)
    });
    assert_eq!(rows_of(&read_file_sink(csv_out.path()).unwrap()), expected);
    let first = &FileSink::committed_files(csv_out.path()).unwrap()[0];
    let header = std::fs::read_to_string(first).unwrap();
    assert_eq!(header.lines().next(), Some("user,doubled"));
}
