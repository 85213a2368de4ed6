//! `read(kafka, ..)` and `write(kafka, ..)` in `stream!`, against Apache Kafka:
//! Kafka → decode → filter → project → Kafka, each row written as JSON; the raw
//! records cast to strings with their key and headers passed through.

use kafka_tests::Broker;
use stream_core::kafka::BATCH_ID_HEADER;
use stream_core::stream;

fn run(query: stream_core::QueryBuilder) {
    let query = query.start().unwrap();
    tests::runtime()
        .block_on(query.await_termination())
        .unwrap();
}

#[test]
fn decode_filter_project_and_write_rows_as_json() {
    let Some(broker) = Broker::start("macro_kafka::json") else {
        return;
    };
    broker.create_topic("orders", 2);
    broker.create_topic("big", 1);
    for (p, v) in [
        (0, r#"{"user":"ann","amount":75.5,"country":"DE"}"#),
        (1, r#"{"user":"bob","amount":20.0,"country":"FR"}"#),
        (0, "not json"),
        (1, r#"{"user":"cy","amount":51,"country":"DE"}"#),
    ] {
        broker.produce("orders", &[(p, None, v)]);
    }
    let servers = broker.servers();
    let checkpoint = tempfile::tempdir().unwrap();
    let path = checkpoint.path();
    run(stream! {
        schema Order { user: Option<string>, amount: Option<f64>, country: Option<string> }
        read(kafka, bootstrap_servers = {servers.as_str()}, subscribe = "orders",
             starting_offsets = earliest, value_schema = Order, mode = drop_malformed)
            .filter(amount > 50.0)
            .select(user, amount * 2.0 as doubled, partition as source_partition)
            .write(kafka, bootstrap_servers = {servers.as_str()}, topic = "big", value_json = true)
            .trigger(available_now)
            .checkpoint({path})
    }
    .untyped());
    let mut values: Vec<String> = broker
        .consume_all("big", 1, false)
        .into_iter()
        .map(|r| r.value.unwrap())
        .collect();
    values.sort();
    assert_eq!(
        values,
        [
            r#"{"user":"ann","doubled":151.0,"source_partition":0}"#,
            r#"{"user":"cy","doubled":102.0,"source_partition":1}"#,
        ]
    );
}

#[test]
fn raw_records_pass_through_with_key_and_headers() {
    let Some(broker) = Broker::start("macro_kafka::raw") else {
        return;
    };
    broker.create_topic("in", 1);
    broker.create_topic("copy", 1);
    broker.produce_with_headers("in", &[(0, Some("k1"), "hello")], &[("trace", "t-1")]);
    let servers = broker.servers();
    let checkpoint = tempfile::tempdir().unwrap();
    let path = checkpoint.path();
    run(stream! {
        read(kafka, bootstrap_servers = {servers.as_str()}, subscribe = "in",
             starting_offsets = earliest, include_headers = true)
            .select(key, cast(value as string) as value, headers)
            .write(kafka, bootstrap_servers = {servers.as_str()}, topic = "copy")
            .trigger(available_now)
            .checkpoint({path})
    }
    .untyped());
    let out = broker.consume_all("copy", 1, false);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].key.as_deref(), Some("k1"));
    assert_eq!(out[0].value.as_deref(), Some("hello"));
    assert_eq!(out[0].header("trace"), Some("t-1"));
    assert_eq!(out[0].header(BATCH_ID_HEADER), Some("0"));
}

#[test]
fn request_timeout_reports_a_broker_that_is_not_there() {
    // a port with no broker behind it: the first trigger fails within the timeout
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let servers = format!("127.0.0.1:{port}");
    let checkpoint = tempfile::tempdir().unwrap();
    let path = checkpoint.path();
    let started = std::time::Instant::now();
    let query = stream! {
        read(kafka, bootstrap_servers = {servers.as_str()}, subscribe = "in",
             request_timeout = "1 second")
            .select(key, value)
            .write(kafka, bootstrap_servers = {servers.as_str()}, topic = "out",
                   request_timeout = "1 second")
            .trigger(available_now)
            .checkpoint({path})
    }
    .untyped()
    .start()
    .unwrap();
    let e = tests::runtime()
        .block_on(query.await_termination())
        .unwrap_err()
        .to_string();
    assert!(e.contains("cannot fetch the brokers' metadata"), "{e}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
}
