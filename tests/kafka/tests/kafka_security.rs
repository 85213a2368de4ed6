//! The Kafka source and sink on a SASL_SSL listener (TLS with a certificate made for the
//! test, SASL/PLAIN), configured with Spark's `kafka.`-prefixed options; a wrong
//! password and an untrusted certificate are errors that name the broker, not a hang.

use kafka_tests::{Broker, SECURE_PASSWORD, SECURE_USER};
use stream_core::stream;

/// The client options of the secure listener, as a Spark user writes them, with
/// `password` and, if `trust`, the test's certificate as the CA.
fn options(broker: &Broker, password: &str, trust: bool) -> Vec<(String, String)> {
    let mut options = vec![
        ("kafka.security.protocol", "SASL_SSL".to_string()),
        ("kafka.sasl.mechanism", "PLAIN".to_string()),
        ("kafka.sasl.username", SECURE_USER.to_string()),
        ("kafka.sasl.password", password.to_string()),
    ];
    if trust {
        options.push((
            "kafka.ssl.ca.location",
            broker.ca_pem().display().to_string(),
        ));
    }
    options
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
}

/// Topic `in` → topic `out` over the secure listener; the query's result.
fn copy(broker: &Broker, options: Vec<(String, String)>) -> Result<(), String> {
    let servers = broker.secure_servers();
    let checkpoint = tempfile::tempdir().unwrap();
    let path = checkpoint.path();
    let (source_options, sink_options) = (options.clone(), options);
    let query = stream! {
        read(kafka, bootstrap_servers = {servers.as_str()}, subscribe = "in",
             starting_offsets = earliest, kafka_options = {source_options},
             request_timeout = "10 seconds")
            .select(value)
            .write(kafka, bootstrap_servers = {servers.as_str()}, topic = "out",
                   kafka_options = {sink_options}, request_timeout = "10 seconds")
            .trigger(available_now)
            .checkpoint({path})
    }
    .untyped()
    .start()
    .map_err(|e| e.to_string())?;
    tests::runtime()
        .block_on(query.await_termination())
        .map_err(|e| e.to_string())
}

#[test]
fn source_and_sink_read_and_write_over_sasl_ssl_with_kafka_prefixed_options() {
    let Some(broker) = Broker::start_secure("kafka_security::sasl_ssl") else {
        return;
    };
    broker.create_topic("in", 1);
    broker.create_topic("out", 1);
    broker.produce("in", &[(0, None, "one"), (0, None, "two")]);
    copy(&broker, options(&broker, SECURE_PASSWORD, true)).expect("the query runs");
    let values: Vec<String> = broker
        .consume_all("out", 1, false)
        .into_iter()
        .map(|r| r.value.unwrap())
        .collect();
    assert_eq!(values, ["one", "two"]);
}

#[test]
fn a_wrong_password_is_an_error_naming_the_broker() {
    let Some(broker) = Broker::start_secure("kafka_security::wrong_password") else {
        return;
    };
    broker.create_topic("in", 1);
    broker.create_topic("out", 1);
    let started = std::time::Instant::now();
    let e = copy(&broker, options(&broker, "not-the-password", true)).unwrap_err();
    eprintln!("wrong password after {:?}: {e}", started.elapsed());
    assert!(
        e.contains(&broker.secure_servers()),
        "names the broker: {e}"
    );
    assert!(e.to_lowercase().contains("authentication"), "says why: {e}");
}

#[test]
fn an_untrusted_certificate_is_an_error_naming_the_broker() {
    let Some(broker) = Broker::start_secure("kafka_security::untrusted") else {
        return;
    };
    broker.create_topic("in", 1);
    broker.create_topic("out", 1);
    let started = std::time::Instant::now();
    let e = copy(&broker, options(&broker, SECURE_PASSWORD, false)).unwrap_err();
    eprintln!("untrusted certificate after {:?}: {e}", started.elapsed());
    assert!(
        e.contains(&broker.secure_servers()),
        "names the broker: {e}"
    );
    assert!(e.to_lowercase().contains("certificate"), "says why: {e}");
}
