//! A broker that goes away and comes back: the source's trigger fails with an error
//! that says what it could not do, the sink's batch fails naming the sink and the batch,
//! and once the broker is back a restarted query goes on from its checkpoint with no
//! row lost.

use std::time::{Duration, Instant};

use kafka_tests::Broker;
use kafka_tests::drive::{context, next, values};
use stream_core::kafka::{KafkaSink, KafkaSource, StartingOffsets};
use stream_core::source::{ReadLimit, Source};
use stream_core::{
    MapPipeline, MemoryStream, OutputMode, StreamingQuery, StreamingQueryManager, Trigger,
};

#[test]
fn the_source_reports_a_broker_that_went_away_and_goes_on_when_it_is_back() {
    let Some(mut broker) = Broker::start("kafka_broker_outage::source") else {
        return;
    };
    broker.create_topic("t", 1);
    broker.produce("t", &[(0, None, "a")]);
    let dir = tempfile::tempdir().unwrap();
    let mut source = KafkaSource::new(broker.servers())
        .subscribe(["t"])
        .starting_offsets(StartingOffsets::Earliest)
        .request_timeout(Duration::from_secs(2));
    source.open(&context(dir.path())).unwrap();
    let mut start = None;
    assert_eq!(
        values(&next(&mut source, &mut start, ReadLimit::All)),
        ["a"]
    );

    broker.stop();
    let asked = Instant::now();
    let e = source
        .latest_offset(start.as_ref(), ReadLimit::All)
        .unwrap_err()
        .to_string();
    assert!(e.contains("cannot fetch the brokers' metadata"), "{e}");
    assert!(
        asked.elapsed() < Duration::from_secs(20),
        "reported after the request timeout"
    );

    broker.restart();
    broker.produce("t", &[(0, None, "b")]);
    // the client reconnects on its own backoff: until it has, a trigger fails as above
    // (and a query would fail and be restarted); then the read goes on where it was
    let deadline = Instant::now() + Duration::from_secs(30);
    let end = loop {
        match source.latest_offset(start.as_ref(), ReadLimit::All) {
            Ok(end) => break end.expect("an offset"),
            Err(e) if Instant::now() < deadline => {
                let e = e.to_string();
                assert!(e.contains("cannot fetch the brokers' metadata"), "{e}");
                std::thread::sleep(Duration::from_millis(200));
            }
            Err(e) => panic!("the source did not reconnect within 30 s: {e}"),
        }
    };
    let batches = source.read(start.as_ref(), &end).expect("read");
    assert_eq!(values(&batches), ["b"], "nothing lost, nothing again");
}

#[test]
fn the_sink_fails_its_batch_while_the_broker_is_away_and_a_restart_writes_it() {
    let Some(mut broker) = Broker::start("kafka_broker_outage::sink") else {
        return;
    };
    broker.create_topic("out", 1);
    let schema = std::sync::Arc::new(arrow_schema::Schema::new(vec![arrow_schema::Field::new(
        "value",
        arrow_schema::DataType::Utf8,
        false,
    )]));
    let input = MemoryStream::new(schema.clone());
    let checkpoint = tempfile::tempdir().unwrap();
    let query = |servers: String| {
        StreamingQuery::builder()
            .manager(&StreamingQueryManager::new())
            .source(input.clone())
            .pipeline(MapPipeline::identity(schema.clone()))
            .sink(
                KafkaSink::new(servers)
                    .topic("out")
                    .request_timeout(Duration::from_secs(2))
                    // librdkafka gives up on a record after this long
                    .option("message.timeout.ms", "1500"),
            )
            .output_mode(OutputMode::Append)
            .trigger(Trigger::AvailableNow)
            .checkpoint_location(checkpoint.path())
    };
    let rt = tests::runtime();
    input.add_json(r#"{"value":"one"}"#).unwrap();
    let q = query(broker.servers()).start().unwrap();
    rt.block_on(q.await_termination()).unwrap();

    broker.stop();
    input.add_json(r#"{"value":"two"}"#).unwrap();
    let q = query(broker.servers()).start().unwrap();
    let e = rt.block_on(q.await_termination()).unwrap_err().to_string();
    assert!(e.contains("KafkaSink[out]") && e.contains("batch 1"), "{e}");

    broker.restart();
    let q = query(broker.servers()).start().unwrap();
    rt.block_on(q.await_termination()).unwrap();
    let out: Vec<String> = broker
        .consume_all("out", 1, false)
        .into_iter()
        .map(|r| r.value.unwrap())
        .collect();
    assert!(
        out.contains(&"one".to_string()) && out.contains(&"two".to_string()),
        "{out:?}"
    );
    assert_eq!(
        out.iter().filter(|v| *v == "one").count(),
        1,
        "batch 0 was committed: not written again"
    );
}
