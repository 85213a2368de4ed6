//! `KafkaSink`: each batch's rows as Kafka records, at least once or, with one Kafka
//! transaction per batch, exactly once.

use std::sync::Mutex;
use std::time::Duration;

use arrow_array::cast::AsArray;
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::{DataType, SchemaRef};
use rdkafka::ClientContext;
use rdkafka::consumer::Consumer;
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{BaseProducer, BaseRecord, DeliveryResult, Producer, ProducerContext};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::util::Timeout;

use super::client::{ClientErrors, KafkaConsumer, REQUEST_TIMEOUT, config};
use crate::sink::{Sink, SinkBatch, SinkContext};
use crate::{OutputMode, Result, StreamError};

/// The header every record gets: the id of the batch that wrote it, as decimal text.
pub const BATCH_ID_HEADER: &str = "sparkling.batch_id";

/// The topic under which the exactly-once sink records, in the same transaction as the
/// rows, the last batch it committed (an offset of the transactional id's consumer
/// group on its partition 0), when the sink has no `topic` option (see
/// [`KafkaSink::exactly_once`]). Brokers that refuse offsets for topics that do not
/// exist need it created, with one partition.
pub const COMMIT_MARKER_TOPIC: &str = "sparkling-streams-batches";

/// Rows into Kafka records.
///
/// Each row becomes one record. The row gives its `value` (string or binary; or, with
/// [`KafkaSink::value_json`], the whole row as a JSON object) and optionally `key`
/// (string or binary), `topic` (string; the sink's [`KafkaSink::topic`] wins over it,
/// as in Spark),
/// `partition` (i32; else the producer's partitioner) and `headers` (the source's
/// list of `key`/`value` structs). Every record also carries the header
/// [`BATCH_ID_HEADER`].
///
/// **At least once** (the default, as Spark's Kafka sink): a batch replayed after a
/// crash is written again, so a consumer may see its rows twice; the batch-id header
/// tells the copies apart.
///
/// **Exactly once** ([`KafkaSink::exactly_once`]): each batch is written in one Kafka
/// transaction whose transactional id is derived from the query id. The same
/// transaction commits, as a consumer-group offset, the id of the batch; a replayed
/// batch whose transaction committed is skipped, one that did not is aborted (by the
/// broker, when the restarted producer fences the old one) and written again. A
/// consumer with `isolation.level = read_committed` sees every row exactly once.
///
/// ```no_run
/// use stream_core::kafka::KafkaSink;
/// let sink = KafkaSink::new("127.0.0.1:9092").topic("alerts").exactly_once(true);
/// # let _ = sink;
/// ```
pub struct KafkaSink {
    servers: String,
    topic: Option<String>,
    exactly_once: bool,
    value_json: bool,
    transactional_id: Option<String>,
    user_config: Vec<(String, String)>,
    request_timeout: Duration,
    open: Option<Open>,
}

struct Open {
    producer: Option<BaseProducer<Delivery>>,
    /// Exactly once: the transactional id, and the last batch whose transaction
    /// committed (read from the broker when the sink opens).
    transactional_id: Option<String>,
    committed: Option<u64>,
    /// Exactly once: a consumer of the transactional id's group.
    group: Option<KafkaConsumer>,
    columns: Columns,
    schema: SchemaRef,
}

/// Where each part of a record comes from.
#[derive(Clone, Debug, Default)]
struct Columns {
    value: Option<usize>,
    key: Option<usize>,
    topic: Option<usize>,
    partition: Option<usize>,
    headers: Option<usize>,
    /// With `value_json`: the columns the value object is made of.
    json: Vec<usize>,
}

/// Keeps the first delivery error of the records sent since it was last taken.
#[derive(Default)]
struct Delivery {
    failed: Mutex<Option<String>>,
}

impl ClientContext for Delivery {}

impl ProducerContext for Delivery {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        if let Err((e, m)) = result {
            let mut failed = self.failed.lock().unwrap_or_else(|p| p.into_inner());
            if failed.is_none() {
                *failed = Some(format!(
                    "a record to topic `{}` partition {} was not delivered: {e}",
                    rdkafka::Message::topic(m),
                    rdkafka::Message::partition(m)
                ));
            }
        }
    }
}

