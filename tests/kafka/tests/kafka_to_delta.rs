//! The `kafka_to_delta` example against Apache Kafka: the Delta table holds every
//! sample reading with a temperature, once, with its day and its Kafka position, as the
//! `deltalake` Python package reads it; the value that is not JSON is counted; a second
//! run adds nothing.

#[allow(dead_code)]
#[path = "../../../examples/examples/kafka_to_delta.rs"]
mod example;

use kafka_tests::Broker;
use tests::{python_read, python_readers};

/// The readings with a temperature as the table should hold them: canonical JSON with
/// `day`, `partition` and `offset`, sorted.
fn expected(broker: &Broker) -> Vec<String> {
    let mut rows = Vec::new();
    for record in broker.consume_all("readings", 2, false) {
        let Ok(mut value) =
            serde_json::from_str::<serde_json::Value>(record.value.as_deref().unwrap())
        else {
            continue; // the value that is not JSON
        };
        if value["temperature"].is_null() {
            continue;
        }
        let day = value["ts"].as_str().unwrap()[..10].to_string();
        value["day"] = day.into();
        value["partition"] = record.partition.into();
        value["offset"] = record.offset.into();
        rows.push(tests::canonical_json(&value.to_string()));
    }
    rows.sort();
    rows
}

#[test]
fn the_example_streams_a_topic_into_a_delta_table_once() {
    let Some(broker) = Broker::start("kafka_to_delta") else {
        return;
    };
    example::publish_samples_once(&broker.servers(), "readings").unwrap();
    let expected = expected(&broker);
    assert_eq!(
        expected.len(),
        9,
        "3 gateways × 3 readings with a temperature"
    );
    let root = tempfile::tempdir().unwrap();
    let (table, checkpoint) = (root.path().join("table"), root.path().join("checkpoint"));

    let progress =
        example::kafka_to_delta(&broker.servers(), "readings", &table, &checkpoint).unwrap();
    let read: u64 = progress.iter().map(|p| p.num_input_rows).sum();
    assert_eq!(
        read, 12,
        "every record but the malformed one, dropped in the source"
    );
    let dropped: u64 = progress
        .iter()
        .flat_map(|p| &p.sources)
        .filter_map(|s| s.metrics.get("numMalformedRowsDropped"))
        .map(|v| v.parse::<u64>().unwrap())
        .sum();
    assert_eq!(dropped, 1);
    assert!(table.join("site=berlin").is_dir() && table.join("site=lyon").is_dir());
    let committed = stream_core::DeltaSink::committed_batch(&table, &progress[0].id).unwrap();
    assert_eq!(committed, Some(progress.len() as u64 - 1));

    // nothing new: a second run commits nothing
    let again =
        example::kafka_to_delta(&broker.servers(), "readings", &table, &checkpoint).unwrap();
    assert_eq!(again.iter().map(|p| p.num_input_rows).sum::<u64>(), 0);
    assert_eq!(
        stream_core::DeltaSink::committed_batch(&table, &progress[0].id).unwrap(),
        committed
    );

    if let Some(python) = python_readers("kafka_to_delta") {
        let read = python_read(&python, "delta", &table, None);
        assert_eq!(read.rows, expected, "rows as deltalake (Python) reads them");
    }
}
