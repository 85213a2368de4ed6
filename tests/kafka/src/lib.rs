//! The Kafka connector's tests run against Apache Kafka itself, in KRaft mode: one Java
//! process that is broker and controller, on free loopback ports, with its log folder in
//! a temporary folder ([`Broker::start`] for a test of its own, [`Broker::shared`] for one
//! broker per test binary, each test on topics of its own). `scripts/install-kafka.sh`
//! resolves its jars into a cached folder; `scripts/test.sh` (and so `.ci/run`) runs that
//! script and puts the folder in `STREAM_KAFKA`.
//!
//! Where no broker can be started the tests are skipped with a loud message, except
//! under `CI=true`, where they fail.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use rdkafka::ClientConfig;
use rdkafka::admin::{AdminClient, AdminOptions, NewPartitions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Header, Headers, OwnedHeaders};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rdkafka::{Message, TopicPartitionList};

/// The folder of Apache Kafka's jars: `STREAM_KAFKA`, else where
/// `scripts/install-kafka.sh` puts them by default, if it finished there.
pub fn kafka_libs() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("STREAM_KAFKA").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    let cache = std::env::var_os("STREAM_CACHE")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("XDG_CACHE_HOME").map(|d| PathBuf::from(d).join("sparkling-streams"))
        })
        .or_else(|| {
            std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/sparkling-streams"))
        })?;
    let pom = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/kafka/pom.xml"),
    )
    .ok()?;
    let version = pom
        .split("<kafka.version>")
        .nth(1)?
        .split("</kafka.version>")
        .next()?;
    let dir = cache.join(format!("kafka-{version}"));
    dir.join("complete").is_file().then(|| dir.join("libs"))
}

/// The user of [`Broker::start_secure`]'s SASL/PLAIN listener.
pub const SECURE_USER: &str = "alice";
/// Its password.
pub const SECURE_PASSWORD: &str = "alice-secret";
/// The password of the secure broker's key store.
const KEYSTORE_PASSWORD: &str = "test-keystore";

/// The KRaft cluster id every test broker is formatted with (each has a folder of its
/// own, so one id does).
const CLUSTER_ID: &str = "c3RyZWFtLWNvcmUtdGVzdA";

/// An Apache Kafka broker (and its controller) on loopback ports, killed when dropped.
pub struct Broker {
    child: Option<Child>,
    /// The broker's end of a pipe: when it closes (the broker is stopped, or the test
    /// process ends however it ends) the shell around the JVM kills it.
    lifeline: Option<ChildStdin>,
    port: u16,
    controller_port: u16,
    /// With [`Broker::start_secure`]: a SASL_SSL listener's port.
    secure_port: Option<u16>,
    libs: PathBuf,
    log: PathBuf,
    dir: tempfile::TempDir,
}

impl Broker {
    /// A broker of the test's own, for a test that stops or restarts it; `None` (after a
    /// loud message) where Apache Kafka is not installed, except under `CI=true`, where
    /// that panics.
    pub fn start(test: &str) -> Option<Broker> {
        Self::start_with(test, false)
    }

    /// As [`Broker::start`], with a second listener, SASL_SSL: TLS with a certificate
    /// for 127.0.0.1 made for the test (its PEM is [`Broker::ca_pem`]) and SASL/PLAIN
    /// with the user [`SECURE_USER`] and password [`SECURE_PASSWORD`].
    pub fn start_secure(test: &str) -> Option<Broker> {
        Self::start_with(test, true)
    }

