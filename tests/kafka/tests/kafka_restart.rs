//! A query over a Kafka topic fails in the middle of the topic and is started again on
//! its checkpoint: it resumes from the offsets in its offset log (never from a consumer
//! group), replays the failed batch's exact range, and no row is lost or repeated.

use kafka_tests::Broker;
use kafka_tests::drive::values;
use stream_core::kafka::{KafkaSource, StartingOffsets};
use stream_core::{
    FaultPoint, MapPipeline, MemorySink, OutputMode, Source, StreamError, StreamingQuery,
    StreamingQueryManager, Trigger,
};

fn run(
    broker: &Broker,
    checkpoint: &std::path::Path,
    table: &str,
    fault: Option<(FaultPoint, u64)>,
) -> Result<Vec<String>, String> {
    let source = KafkaSource::new(broker.servers())
        .subscribe(["t"])
        .starting_offsets(StartingOffsets::Earliest)
        .max_offsets_per_trigger(3);
    let schema = source.schema();
    let sink = MemorySink::new(table);
    let memory = sink.table();
    let mut builder = StreamingQuery::builder()
        .manager(&StreamingQueryManager::new())
        .source(source)
        .pipeline(MapPipeline::identity(schema))
        .sink(sink)
        .output_mode(OutputMode::Append)
        .trigger(Trigger::AvailableNow)
        .checkpoint_location(checkpoint);
    if let Some((point, batch)) = fault {
        builder = builder.inject_fault(point, batch);
    }
    let query = builder.start().map_err(|e| e.to_string())?;
    tests::runtime()
        .block_on(query.await_termination())
        .map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for id in memory.batch_ids() {
        out.extend(values(&memory.batch(id).unwrap()));
    }
    Ok(out)
}

#[test]
fn a_restart_mid_topic_resumes_from_the_checkpointed_offsets() {
    for point in [
        FaultPoint::AfterOffsetsWrite,
        FaultPoint::AfterSinkWrite,
        FaultPoint::BeforeCommit,
    ] {
        let Some(broker) = Broker::start("kafka_restart") else {
            return;
        };
        broker.create_topic("t", 1);
        let first: Vec<String> = (0..7).map(|i| format!("v{i}")).collect();
        for v in &first {
            broker.produce("t", &[(0, None, v)]);
        }
        let checkpoint = tempfile::tempdir().unwrap();
        let table = format!("kafka_restart_{point}");
        let e = run(&broker, checkpoint.path(), &table, Some((point, 1))).unwrap_err();
        assert!(
            e.contains(&StreamError::InjectedFault { point, batch_id: 1 }.to_string()),
            "{e}"
        );
        let offsets_1 = std::fs::read_to_string(checkpoint.path().join("offsets/1")).unwrap();
        assert!(
            offsets_1.contains(r#"{"t":{"0":6}}"#),
            "batch 1 is offsets 3..6: {offsets_1}"
        );
        // more records come while the query is down; a consumer group would not matter
        for v in ["late0", "late1"] {
            broker.produce("t", &[(0, None, v)]);
        }
        let all = run(&broker, checkpoint.path(), &table, None).unwrap();
        let mut expected = first.clone();
        expected.extend(["late0".to_string(), "late1".to_string()]);
        assert_eq!(all, expected, "{point}: every record once, in order");
        let replayed = std::fs::read_to_string(checkpoint.path().join("offsets/1")).unwrap();
        assert_eq!(
            replayed, offsets_1,
            "{point}: batch 1 replayed its logged range"
        );
    }
}