impl KafkaSink {
    /// A sink writing to the brokers `bootstrap_servers`.
    pub fn new(bootstrap_servers: impl Into<String>) -> Self {
        KafkaSink {
            servers: bootstrap_servers.into(),
            topic: None,
            exactly_once: false,
            value_json: false,
            transactional_id: None,
            user_config: Vec::new(),
            request_timeout: REQUEST_TIMEOUT,
            open: None,
        }
    }

    /// The topic of every record; without it, each row's `topic` column names its
    /// topic.
    pub fn topic(mut self, topic: impl Into<String>) -> Self {
        self.topic = Some(topic.into());
        self
    }

    /// One Kafka transaction per batch, committed with the batch: a `read_committed`
    /// consumer sees each row once, also across crashes and restarts.
    pub fn exactly_once(mut self, on: bool) -> Self {
        self.exactly_once = on;
        self
    }

    /// The transactional id of the exactly-once producer (default
    /// `sparkling-streams-<query id>`). Two queries must never share one.
    pub fn transactional_id(mut self, id: impl Into<String>) -> Self {
        self.transactional_id = Some(id.into());
        self
    }

    /// Writes each row, but its `key`, `topic`, `partition` and `headers` columns, as
    /// one JSON object in the record's value.
    pub fn value_json(mut self, on: bool) -> Self {
        self.value_json = on;
        self
    }

    /// A librdkafka setting of the producer: `compression.type`, `linger.ms`,
    /// `security.protocol`, ...; also as Spark's `kafka.`-prefixed option
    /// (`kafka.security.protocol`), whose prefix is dropped.
    pub fn option(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.user_config
            .push((super::client::setting_name(key.into()), value.into()));
        self
    }

    /// How long the sink waits for its records to be delivered, and for each
    /// transaction request, before the batch fails with an error (default 30 s): how
    /// soon a broker that went away is reported. The batch is then written again when
    /// the query restarts.
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    fn name(&self) -> String {
        self.description()
    }

    fn err(&self, batch_id: u64, message: impl std::fmt::Display) -> StreamError {
        StreamError::Sink {
            sink: self.name(),
            batch_id,
            message: message.to_string(),
        }
    }

    fn columns(&self, schema: &SchemaRef) -> Result<Columns> {
        let invalid =
            |message: String| StreamError::InvalidQuery(format!("the Kafka sink: {message}"));
        let find = |name: &str, types: &[&str]| -> Result<Option<usize>> {
            let Ok(i) = schema.index_of(name) else {
                return Ok(None);
            };
            let ty = schema.field(i).data_type();
            let ok = match name {
                "value" | "key" => matches!(
                    ty,
                    DataType::Utf8 | DataType::Binary | DataType::LargeUtf8 | DataType::LargeBinary
                ),
                "topic" => matches!(ty, DataType::Utf8),
                "partition" => matches!(ty, DataType::Int32),
                _ => ty == &super::headers_type(),
            };
            if ok {
                Ok(Some(i))
            } else {
                Err(invalid(format!(
                    "column `{name}` is {ty}, but a record's {name} takes {}",
                    types.join(" or ")
                )))
            }
        };
        let mut c = Columns {
            key: find("key", &["string", "binary"])?,
            topic: find("topic", &["string"])?,
            partition: find("partition", &["i32"])?,
            headers: find("headers", &["the source's headers list"])?,
            ..Columns::default()
        };
        if self.value_json {
            let skip = [c.key, c.topic, c.partition, c.headers];
            c.json = (0..schema.fields().len())
                .filter(|i| !skip.contains(&Some(*i)))
                .collect();
        } else {
            c.value = find("value", &["string", "binary"])?;
            if c.value.is_none() {
                return Err(invalid(
                    "the rows have no `value` column; select one, or write each row as JSON with `value_json`"
                        .into(),
                ));
            }
        }
        if c.topic.is_none() && self.topic.is_none() {
            return Err(invalid(
                "the rows have no `topic` column and the sink has no `topic`; give one of them"
                    .into(),
            ));
        }
        Ok(c)
    }

    fn producer(&self, transactional_id: Option<&str>) -> Result<BaseProducer<Delivery>> {
        let mut fixed: Vec<(&str, &str)> = Vec::new();
        if let Some(id) = transactional_id {
            fixed.push(("transactional.id", id));
            fixed.push(("enable.idempotence", "true"));
        }
        let cfg = config(&self.servers, &self.user_config, &fixed)?;
        let producer: BaseProducer<Delivery> = cfg
            .create_with_context(Delivery::default())
            .map_err(|e| self.err(0, format!("cannot create a Kafka producer: {e}")))?;
        if transactional_id.is_some() {
            producer
                .init_transactions(Timeout::After(self.request_timeout))
                .map_err(|e| {
                    self.err(0, format!("cannot start the producer's transactions: {e}"))
                })?;
        }
        Ok(producer)
    }

