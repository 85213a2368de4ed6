//! Kafka → Delta Lake: the production pipeline users describe first.
//!
//! Gateways publish sensor readings as JSON to the Kafka topic `readings`. The query
//! reads the topic from the offsets in its own checkpoint (no consumer group), decodes
//! each value into typed columns (a value that is not a reading is dropped and counted),
//! keeps the readings with a temperature, adds the reading's day and the record's Kafka
//! position, and appends them to a Delta table partitioned by site: one Delta commit per
//! micro-batch, carrying the batch id, so that a restart after a crash never writes a
//! batch twice.
//!
//! ```text
//! cargo run -p examples --example kafka_to_delta --features kafka,delta -- <bootstrap servers> [<table> <checkpoint>]
//! ```
//!
//! It needs a broker: any Kafka 0.11 or later (the tests start Apache Kafka, which
//! `scripts/install-kafka.sh` installs).
//! If the topic `readings` does not exist yet, it creates it and publishes sample
//! readings; it then reads what is there (`available_now`) and stops. Run it again: it
//! resumes from its checkpoint and has nothing left to do.

use std::path::{Path, PathBuf};

use stream_core::{StreamError, StreamingQueryProgress, stream};

/// Streams the topic `topic` on `servers` into the Delta table at `table` until the
/// records there now are read (`available_now`); returns each micro-batch's progress.
pub fn kafka_to_delta(
    servers: &str,
    topic: &str,
    table: &Path,
    checkpoint: &Path,
) -> Result<Vec<StreamingQueryProgress>, StreamError> {
    let query = stream! {
        schema Reading {
            ts: Option<timestamp_ms>,
            device: Option<string>,
            site: Option<string>,
            temperature: Option<f64>,
        }
        read(kafka, bootstrap_servers = {servers}, subscribe = {topic},
             starting_offsets = earliest,
             // at most 1000 records per micro-batch, shared among the partitions
             max_offsets_per_trigger = 1000,
             // each value is one JSON reading; one that is not is dropped and counted
             value_schema = Reading, mode = drop_malformed)
            .filter(is_not_null(temperature))
            .with_column(day, to_date(ts))
            .select(ts, device, site, temperature, day, partition, offset)
            .write(delta, path = {table}, partition_by = [site])
            .output_mode(append)
            .trigger(available_now)
            .checkpoint({checkpoint})
            .query_name("kafka_to_delta")
    }
    .start()?;
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| StreamError::InvalidQuery(format!("cannot start a tokio runtime: {e}")))?
        .block_on(query.await_termination())?;
    Ok(query.recent_progress())
}

/// The sample readings: 4 per gateway from 3 gateways, one of each without a
/// temperature, and one value that is not JSON.
pub fn sample_readings() -> Vec<String> {
    let sites = ["berlin", "lyon"];
    let mut out = Vec::new();
    for gateway in 0..3 {
        for i in 0..4 {
            let temperature = if i == 3 {
                "null".to_string()
            } else {
                format!("{:.1}", 18.0 + f64::from(gateway * 4 + i) * 0.5)
            };
            out.push(format!(
                r#"{{"ts":"2024-05-0{}T12:{:02}:00.000Z","device":"sensor-{gateway}-{i}","site":"{}","temperature":{temperature}}}"#,
                1 + gateway,
                i * 5,
                sites[(i % 2) as usize],
            ));
        }
    }
    out.insert(5, "{\"ts\": \"garbled".to_string());
    out
}

#[allow(dead_code)] // the tests include this file for `kafka_to_delta` only
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/kafka_to_delta");
    let (servers, table, checkpoint) = match args.as_slice() {
        [servers] => (servers.clone(), root.join("table"), root.join("checkpoint")),
        [servers, table, checkpoint] => (
            servers.clone(),
            PathBuf::from(table),
            PathBuf::from(checkpoint),
        ),
        _ => return Err("usage: kafka_to_delta <bootstrap servers> [<table> <checkpoint>]".into()),
    };
    publish_samples_once(&servers, "readings")?;
    let progress = kafka_to_delta(&servers, "readings", &table, &checkpoint)?;
    let read: u64 = progress.iter().map(|p| p.num_input_rows).sum();
    let dropped: u64 = progress
        .iter()
        .flat_map(|p| &p.sources)
        .filter_map(|s| s.metrics.get("numMalformedRowsDropped"))
        .filter_map(|v| v.parse::<u64>().ok())
        .sum();
    eprintln!(
        "kafka_to_delta: {} batch(es), {read} record(s) read, {dropped} malformed value(s) dropped; table {}",
        progress.len(),
        table.display()
    );
    Ok(())
}

/// Creates `topic` with 2 partitions and publishes [`sample_readings`] to it, unless
/// the topic exists.
pub fn publish_samples_once(servers: &str, topic: &str) -> Result<(), Box<dyn std::error::Error>> {
    use rdkafka::ClientConfig;
    use rdkafka::consumer::{BaseConsumer, Consumer};
    use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
    use std::time::Duration;

    let mut config = ClientConfig::new();
    config.set("bootstrap.servers", servers);
    let consumer: BaseConsumer = config.create()?;
    let metadata = consumer.fetch_metadata(None, Duration::from_secs(10))?;
    if metadata.topics().iter().any(|t| t.name() == topic) {
        return Ok(());
    }
    let admin: rdkafka::admin::AdminClient<_> = config.create()?;
    let new = rdkafka::admin::NewTopic::new(topic, 2, rdkafka::admin::TopicReplication::Fixed(1));
    let created = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(admin.create_topics([&new], &rdkafka::admin::AdminOptions::new()))?;
    for result in created {
        result.map_err(|(t, e)| format!("cannot create topic {t}: {e}"))?;
    }
    let producer: BaseProducer = config.create()?;
    for (i, reading) in sample_readings().iter().enumerate() {
        let key = format!("gateway-{}", i / 5);
        producer
            .send(BaseRecord::to(topic).key(&key).payload(reading))
            .map_err(|(e, _)| e)?;
    }
    producer.flush(Duration::from_secs(30))?;
    Ok(())
}