    fn start_with(test: &str, secure: bool) -> Option<Broker> {
        let Some(libs) = kafka_libs() else {
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!("{test}: no Apache Kafka under CI; run scripts/install-kafka.sh");
            }
            eprintln!(
                "\n!!!!!!!! SKIPPED: {test}: no Kafka broker: Apache Kafka is not installed; run \
                 `scripts/install-kafka.sh` (or set STREAM_KAFKA) to run the Kafka tests !!!!!!!!\n"
            );
            return None;
        };
        let dir = tempfile::tempdir().expect("a temporary folder");
        let free_port = || {
            TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("a free port")
                .port()
        };
        let mut broker = Broker {
            child: None,
            lifeline: None,
            port: free_port(),
            controller_port: free_port(),
            secure_port: secure.then(free_port),
            libs,
            log: dir.path().join("broker.log"),
            dir,
        };
        if secure {
            broker.make_certificate();
        }
        broker.configure_and_format();
        broker.spawn();
        Some(broker)
    }

    /// The broker of this test binary, started by the first test that asks; tests that
    /// share it use topics of their own. `None` as for [`Broker::start`].
    pub fn shared(test: &str) -> Option<&'static Broker> {
        static SHARED: OnceLock<Option<Broker>> = OnceLock::new();
        SHARED.get_or_init(|| Broker::start(test)).as_ref()
    }

    fn java(&self) -> Command {
        let mut c = Command::new("java");
        c.arg("-cp").arg(self.libs.join("*"));
        c
    }

    /// A key pair and a self-signed certificate for 127.0.0.1 (`broker.p12`), and the
    /// certificate as PEM for the clients to trust (`ca.pem`).
    fn make_certificate(&self) {
        let dir = self.dir.path();
        let keytool = |args: &[&str]| {
            let out = Command::new("keytool")
                .args(args)
                .current_dir(dir)
                .output()
                .expect("keytool runs (it comes with Java)");
            assert!(
                out.status.success(),
                "keytool {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        let store = [
            "-keystore",
            "broker.p12",
            "-storetype",
            "PKCS12",
            "-storepass",
            KEYSTORE_PASSWORD,
        ];
        keytool(
            &[
                &[
                    "-genkeypair",
                    "-alias",
                    "broker",
                    "-keyalg",
                    "RSA",
                    "-keysize",
                    "2048",
                ][..],
                &store,
                &[
                    "-keypass",
                    KEYSTORE_PASSWORD,
                    "-dname",
                    "CN=127.0.0.1",
                    "-ext",
                    "SAN=ip:127.0.0.1,dns:localhost",
                    "-validity",
                    "2",
                ],
            ]
            .concat(),
        );
        keytool(
            &[
                &["-exportcert", "-rfc", "-alias", "broker", "-file", "ca.pem"][..],
                &store,
            ]
            .concat(),
        );
    }

    /// Writes `server.properties` and formats the log folder (once per broker).
    fn configure_and_format(&self) {
        let (port, controller) = (self.port, self.controller_port);
        let data = self.dir.path().join("data");
        let (listener, advertised, protocols, security) = match self.secure_port {
            None => (String::new(), String::new(), String::new(), String::new()),
            Some(secure) => (
                format!(",SASL_SSL://127.0.0.1:{secure}"),
                format!(",SASL_SSL://127.0.0.1:{secure}"),
                ",SASL_SSL:SASL_SSL".to_string(),
                format!(
                    "sasl.enabled.mechanisms=PLAIN\n\
                     listener.name.sasl_ssl.sasl.enabled.mechanisms=PLAIN\n\
                     listener.name.sasl_ssl.plain.sasl.jaas.config=\
                     org.apache.kafka.common.security.plain.PlainLoginModule required \
                     username=\"admin\" password=\"admin-secret\" user_admin=\"admin-secret\" \
                     user_{SECURE_USER}=\"{SECURE_PASSWORD}\";\n\
                     ssl.keystore.location={}\n\
                     ssl.keystore.type=PKCS12\n\
                     ssl.keystore.password={KEYSTORE_PASSWORD}\n\
                     ssl.key.password={KEYSTORE_PASSWORD}\n",
                    self.dir.path().join("broker.p12").display()
                ),
            ),
        };
        let properties = format!(
            "process.roles=broker,controller\n\
             node.id=1\n\
             controller.quorum.voters=1@127.0.0.1:{controller}\n\
             listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller}{listener}\n\
             advertised.listeners=PLAINTEXT://127.0.0.1:{port}{advertised}\n\
             controller.listener.names=CONTROLLER\n\
             listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT{protocols}\n\
             {security}\
             inter.broker.listener.name=PLAINTEXT\n\
             log.dirs={}\n\
             num.partitions=1\n\
             offsets.topic.replication.factor=1\n\
             offsets.topic.num.partitions=2\n\
             transaction.state.log.replication.factor=1\n\
             transaction.state.log.min.isr=1\n\
             transaction.state.log.num.partitions=2\n\
             group.initial.rebalance.delay.ms=0\n",
            data.display()
        );
        std::fs::write(self.dir.path().join("server.properties"), properties)
            .expect("server.properties");
        let out = self
            .java()
            .arg("kafka.tools.StorageTool")
            .args(["format", "-t", CLUSTER_ID, "-c"])
            .arg(self.dir.path().join("server.properties"))
            .output()
            .expect("java runs");
        assert!(
            out.status.success(),
            "formatting the broker's log folder failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("the broker's log");
        let log4j =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/kafka/log4j2.properties");
        // the JVM under a shell that kills it when its standard input closes: a broker
        // never outlives its test process, even one that is killed
        let java = format!(
            "java -Xms128m -Xmx768m -XX:+UseSerialGC -Dlog4j2.configurationFile='{}' \
             -cp '{}/*' kafka.Kafka '{}' <&- & pid=$!; cat >/dev/null; kill -9 $pid; wait $pid",
            log4j.display(),
            self.libs.display(),
            self.dir.path().join("server.properties").display()
        );
        let mut child = Command::new("sh")
            .args(["-c", &java])
            .stdin(Stdio::piped())
            .stdout(Stdio::from(log.try_clone().expect("log")))
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start Apache Kafka: {e}"));
        self.lifeline = child.stdin.take();
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let consumer: BaseConsumer = self.config().create().expect("a client");
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok()
                && consumer
                    .fetch_metadata(None, Duration::from_secs(5))
                    .is_ok_and(|m| !m.brokers().is_empty())
            {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "Apache Kafka did not answer on port {} within 60 s; its log: {}",
                self.port,
                self.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// What the broker printed so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// `host:port` of the SASL_SSL listener, with [`Broker::start_secure`].
    pub fn secure_servers(&self) -> String {
        format!(
            "127.0.0.1:{}",
            self.secure_port
                .expect("a broker started with start_secure")
        )
    }

    /// The PEM of the certificate the SASL_SSL listener presents (self-signed: the CA
    /// a client trusts with `ssl.ca.location`).
    pub fn ca_pem(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// `host:port` for `bootstrap.servers`.
    pub fn servers(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Kills the broker (`kill -9`, as a crash would).
    pub fn stop(&mut self) {
        drop(self.lifeline.take());
        if let Some(mut c) = self.child.take() {
            let _ = c.wait();
        }
    }

    /// Starts it again on the same ports and log folder: its topics and records are
    /// there again.
    pub fn restart(&mut self) {
        self.stop();
        self.spawn();
    }

    /// Creates a topic.
    pub fn create_topic(&self, name: &str, partitions: i32) {
        let admin: AdminClient<DefaultClientContext> =
            self.config().create().expect("an admin client");
        let topic = NewTopic::new(name, partitions, TopicReplication::Fixed(1));
        let results =
            block_on(admin.create_topics([&topic], &AdminOptions::new())).expect("create_topics");
        for r in results {
            r.unwrap_or_else(|(t, e)| panic!("cannot create topic {t}: {e}"));
        }
    }

    /// Gives `topic` `total` partitions (Kafka's `CreatePartitions`).
    pub fn create_partitions(&self, topic: &str, total: usize) {
        let admin: AdminClient<DefaultClientContext> =
            self.config().create().expect("an admin client");
        let more = NewPartitions::new(topic, total);
        let results = block_on(admin.create_partitions([&more], &AdminOptions::new()))
            .expect("create_partitions");
        for r in results {
            r.unwrap_or_else(|(t, e)| panic!("cannot add partitions to {t}: {e}"));
        }
    }

    /// Removes the records of `topic`'s `partition` before offset `before` (Kafka's
    /// `DeleteRecords`, as retention would).
    pub fn delete_records(&self, topic: &str, partition: i32, before: i64) {
        let admin: AdminClient<DefaultClientContext> =
            self.config().create().expect("an admin client");
        let mut list = TopicPartitionList::new();
        list.add_partition_offset(topic, partition, rdkafka::Offset::Offset(before))
            .expect("a partition");
        let result =
            block_on(admin.delete_records(&list, &AdminOptions::new())).expect("delete_records");
        for e in result.elements() {
            if let Err(err) = e.error() {
                panic!("cannot delete the records of {topic}-{partition}: {err}");
            }
        }
    }

    /// Deletes a topic.
    pub fn delete_topic(&self, name: &str) {
        let admin: AdminClient<DefaultClientContext> =
            self.config().create().expect("an admin client");
        let results =
            block_on(admin.delete_topics(&[name], &AdminOptions::new())).expect("delete_topics");
        for r in results {
            r.unwrap_or_else(|(t, e)| panic!("cannot delete topic {t}: {e}"));
        }
    }

    /// A client configuration for this broker.
    pub fn config(&self) -> ClientConfig {
        let mut c = ClientConfig::new();
        c.set("bootstrap.servers", self.servers());
        c
    }

    /// Writes records (`partition`, `key`, `value`) and waits until all are stored.
    pub fn produce(&self, topic: &str, records: &[(i32, Option<&str>, &str)]) {
        self.produce_with_headers(topic, records, &[]);
    }

    /// As [`Broker::produce`], every record with these headers.
    pub fn produce_with_headers(
        &self,
        topic: &str,
        records: &[(i32, Option<&str>, &str)],
        headers: &[(&str, &str)],
    ) {
        let producer: BaseProducer = self.config().create().expect("a producer");
        for (partition, key, value) in records {
            let mut h = OwnedHeaders::new();
            for (k, v) in headers {
                h = h.insert(Header {
                    key: k,
                    value: Some(v.as_bytes()),
                });
            }
            let mut record = BaseRecord::<str, str>::to(topic)
                .partition(*partition)
                .payload(value)
                .headers(h);
            if let Some(k) = key {
                record = record.key(k);
            }
            let mut record = record;
            loop {
                match producer.send(record) {
                    Ok(()) => break,
                    Err((_, back)) => {
                        record = back;
                        producer.poll(Duration::from_millis(10));
                    }
                }
            }
        }
        if let Err(e) = producer.flush(Duration::from_secs(30)) {
            panic!(
                "the records to {topic} were not delivered: {e}; the broker's log:\n{}",
                self.log()
            );
        }
    }

    /// The end offset of each partition of `topic` (its number of records, for a topic
    /// no transaction wrote to).
    pub fn end_offsets(&self, topic: &str, partitions: i32) -> Vec<i64> {
        let consumer: BaseConsumer = self.config().create().expect("a consumer");
        (0..partitions)
            .map(|p| {
                consumer
                    .fetch_watermarks(topic, p, Duration::from_secs(30))
                    .expect("the partition's end")
                    .1
            })
            .collect()
    }

    /// Every record of the topic's partitions up to their current end, in partition then
    /// offset order. `read_committed` reads as a transactional consumer would.
    pub fn consume_all(&self, topic: &str, partitions: i32, read_committed: bool) -> Vec<Record> {
        let mut cfg = self.config();
        cfg.set("group.id", "kafka-tests-reader")
            .set("enable.auto.commit", "false")
            .set("enable.partition.eof", "true")
            .set(
                "isolation.level",
                if read_committed {
                    "read_committed"
                } else {
                    "read_uncommitted"
                },
            );
        let consumer: BaseConsumer = cfg.create().expect("a consumer");
        let mut list = TopicPartitionList::new();
        let mut ends = std::collections::BTreeMap::new();
        for p in 0..partitions {
            list.add_partition_offset(topic, p, rdkafka::Offset::Beginning)
                .expect("a partition");
            let (_, high) = consumer
                .fetch_watermarks(topic, p, Duration::from_secs(30))
                .expect("the partition's end");
            ends.insert(p, high);
        }
        consumer.assign(&list).expect("assign");
        // a partition is done at its end offset, or where the consumer says it reached
        // its end (a read_committed consumer never gets aborted records or markers)
        let mut done: std::collections::BTreeSet<i32> = ends
            .iter()
            .filter(|(_, high)| **high == 0)
            .map(|(p, _)| *p)
            .collect();
        let mut out = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(300);
        while done.len() < partitions as usize {
            assert!(
                Instant::now() < deadline,
                "consuming {topic} took over 300 s"
            );
            match consumer.poll(Duration::from_millis(100)) {
                Some(Ok(m)) => {
                    if m.offset() + 1 >= ends[&m.partition()] {
                        done.insert(m.partition());
                    }
                    out.push(Record::of(&m));
                }
                Some(Err(rdkafka::error::KafkaError::PartitionEOF(p))) => {
                    done.insert(p);
                }
                Some(Err(e)) => panic!("consuming {topic}: {e}"),
                None => {}
            }
        }
        out.sort_by_key(|r| (r.partition, r.offset));
        out
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A record as a consumer saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// The partition.
    pub partition: i32,
    /// The offset.
    pub offset: i64,
    /// The key, as text.
    pub key: Option<String>,
    /// The value, as text.
    pub value: Option<String>,
    /// The headers, as text.
    pub headers: Vec<(String, String)>,
}

impl Record {
    fn of(m: &rdkafka::message::BorrowedMessage<'_>) -> Record {
        let text = |b: Option<&[u8]>| b.map(|b| String::from_utf8_lossy(b).into_owned());
        Record {
            partition: m.partition(),
            offset: m.offset(),
            key: text(m.key()),
            value: text(m.payload()),
            headers: m
                .headers()
                .map(|h| {
                    h.iter()
                        .map(|h| (h.key.to_string(), text(h.value).unwrap_or_default()))
                        .collect()
                })
                .unwrap_or_default(),
        }
    }

    /// The value of header `name`.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Runs a future of the admin client to its end.
pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a runtime")
        .block_on(f)
}

/// Driving a source by hand, as the engine does, and reading its rows.
pub mod drive {
    use std::sync::Arc;

    use arrow_array::cast::AsArray;
    use arrow_array::types::{Int32Type, Int64Type};
    use arrow_array::{Array, RecordBatch};
    use stream_core::source::{ReadLimit, Source, SourceContext};
    use stream_core::{Offset, SystemClock};

    /// The context of source 0 of a query checkpointed in `dir`.
    pub fn context(dir: &std::path::Path) -> SourceContext {
        SourceContext {
            metadata_dir: dir.join("sources/0"),
            clock: Arc::new(SystemClock::default()),
            index: 0,
        }
    }

    /// One trigger: the next range past `start` under `limit`, read; `start` moves on.
    pub fn next(
        source: &mut dyn Source,
        start: &mut Option<Offset>,
        limit: ReadLimit,
    ) -> Vec<RecordBatch> {
        let end = source
            .latest_offset(start.as_ref(), limit)
            .expect("latest_offset")
            .expect("an offset");
        let batches = source.read(start.as_ref(), &end).expect("read");
        *start = Some(end);
        batches
    }

    /// A row as the tests compare it: topic, partition, offset and the value as text.
    pub type Row = (String, i32, i64, Option<String>);

    /// The rows of a source without a value schema.
    pub fn rows(batches: &[RecordBatch]) -> Vec<Row> {
        let mut out = Vec::new();
        for b in batches {
            let col = |name: &str| b.column(b.schema().index_of(name).expect(name)).clone();
            let topic = col("topic");
            let partition = col("partition");
            let offset = col("offset");
            let value = col("value");
            let (topic, partition, offset, value) = (
                topic.as_string::<i32>(),
                partition.as_primitive::<Int32Type>(),
                offset.as_primitive::<Int64Type>(),
                value.as_binary::<i32>(),
            );
            for i in 0..b.num_rows() {
                out.push((
                    topic.value(i).to_string(),
                    partition.value(i),
                    offset.value(i),
                    value
                        .is_valid(i)
                        .then(|| String::from_utf8_lossy(value.value(i)).into_owned()),
                ));
            }
        }
        out
    }

    /// Just the values, as text.
    pub fn values(batches: &[RecordBatch]) -> Vec<String> {
        rows(batches).into_iter().filter_map(|r| r.3).collect()
    }
}

/// Runs `kafka_child` (see its docs) to its end; `Ok(true)` if it died at the fault it
/// was asked for, `Ok(false)` if it finished, `Err(stderr)` if the query failed.
pub fn run_child(
    exe: &std::path::Path,
    broker: &Broker,
    topics: (&str, &str),
    checkpoint: &std::path::Path,
    exactly_once: bool,
    fault: Option<(&str, u64)>,
) -> Result<bool, String> {
    let (point, batch) = fault.unwrap_or(("none", 0));
    let out = Command::new(exe)
        .arg(broker.servers())
        .args([topics.0, topics.1])
        .arg(checkpoint)
        .arg(if exactly_once {
            "exactly_once"
        } else {
            "at_least_once"
        })
        .args([point, &batch.to_string()])
        .output()
        .expect("the child runs");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    if out.status.success() {
        return Ok(false);
    }
    if stderr.contains("kafka_child: dying at") {
        return Ok(true);
    }
    Err(stderr)
}
