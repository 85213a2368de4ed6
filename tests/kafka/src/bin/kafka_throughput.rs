//! Throughput of Kafka → filter → Kafka on loopback, against an Apache Kafka broker this
//! program starts as the tests do (`scripts/install-kafka.sh` installs it):
//! `cargo run --release -p kafka-tests --bin kafka_throughput [-- EVENTS]` (default
//! 200,000 events).
//!
//! It writes EVENTS JSON events to topic `in` (2 partitions), then runs one query with
//! trigger available_now: the values decoded as JSON, `amount > 50`, `user` and `amount`
//! kept, written as JSON to topic `out`, at least once; then the same query exactly once
//! (one transaction per batch) into `out_exactly_once`. It prints the events per second
//! of each phase, and of a bare librdkafka producer and consumer on the same broker.

use std::sync::Arc;
use std::time::Instant;

use arrow_array::RecordBatch;
use arrow_schema::{DataType, Field, Schema};
use kafka_tests::Broker;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use stream_core::kafka::{KafkaSink, KafkaSource, StartingOffsets};
use stream_core::{MapPipeline, OutputMode, ParseMode, StreamingQuery, Trigger};

fn main() {
    let events: usize = std::env::args()
        .nth(1)
        .map(|a| a.parse().expect("EVENTS is a number"))
        .unwrap_or(200_000);
    let broker = Broker::start("kafka_throughput").expect("a broker");
    broker.create_topic("in", 2);

    let started = Instant::now();
    let producer: BaseProducer = broker
        .config()
        .set("linger.ms", "5")
        .set("batch.num.messages", "10000")
        .create()
        .expect("a producer");
    for i in 0..events {
        let value = format!(
            r#"{{"ts":"2024-01-01T00:{:02}:{:02}.000Z","user":"user_{}","page":"/p{}","amount":{}.25,"country":"DE"}}"#,
            (i / 60) % 60,
            i % 60,
            i % 1000,
            i % 50,
            i % 200
        );
        let key = format!("k{}", i % 1000);
        let mut record = BaseRecord::to("in").key(&key).payload(&value);
        loop {
            match producer.send(record) {
                Ok(()) => break,
                Err((_, back)) => {
                    record = back;
                    producer.poll(std::time::Duration::from_millis(5));
                }
            }
        }
    }
    producer
        .flush(std::time::Duration::from_secs(300))
        .expect("delivered");
    let load = started.elapsed().as_secs_f64();
    println!(
        "load:  {events} events into `in` in {load:.2} s: {:.0} events/s (librdkafka producer)",
        events as f64 / load
    );

    // what the broker gives a bare librdkafka consumer, for comparison with the query's
    // read (getBatch)
    let started = Instant::now();
    let consumed = bare_read(&broker, "in", 2);
    let bare = started.elapsed().as_secs_f64();
    println!(
        "read:  {consumed} records of `in` by a bare librdkafka consumer in {bare:.2} s: {:.0} events/s",
        consumed as f64 / bare
    );

    for (exactly_once, topic) in [(false, "out"), (true, "out_exactly_once")] {
        let (seconds, rows, batches) = run(&broker, topic, exactly_once);
        println!(
            "query: Kafka -> decode JSON -> amount > 50 -> JSON -> Kafka, {}: {events} events in {seconds:.2} s, {batches} batch(es), {rows} rows out: {:.0} events/s",
            if exactly_once {
                "exactly once"
            } else {
                "at least once"
            },
            events as f64 / seconds
        );
        // exactly once, each partition also holds the transaction's commit marker
        let out = broker.end_offsets(topic, 2).iter().sum::<i64>() as usize;
        let markers = if exactly_once { 2 * batches } else { 0 };
        assert!(
            out >= rows && out <= rows + markers,
            "every row the query wrote is in `{topic}`: {out} offsets for {rows} rows"
        );
    }
}

/// Runs the query to the end of `in` into `topic`: its seconds, rows out and batches.
fn run(broker: &Broker, topic: &str, exactly_once: bool) -> (f64, usize, usize) {
    broker.create_topic(topic, 2);
    let source = KafkaSource::new(broker.servers())
        .subscribe(["in"])
        .starting_offsets(StartingOffsets::Earliest)
        .value_json(tests::event_schema(), ParseMode::FailFast);
    let input = stream_core::Source::schema(&source);
    let output = Arc::new(Schema::new(vec![
        Field::new("user", DataType::Utf8, true),
        Field::new("amount", DataType::Float64, true),
    ]));
    let out_schema = output.clone();
    let pipeline = MapPipeline::new(
        "filter_project",
        input,
        output,
        move |batch: &RecordBatch| {
            let amount = batch.column(3);
            let keep = arrow_ord::cmp::gt(amount, &arrow_array::Float64Array::new_scalar(50.0))?;
            let kept = arrow_select::filter::filter_record_batch(batch, &keep)?;
            Ok(RecordBatch::try_new(
                out_schema.clone(),
                vec![kept.column(1).clone(), kept.column(3).clone()],
            )?)
        },
    );
    let checkpoint = tempfile::tempdir().expect("a folder");
    let started = Instant::now();
    let query = StreamingQuery::builder()
        .source(source)
        .pipeline(pipeline)
        .sink(
            KafkaSink::new(broker.servers())
                .topic(topic)
                .value_json(true)
                .exactly_once(exactly_once),
        )
        .output_mode(OutputMode::Append)
        .trigger(Trigger::AvailableNow)
        .checkpoint_location(checkpoint.path())
        .start()
        .expect("the query starts");
    tests::runtime()
        .block_on(query.await_termination())
        .expect("the query runs to the end");
    let seconds = started.elapsed().as_secs_f64();
    let progress = query.recent_progress();
    for p in &progress {
        println!(
            "  batch {}: {} rows in, durations (ms) {:?}",
            p.batch_id, p.num_input_rows, p.duration_ms
        );
    }
    let rows = progress
        .iter()
        .map(|p| p.sink.num_output_rows.max(0) as usize)
        .sum();
    (seconds, rows, progress.len())
}

/// Reads every record of `topic` with a plain consumer, keeping nothing: the count.
fn bare_read(broker: &Broker, topic: &str, partitions: i32) -> usize {
    use rdkafka::consumer::{BaseConsumer, Consumer};
    let ends = broker.end_offsets(topic, partitions);
    let consumer: BaseConsumer = broker
        .config()
        .set("group.id", "kafka-throughput-bare")
        .set("enable.auto.commit", "false")
        .create()
        .expect("a consumer");
    let mut list = rdkafka::TopicPartitionList::new();
    for p in 0..partitions {
        list.add_partition_offset(topic, p, rdkafka::Offset::Beginning)
            .expect("a partition");
    }
    consumer.assign(&list).expect("assign");
    let total: i64 = ends.iter().sum();
    let mut n = 0;
    while (n as i64) < total {
        if let Some(Ok(_)) = consumer.poll(std::time::Duration::from_millis(100)) {
            n += 1;
        }
    }
    n
}