    /// The topic-partition whose offset, in the transactional id's consumer group,
    /// records the last committed batch.
    fn marker_topic(&self) -> &str {
        self.topic.as_deref().unwrap_or(COMMIT_MARKER_TOPIC)
    }

    /// A consumer of the transactional id's consumer group (never joined: it only
    /// reads the group's committed offsets and gives its metadata to transactions).
    fn group_consumer(&self, transactional_id: &str) -> Result<KafkaConsumer> {
        let cfg = config(
            &self.servers,
            &self.user_config,
            &[
                ("group.id", transactional_id),
                ("enable.auto.commit", "false"),
            ],
        )?;
        cfg.create_with_context(ClientErrors::default())
            .map_err(|e| self.err(0, format!("cannot create a Kafka consumer: {e}")))
    }

    /// The last batch whose transaction committed, from the broker.
    ///
    /// A broker whose group coordinator is still loading, or moving, says so
    /// (`NOT_COORDINATOR`, `COORDINATOR_LOAD_IN_PROGRESS`, `COORDINATOR_NOT_AVAILABLE`)
    /// until it is ready, as a broker does just after it started: that is asked again
    /// until `request_timeout` has passed.
    fn committed_batch(&self, group: &KafkaConsumer) -> Result<Option<u64>> {
        let mut list = rdkafka::TopicPartitionList::new();
        list.add_partition(self.marker_topic(), 0);
        let deadline = std::time::Instant::now() + self.request_timeout;
        let found = loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match group.committed_offsets(list.clone(), Timeout::After(left)) {
                Ok(found) => break found,
                Err(e)
                    if matches!(
                        e.rdkafka_error_code(),
                        Some(
                            RDKafkaErrorCode::NotCoordinator
                                | RDKafkaErrorCode::CoordinatorLoadInProgress
                                | RDKafkaErrorCode::CoordinatorNotAvailable
                        )
                    ) && !left.is_zero() =>
                {
                    std::thread::sleep(Duration::from_millis(100).min(left));
                }
                Err(e) => {
                    return Err(self.err(
                        0,
                        format!(
                            "cannot read the last committed batch: {e}{}",
                            super::client::consumer_said(group)
                        ),
                    ));
                }
            }
        };
        let at = found
            .find_partition(self.marker_topic(), 0)
            .map(|e| e.offset());
        Ok(match at {
            Some(rdkafka::Offset::Offset(n)) if n > 0 => Some(n as u64 - 1),
            _ => None,
        })
    }

    fn send_rows(
        &self,
        open: &Open,
        producer: &BaseProducer<Delivery>,
        batch_id: u64,
        batch: &RecordBatch,
    ) -> Result<()> {
        let c = &open.columns;
        let json_values = if self.value_json {
            Some(json_lines(batch, &c.json).map_err(|e| self.err(batch_id, e))?)
        } else {
            None
        };
        let bytes =
            |i: Option<usize>| -> Option<Bytes<'_>> { i.map(|i| Bytes::of(batch.column(i))) };
        let value = bytes(c.value);
        let key = bytes(c.key);
        let topic = c.topic.map(|i| batch.column(i).as_string::<i32>());
        let partition = c.partition.map(|i| {
            batch
                .column(i)
                .as_primitive::<arrow_array::types::Int32Type>()
        });
        let headers = c.headers.map(|i| batch.column(i).as_list::<i32>());
        let batch_text = batch_id.to_string();
        for row in 0..batch.num_rows() {
            // as in Spark, the sink's `topic` option wins over the rows' column
            let topic_name = match (&self.topic, topic) {
                (Some(t), _) => t.as_str(),
                (None, Some(t)) if t.is_valid(row) => t.value(row),
                (None, _) => {
                    return Err(self.err(
                        batch_id,
                        format!("row {row} has a null `topic` and the sink has no `topic`"),
                    ));
                }
            };
            let mut record_headers = OwnedHeaders::new().insert(Header {
                key: BATCH_ID_HEADER,
                value: Some(batch_text.as_bytes()),
            });
            if let Some(h) = headers
                && h.is_valid(row)
            {
                let entries = h.value(row);
                let entries = entries.as_struct();
                let keys = entries.column(0).as_string::<i32>();
                let values = entries.column(1).as_binary::<i32>();
                for j in 0..entries.len() {
                    record_headers = record_headers.insert(Header {
                        key: keys.value(j),
                        value: values.is_valid(j).then(|| values.value(j)),
                    });
                }
            }
            let payload: Option<&[u8]> = match &json_values {
                Some(lines) => Some(lines[row].as_bytes()),
                None => value.as_ref().and_then(|v| v.get(row)),
            };
            let mut record: BaseRecord<'_, [u8], [u8], ()> =
                BaseRecord::to(topic_name).headers(record_headers);
            if let Some(p) = payload {
                record = record.payload(p);
            }
            if let Some(k) = key.as_ref().and_then(|k| k.get(row)) {
                record = record.key(k);
            }
            if let Some(p) = partition
                && p.is_valid(row)
            {
                record = record.partition(p.value(row));
            }
            let mut record = record;
            loop {
                match producer.send(record) {
                    Ok(()) => break,
                    Err((
                        rdkafka::error::KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull),
                        back,
                    )) => {
                        record = back;
                        producer.poll(Duration::from_millis(10));
                    }
                    Err((e, _)) => {
                        return Err(self.err(
                            batch_id,
                            format!("cannot send row {row} to topic `{topic_name}`: {e}"),
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    fn take_delivery_error(producer: &BaseProducer<Delivery>) -> Option<String> {
        producer
            .context()
            .failed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
    }

    fn write_transaction(
        &self,
        open: &Open,
        producer: &BaseProducer<Delivery>,
        batch: &SinkBatch<'_>,
    ) -> Result<()> {
        let id = batch.batch_id;
        let timeout = Timeout::After(self.request_timeout);
        producer
            .begin_transaction()
            .map_err(|e| self.err(id, format!("cannot begin the batch's transaction: {e}")))?;
        let written = (|| {
            for b in &batch.batches {
                self.send_rows(open, producer, id, b)?;
            }
            batch.fault_point_mid_write()?;
            let mut marker = rdkafka::TopicPartitionList::new();
            marker
                .add_partition_offset(
                    self.marker_topic(),
                    0,
                    rdkafka::Offset::Offset(id as i64 + 1),
                )
                .map_err(|e| self.err(id, e))?;
            let group = self.group_metadata(open)?;
            producer
                .send_offsets_to_transaction(&marker, &group, timeout)
                .map_err(|e| {
                    self.err(
                        id,
                        format!("cannot record the batch in its transaction: {e}"),
                    )
                })?;
            producer
                .commit_transaction(timeout)
                .map_err(|e| self.err(id, format!("cannot commit the batch's transaction: {e}")))?;
            match Self::take_delivery_error(producer) {
                Some(e) => Err(self.err(id, e)),
                None => Ok(()),
            }
        })();
        if written.is_err() {
            // the rows of an aborted transaction are never shown to read_committed
            // consumers; if the abort itself fails, the restarted producer's fencing
            // aborts it
            let _ = producer.abort_transaction(timeout);
        }
        written
    }

    fn group_metadata(&self, open: &Open) -> Result<rdkafka::consumer::ConsumerGroupMetadata> {
        open.group
            .as_ref()
            .and_then(Consumer::group_metadata)
            .ok_or_else(|| self.err(0, "the transactional id's consumer group has no metadata"))
    }
}

/// A string or binary column's values as bytes.
enum Bytes<'a> {
    Utf8(&'a arrow_array::StringArray),
    LargeUtf8(&'a arrow_array::LargeStringArray),
    Binary(&'a arrow_array::BinaryArray),
    LargeBinary(&'a arrow_array::LargeBinaryArray),
}

impl<'a> Bytes<'a> {
    fn of(column: &'a ArrayRef) -> Self {
        match column.data_type() {
            DataType::Utf8 => Bytes::Utf8(column.as_string::<i32>()),
            DataType::LargeUtf8 => Bytes::LargeUtf8(column.as_string::<i64>()),
            DataType::LargeBinary => Bytes::LargeBinary(column.as_binary::<i64>()),
            _ => Bytes::Binary(column.as_binary::<i32>()),
        }
    }

    fn get(&self, row: usize) -> Option<&'a [u8]> {
        match self {
            Bytes::Utf8(a) => a.is_valid(row).then(|| a.value(row).as_bytes()),
            Bytes::LargeUtf8(a) => a.is_valid(row).then(|| a.value(row).as_bytes()),
            Bytes::Binary(a) => a.is_valid(row).then(|| a.value(row)),
            Bytes::LargeBinary(a) => a.is_valid(row).then(|| a.value(row)),
        }
    }
}

/// Each row of `columns` as one JSON object (nulls left out, as Spark's `to_json`).
fn json_lines(batch: &RecordBatch, columns: &[usize]) -> std::result::Result<Vec<String>, String> {
    let projected = batch.project(columns).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    {
        let mut writer = arrow_json::LineDelimitedWriter::new(&mut out);
        writer.write(&projected).map_err(|e| e.to_string())?;
        writer.finish().map_err(|e| e.to_string())?;
    }
    let text = String::from_utf8(out).map_err(|e| e.to_string())?;
    Ok(text.lines().map(str::to_string).collect())
}

impl Sink for KafkaSink {
    fn description(&self) -> String {
        format!(
            "KafkaSink[{}{}]",
            self.topic.as_deref().unwrap_or("topic column"),
            if self.exactly_once {
                ", exactly once"
            } else {
                ""
            }
        )
    }

    /// Rows are written as they come in every mode (as Spark's Kafka sink): in update
    /// and complete mode a consumer sees each changed or every row of each batch.
    fn supports(&self, _mode: OutputMode) -> bool {
        true
    }

    fn open(&mut self, ctx: &SinkContext) -> Result<()> {
        let columns = self.columns(&ctx.schema)?;
        let transactional_id = self.exactly_once.then(|| {
            self.transactional_id
                .clone()
                .unwrap_or_else(|| format!("sparkling-streams-{}", ctx.query_id))
        });
        let group = match &transactional_id {
            Some(id) => Some(self.group_consumer(id)?),
            None => None,
        };
        let committed = match &group {
            Some(g) => self.committed_batch(g)?,
            None => None,
        };
        let producer = self.producer(transactional_id.as_deref())?;
        if let Some(n) = committed {
            tracing::info!(batch = n, "Kafka sink: the last batch committed in Kafka");
        }
        self.open = Some(Open {
            producer: Some(producer),
            transactional_id,
            committed,
            group,
            columns,
            schema: ctx.schema.clone(),
        });
        Ok(())
    }

    fn add_batch(&mut self, batch: SinkBatch<'_>) -> Result<()> {
        let id = batch.batch_id;
        let mut open = self
            .open
            .take()
            .ok_or_else(|| self.err(id, "the sink was not opened"))?;
        let result = self.add_batch_open(&mut open, &batch);
        self.open = Some(open);
        result
    }

    fn close(&mut self) {
        if let Some(open) = &self.open
            && let Some(p) = &open.producer
        {
            let _ = p.flush(Timeout::After(self.request_timeout));
        }
        self.open = None;
    }
}

impl KafkaSink {
    fn add_batch_open(&self, open: &mut Open, batch: &SinkBatch<'_>) -> Result<()> {
        let id = batch.batch_id;
        if batch.schema.fields() != open.schema.fields() {
            return Err(self.err(
                id,
                "the batch's columns are not the ones the sink was opened with",
            ));
        }
        if open.transactional_id.is_some() {
            if open.committed.is_some_and(|c| id <= c) {
                tracing::info!(
                    batch = id,
                    "Kafka sink: the batch's transaction committed before; not written again"
                );
                return Ok(());
            }
            if open.producer.is_none() {
                // the last transaction failed: a new producer fences the old one and
                // makes sure its transaction is aborted
                open.producer = Some(self.producer(open.transactional_id.as_deref())?);
            }
            let producer = open.producer.as_ref().expect("made above");
            match self.write_transaction(open, producer, batch) {
                Ok(()) => {
                    open.committed = Some(id);
                    Ok(())
                }
                Err(e) => {
                    open.producer = None;
                    Err(e)
                }
            }
        } else {
            let producer = match &open.producer {
                Some(p) => p,
                None => {
                    open.producer = Some(self.producer(None)?);
                    open.producer.as_ref().expect("made above")
                }
            };
            for b in &batch.batches {
                self.send_rows(open, producer, id, b)?;
                batch.fault_point_mid_write()?;
            }
            producer
                .flush(Timeout::After(self.request_timeout))
                .map_err(|e| self.err(id, format!("the records were not all delivered: {e}")))?;
            match Self::take_delivery_error(producer) {
                Some(e) => Err(self.err(id, e)),
                None => Ok(()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use arrow_array::{Int32Array, StringArray};
    use arrow_schema::{Field, Schema};

    fn schema(fields: &[(&str, DataType)]) -> SchemaRef {
        Arc::new(Schema::new(
            fields
                .iter()
                .map(|(n, t)| Field::new(*n, t.clone(), true))
                .collect::<Vec<_>>(),
        ))
    }

    /// The exactly-once protocol (init, begin, send, the batch marker, commit) through
    /// librdkafka's own mock broker, without a broker process (the Kafka tests run it end
    /// to end against Apache Kafka). The mock keeps neither transaction
    /// markers nor transactional offsets, so what a read_committed consumer sees and
    /// the marker read after a restart are not checked here.
    #[test]
    fn exactly_once_runs_the_transaction_protocol_on_librdkafkas_mock_broker() {
        use rdkafka::consumer::BaseConsumer;

        let mock = rdkafka::mocking::MockCluster::new(1).unwrap();
        mock.create_topic("out", 1, 1).unwrap();
        let servers = mock.bootstrap_servers();
        let s = schema(&[("value", DataType::Utf8)]);
        let mut sink = KafkaSink::new(servers.clone())
            .topic("out")
            .exactly_once(true);
        sink.open(&SinkContext {
            query_id: "q1".into(),
            query_name: None,
            checkpoint_dir: std::path::PathBuf::from("/nonexistent"),
            output_mode: OutputMode::Append,
            schema: s.clone(),
            clock: Arc::new(crate::ManualClock::new(0)),
        })
        .unwrap();
        let faults = crate::fault::Faults::default();
        let batch = |id: u64, values: Vec<&str>| SinkBatch {
            batch_id: id,
            output_mode: OutputMode::Append,
            schema: s.clone(),
            batches: vec![
                RecordBatch::try_new(s.clone(), vec![Arc::new(StringArray::from(values))]).unwrap(),
            ],
            faults: &faults,
        };
        sink.add_batch(batch(0, vec!["a", "b"])).unwrap();
        sink.add_batch(batch(1, vec!["c"])).unwrap();
        // batch 1 again, as after a crash between the Kafka commit and commits/1
        sink.add_batch(batch(1, vec!["c"])).unwrap();
        sink.close();
        let consumer: BaseConsumer = rdkafka::ClientConfig::new()
            .set("bootstrap.servers", &servers)
            .set("group.id", "check")
            .create()
            .unwrap();
        let (_, high) = consumer
            .fetch_watermarks("out", 0, Timeout::After(REQUEST_TIMEOUT))
            .unwrap();
        assert_eq!(
            high, 3,
            "two transactions of 2 and 1 records; the replay was skipped"
        );
    }

    #[test]
    fn the_rows_need_a_value_and_a_topic() {
        let s = schema(&[("key", DataType::Utf8)]);
        let e = KafkaSink::new("b")
            .topic("t")
            .columns(&s)
            .unwrap_err()
            .to_string();
        assert!(e.contains("no `value` column"), "{e}");
        let s = schema(&[("value", DataType::Utf8)]);
        let e = KafkaSink::new("b").columns(&s).unwrap_err().to_string();
        assert!(e.contains("no `topic` column"), "{e}");
        let s = schema(&[("value", DataType::Int64)]);
        let e = KafkaSink::new("b")
            .topic("t")
            .columns(&s)
            .unwrap_err()
            .to_string();
        assert!(e.contains("column `value` is Int64"), "{e}");
    }

    #[test]
    fn value_json_leaves_out_the_record_columns() {
        let s = schema(&[
            ("key", DataType::Utf8),
            ("n", DataType::Int32),
            ("topic", DataType::Utf8),
        ]);
        let c = KafkaSink::new("b").value_json(true).columns(&s).unwrap();
        assert_eq!(c.json, [1]);
        let batch = RecordBatch::try_new(
            s,
            vec![
                Arc::new(StringArray::from(vec!["k1", "k2"])),
                Arc::new(Int32Array::from(vec![Some(7), None])),
                Arc::new(StringArray::from(vec!["t", "t"])),
            ],
        )
        .unwrap();
        assert_eq!(json_lines(&batch, &c.json).unwrap(), [r#"{"n":7}"#, "{}"]);
    }
}
