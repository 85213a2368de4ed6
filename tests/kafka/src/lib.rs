//! The Kafka connector's tests run against a real Kafka-protocol broker, tansu 0.6,
//! which each test starts on a free loopback port ([`Broker::start`]) and stops when it
//! is dropped. `scripts/install-tansu.sh` installs it; `.ci/run` runs that script and
//! puts the binary's path in `STREAM_TANSU`.
//!
//! Where no broker can be started the tests are skipped with a loud message, except
//! under `CI=true`, where they fail.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rdkafka::ClientConfig;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Header, Headers, OwnedHeaders};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rdkafka::{Message, TopicPartitionList};

/// The tansu binary: `STREAM_TANSU`, else `tansu` in cargo's bin folder or on `PATH`.
pub fn tansu_binary() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("STREAM_TANSU").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")));
    let mut candidates: Vec<PathBuf> = cargo_home
        .map(|h| h.join("bin/tansu"))
        .into_iter()
        .collect();
    if let Some(path) = std::env::var_os("PATH") {
        candidates.extend(std::env::split_paths(&path).map(|d| d.join("tansu")));
    }
    candidates.into_iter().find(|p| p.is_file())
}

/// A tansu broker on a loopback port, stopped (killed) when dropped.
pub struct Broker {
    child: Option<Child>,
    port: u16,
    storage: String,
    binary: PathBuf,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Broker {
    /// A broker keeping everything in memory; `None` (after a loud message) where no
    /// tansu binary is installed, except under `CI=true`, where that panics.
    ///
    /// tansu 0.6's memory storage gives a partition's latest offset as the first offset
    /// of its last record batch plus one: produce one record per batch to it (each
    /// [`Broker::produce`] of a single record is one). [`Broker::start_sqlite`] does not
    /// have that fault.
    pub fn start(test: &str) -> Option<Broker> {
        Self::start_with(test, None)
    }

    /// A broker keeping its data in a SQLite file in its own folder, so that it can be
    /// stopped and started again with its topics ([`Broker::restart`]).
    pub fn start_sqlite(test: &str) -> Option<Broker> {
        // tansu reads the file's path relative to its working folder, the broker's own
        Self::start_with(test, Some("sqlite://tansu.db".into()))
    }

    fn start_with(test: &str, storage: Option<String>) -> Option<Broker> {
        let Some(binary) = tansu_binary() else {
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!("{test}: no tansu broker binary under CI; run scripts/install-tansu.sh");
            }
            eprintln!(
                "\n!!!!!!!! SKIPPED: {test}: no Kafka broker: tansu is not installed; run \
                 `scripts/install-tansu.sh` (or set STREAM_TANSU) to run the Kafka tests !!!!!!!!\n"
            );
            return None;
        };
        let dir = tempfile::tempdir().expect("a temporary folder");
        let mut broker = Broker {
            child: None,
            port: 0,
            storage: storage.unwrap_or_else(|| "memory://tansu/".into()),
            binary,
            log: dir.path().join("tansu.log"),
            _dir: dir,
        };
        broker.spawn();
        Some(broker)
    }

    fn spawn(&mut self) {
        if self.port == 0 {
            let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
            self.port = listener.local_addr().expect("its address").port();
        }
        let url = format!("tcp://127.0.0.1:{}", self.port);
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("the broker's log");
        let child = Command::new(&self.binary)
            .current_dir(self._dir.path())
            .args([
                "broker",
                "--listener-url",
                &url,
                "--advertised-listener-url",
                &url,
            ])
            .args(["--storage-engine", &self.storage])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::from(log.try_clone().expect("log")))
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", self.binary.display()));
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "tansu did not listen on port {} within 20 s; its log: {}",
                self.port,
                std::fs::read_to_string(&self.log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// What the broker printed so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// `host:port` for `bootstrap.servers`.
    pub fn servers(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Kills the broker (as a crash would).
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts it again on the same port and storage.
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
