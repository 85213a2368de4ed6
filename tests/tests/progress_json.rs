//! A progress record's JSON has Spark's field names and shape.

use std::sync::Arc;
use std::time::Duration;

use arrow_array::{Int64Array, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use stream_core::{
    ManualClock, MapPipeline, MemorySink, MemoryStream, StreamingQuery, StreamingQueryManager,
    StreamingQueryProgress, Trigger,
};

fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, false)]))
}

fn numbers(values: &[i64]) -> RecordBatch {
    RecordBatch::try_new(schema(), vec![Arc::new(Int64Array::from(values.to_vec()))]).unwrap()
}

/// The second batch's progress of a query on the manual clock, ids replaced by
/// placeholders (they are random per checkpoint and run).
fn second_batch_progress() -> StreamingQueryProgress {
    let clock = ManualClock::new(1_704_067_200_000); // 2024-01-01T00:00:00Z
    let input = MemoryStream::new(schema());
    input.add_batch(numbers(&[1, 2, 3])).unwrap();
    let checkpoint = tempfile::tempdir().unwrap();
    let query = StreamingQuery::builder()
        .manager(&StreamingQueryManager::new())
        .query_name("progress_snapshot")
        .source(input.clone())
        .pipeline(MapPipeline::identity(schema()))
        .sink(MemorySink::new("progress_snapshot"))
        .trigger(Trigger::ProcessingTime(Duration::from_secs(5)))
        .clock(clock.clone())
        .checkpoint_location(checkpoint.path())
        .start()
        .unwrap();
    assert!(clock.wait_for_sleeper(Duration::from_secs(30)));
    input.add_batch(numbers(&[4, 5, 6, 7, 8])).unwrap();
    clock.advance(5_000);
    assert!(clock.wait_for_sleeper(Duration::from_secs(30)));
    let progress = query.last_progress().unwrap();
    tests::runtime().block_on(query.stop());
    assert_eq!(progress.batch_id, 1);
    assert_eq!(progress.id, query.id());
    assert_eq!(progress.run_id, query.run_id());
    StreamingQueryProgress {
        id: "<query id>".into(),
        run_id: "<run id>".into(),
        ..progress
    }
}

#[test]
fn progress_json_snapshot() {
    // The record's own serialisation, so the snapshot shows Spark's field order too.
    insta::assert_snapshot!(second_batch_progress().pretty_json());
}

#[test]
fn progress_json_uses_sparks_field_names() {
    let json: serde_json::Value = serde_json::from_str(&second_batch_progress().json()).unwrap();
    let keys =
        |v: &serde_json::Value| -> Vec<String> { v.as_object().unwrap().keys().cloned().collect() };
    let mut top = keys(&json);
    top.sort();
    let mut spark = vec![
        "id",
        "runId",
        "name",
        "timestamp",
        "batchId",
        "batchDuration",
        "numInputRows",
        "inputRowsPerSecond",
        "processedRowsPerSecond",
        "durationMs",
        "stateOperators",
        "sources",
        "sink",
    ];
    spark.sort();
    assert_eq!(top, spark);
    let mut durations = keys(&json["durationMs"]);
    durations.sort();
    assert_eq!(
        durations,
        [
            "addBatch",
            "commitOffsets",
            "getBatch",
            "latestOffset",
            "queryPlanning",
            "triggerExecution",
            "walCommit"
        ]
    );
    let mut source = keys(&json["sources"][0]);
    source.sort();
    assert_eq!(
        source,
        [
            "description",
            "endOffset",
            "inputRowsPerSecond",
            "latestOffset",
            "numInputRows",
            "processedRowsPerSecond",
            "startOffset"
        ]
    );
    assert_eq!(keys(&json["sink"]), ["description", "numOutputRows"]);
    assert_eq!(json["numInputRows"], 5);
    assert_eq!(
        json["inputRowsPerSecond"], 1.0,
        "5 rows in the 5 s since the previous trigger"
    );
    assert_eq!(json["timestamp"], "2024-01-01T00:00:05.000Z");
    assert_eq!(
        json["sources"][0]["startOffset"],
        json["sources"][0]["endOffset"].as_i64().unwrap() - 1
    );
}
