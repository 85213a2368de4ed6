//! The `landing_zone_to_delta` example, run on its embedded sample files: the Delta
//! table holds every reading with a temperature, once, with its day, partitioned by site,
//! as the `deltalake` Python package reads it; the malformed line is counted; a second
//! run adds nothing.

#[allow(dead_code)]
#[path = "../../../examples/examples/landing_zone_to_delta.rs"]
mod example;

use tests::{python_read, python_readers};

/// The sample readings with a temperature, as canonical JSON rows with their `day`.
fn expected(landing: &std::path::Path) -> Vec<String> {
    let mut rows = Vec::new();
    for entry in std::fs::read_dir(landing).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        for line in text.lines() {
            let Ok(mut value) = serde_json::from_str::<serde_json::Value>(line) else {
                continue; // the malformed line
            };
            if value["temperature"].is_null() {
                continue;
            }
            let day = value["ts"].as_str().unwrap()[..10].to_string();
            value["day"] = serde_json::Value::String(day);
            rows.push(tests::canonical_json(&value.to_string()));
        }
    }
    rows.sort();
    rows
}

#[test]
fn the_example_streams_the_sample_landing_zone_into_a_delta_table_once() {
    let root = tempfile::tempdir().unwrap();
    let landing = root.path().join("landing");
    let table = root.path().join("table");
    let checkpoint = root.path().join("checkpoint");
    example::write_samples(&landing).unwrap();
    let expected = expected(&landing);
    // the names of the samples, to find them in the archive
    let landing_copy = root.path().join("samples");
    example::write_samples(&landing_copy).unwrap();
    assert_eq!(
        expected.len(),
        9,
        "3 files of 3 readings with a temperature"
    );

    let progress = example::landing_zone_to_delta(&landing, &table, &checkpoint).unwrap();
    assert_eq!(progress.len(), 2, "3 files at 2 per batch");
    let dropped: u64 = progress
        .iter()
        .flat_map(|p| &p.sources)
        .filter_map(|s| s.metrics.get("numMalformedRowsDropped"))
        .map(|v| v.parse::<u64>().unwrap())
        .sum();
    assert_eq!(dropped, 1);
    // the processed files moved to the archive, under their whole path (as Spark)
    assert_eq!(std::fs::read_dir(&landing).unwrap().count(), 0);
    let archived = root
        .path()
        .join("archive")
        .join(landing.strip_prefix("/").unwrap());
    let mut names: Vec<String> = std::fs::read_dir(&archived)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["gateway-000.json", "gateway-001.json", "gateway-002.json"]
    );
    let mut sites: Vec<String> = std::fs::read_dir(&table)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('_'))
        .collect();
    sites.sort();
    assert_eq!(sites, ["site=berlin", "site=lyon"]);

    // a second run finds everything committed
    let again = example::landing_zone_to_delta(&landing, &table, &checkpoint).unwrap();
    assert_eq!(again.iter().map(|p| p.num_input_rows).sum::<u64>(), 0);

    if let Some(python) = python_readers("landing_zone_to_delta") {
        assert_eq!(python_read(&python, "delta", &table, None).rows, expected);
    }
}
