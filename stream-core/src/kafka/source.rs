//! `KafkaSource`: rows from Kafka topics, replayable from offsets kept in the query's
//! own checkpoint (never from consumer-group commits), as Spark's Kafka source.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow_array::{Array, ArrayRef, BinaryArray, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use rdkafka::consumer::Consumer;
use rdkafka::util::Timeout;

use super::client::{ClientErrors, KafkaConsumer, REQUEST_TIMEOUT, config, source_error};
use super::decode::ValueJson;
use super::offsets::{EARLIEST, LATEST, PartitionOffsets, TopicPartition};
use super::rows::{RowsBuilder, metadata_fields};
use crate::source::{ReadLimit, Source, SourceContext};
use crate::{MetadataLog, Offset, ParseMode, Result, StreamError};

/// Which partitions the source reads: Spark's `subscribe`, `subscribePattern` and
/// `assign`, exactly one of them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Subscription {
    /// These topics, every partition of each, new partitions included.
    Topics(Vec<String>),
    /// Every topic whose whole name matches this regular expression, new topics
    /// included.
    Pattern(String),
    /// Exactly these partitions.
    Partitions(Vec<TopicPartition>),
}

/// Where a query reads from on its first start (a restart always resumes from its
/// checkpoint): Spark's `startingOffsets`, `startingTimestamp` and
/// `startingOffsetsByTimestamp`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum StartingOffsets {
    /// The earliest offset of each partition.
    Earliest,
    /// The latest: only records written after the query starts.
    #[default]
    Latest,
    /// An offset per partition; `-2` stands for earliest and `-1` for latest. Every
    /// partition the subscription reads must be named.
    Offsets(PartitionOffsets),
    /// The first offset whose timestamp is at or after this time (ms since the epoch)
    /// in every partition; latest where there is none.
    Timestamp(i64),
    /// The same, with a time per partition (the values are ms since the epoch).
    Timestamps(PartitionOffsets),
}

impl StartingOffsets {
    /// Reads Spark's option text: `earliest`, `latest` or a JSON object of offsets.
    ///
    /// ```
    /// use stream_core::kafka::StartingOffsets;
    /// assert_eq!(StartingOffsets::parse("earliest").unwrap(), StartingOffsets::Earliest);
    /// assert!(matches!(StartingOffsets::parse(r#"{"t":{"0":5}}"#).unwrap(), StartingOffsets::Offsets(_)));
    /// assert!(StartingOffsets::parse("yesterday").is_err());
    /// ```
    pub fn parse(text: &str) -> Result<Self> {
        match text.trim() {
            "earliest" => Ok(StartingOffsets::Earliest),
            "latest" => Ok(StartingOffsets::Latest),
            json if json.starts_with('{') => {
                PartitionOffsets::parse(json).map(StartingOffsets::Offsets)
            }
            other => Err(StreamError::InvalidOption {
                name: "starting_offsets".into(),
                message: format!(
                    "`{other}` is neither `earliest`, `latest` nor a JSON object of offsets"
                ),
            }),
        }
    }
}

/// Rows from Kafka.
///
/// Each batch's offsets (the next offset of every partition, Spark's JSON shape) are
/// written to the query's offset log before the batch runs; a restart resumes from
/// there and a replayed batch reads exactly the same records. Consumer groups are not
/// used: the source assigns partitions itself and commits nothing to Kafka.
///
/// Columns: `key` and `value` (binary, nullable), `topic`, `partition` (i32), `offset`
/// (i64), `timestamp` (µs, UTC), `timestamp_type` (i32: 0 create time, 1 log-append
/// time) and, with [`KafkaSource::include_headers`], `headers` (a list of `key`/`value`
/// structs). With [`KafkaSource::value_json`] the value is decoded into the declared
/// columns, which take its place at the front.
///
/// ```no_run
/// use stream_core::kafka::{KafkaSource, StartingOffsets};
/// let source = KafkaSource::new("127.0.0.1:9092")
///     .subscribe(["events"])
///     .starting_offsets(StartingOffsets::Earliest)
///     .max_offsets_per_trigger(10_000);
/// # let _ = source;
/// ```
pub struct KafkaSource {
    servers: String,
    subscription: Option<Subscription>,
    subscriptions_given: usize,
    starting: StartingOffsets,
    max_offsets_per_trigger: Option<u64>,
    min_partitions: Option<usize>,
    fail_on_data_loss: bool,
    include_headers: bool,
    value: Option<(SchemaRef, ParseMode)>,
    user_config: Vec<(String, String)>,
    poll_timeout: Duration,
    request_timeout: Duration,
    schema: SchemaRef,
    running: Option<Running>,
    metrics: BTreeMap<String, String>,
}

struct Running {
    /// For metadata and watermarks.
    meta: KafkaConsumer,
    log: MetadataLog,
    initial: Option<PartitionOffsets>,
    pattern: Option<regex::Regex>,
    value: Option<ValueJson>,
    /// The end of what is available now, for `Trigger::AvailableNow`.
    available_now: Option<PartitionOffsets>,
    /// The latest offsets seen by the last `latest_offset` (for the lag metrics).
    latest: PartitionOffsets,
    /// The earliest offsets the last `latest_offset` saw, for the `read` of the range it
    /// planned (taken by it: a replay after a restart asks the brokers again).
    earliest: PartitionOffsets,
}

impl KafkaSource {
    /// Spark's source metric: the smallest number of offsets a partition is behind
    /// the latest after the batch.
    pub const METRIC_MIN_OFFSETS_BEHIND: &'static str = "minOffsetsBehindLatest";
    /// The largest number of offsets a partition is behind the latest.
    pub const METRIC_MAX_OFFSETS_BEHIND: &'static str = "maxOffsetsBehindLatest";
    /// The mean number of offsets the partitions are behind the latest.
    pub const METRIC_AVG_OFFSETS_BEHIND: &'static str = "avgOffsetsBehindLatest";
    /// Records whose value did not decode and were dropped ([`ParseMode::DropMalformed`]).
    pub const METRIC_MALFORMED_ROWS_DROPPED: &'static str = "numMalformedRowsDropped";
    /// Records whose value did not decode and were kept as nulls ([`ParseMode::Permissive`]).
    pub const METRIC_CORRUPT_RECORDS: &'static str = "numCorruptRecords";
    /// Offsets of the batch's ranges whose records were no longer in Kafka (removed by
    /// retention or `DeleteRecords`, or of a deleted partition) and were skipped, with
    /// `fail_on_data_loss = false`; with it on they fail the batch instead. Not a Spark
    /// metric: Spark only logs the skip.
    pub const METRIC_OFFSETS_LOST: &'static str = "numOffsetsLost";

    /// A source reading from the brokers `bootstrap_servers` (`host:port,host:port`).
    /// Choose what it reads with [`KafkaSource::subscribe`],
    /// [`KafkaSource::subscribe_pattern`] or [`KafkaSource::assign`].
    pub fn new(bootstrap_servers: impl Into<String>) -> Self {
        KafkaSource {
            servers: bootstrap_servers.into(),
            subscription: None,
            subscriptions_given: 0,
            starting: StartingOffsets::default(),
            max_offsets_per_trigger: None,
            min_partitions: None,
            fail_on_data_loss: true,
            include_headers: false,
            value: None,
            user_config: Vec::new(),
            poll_timeout: Duration::from_secs(60),
            request_timeout: REQUEST_TIMEOUT,
            schema: Self::output_schema(None, false),
            running: None,
            metrics: BTreeMap::new(),
        }
    }

    /// Reads every partition of these topics (Spark's `subscribe`), also partitions
    /// added while the query runs.
    pub fn subscribe<I, S>(mut self, topics: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.subscriptions_given += 1;
        self.subscription = Some(Subscription::Topics(
            topics.into_iter().map(Into::into).collect(),
        ));
        self
    }

    /// Reads every topic whose name matches `pattern`, a regular expression over the
    /// whole name (Spark's `subscribePattern`); topics created later are picked up.
    pub fn subscribe_pattern(mut self, pattern: impl Into<String>) -> Self {
        self.subscriptions_given += 1;
        self.subscription = Some(Subscription::Pattern(pattern.into()));
        self
    }

    /// Reads exactly these partitions (Spark's `assign`).
    pub fn assign(mut self, partitions: impl IntoIterator<Item = TopicPartition>) -> Self {
        self.subscriptions_given += 1;
        self.subscription = Some(Subscription::Partitions(partitions.into_iter().collect()));
        self
    }

    /// Spark's `assign` as its JSON text, `{"events":[0,1]}`.
    ///
    /// ```
    /// let s = stream_core::kafka::KafkaSource::new("b:9092").assign_json(r#"{"a":[0,2]}"#).unwrap();
    /// # let _ = s;
    /// assert!(stream_core::kafka::KafkaSource::new("b:9092").assign_json("[0]").is_err());
    /// ```
    pub fn assign_json(self, json: &str) -> Result<Self> {
        let parsed: BTreeMap<String, Vec<i32>> =
            serde_json::from_str(json).map_err(|e| StreamError::InvalidOption {
                name: "assign".into(),
                message: format!(
                    "`{json}` is not a JSON object of topics to partition lists, like {{\"events\":[0,1]}}: {e}"
                ),
            })?;
        Ok(self.assign(parsed.into_iter().flat_map(|(t, ps)| {
            ps.into_iter()
                .map(move |p| TopicPartition::new(t.clone(), p))
        })))
    }

    /// Where the first start reads from (default: latest).
    pub fn starting_offsets(mut self, starting: StartingOffsets) -> Self {
        self.starting = starting;
        self
    }

    /// At most this many offsets per trigger, split over the partitions in proportion
    /// to how far behind each is (Spark's `maxOffsetsPerTrigger`).
    pub fn max_offsets_per_trigger(mut self, n: u64) -> Self {
        self.max_offsets_per_trigger = Some(n);
        self
    }

    /// Reads each batch in at least this many ranges, at the same time, splitting the
    /// offset ranges of large partitions (Spark's `minPartitions`).
    pub fn min_partitions(mut self, n: usize) -> Self {
        self.min_partitions = Some(n);
        self
    }

    /// Whether a partition that disappeared (its topic deleted) or offsets that are no
    /// longer there (retention) stop the query with an error (the default), or are
    /// logged and skipped.
    pub fn fail_on_data_loss(mut self, fail: bool) -> Self {
        self.fail_on_data_loss = fail;
        self
    }

    /// Adds the `headers` column (Spark's `includeHeaders`).
    pub fn include_headers(mut self, include: bool) -> Self {
        self.include_headers = include;
        self.schema = Self::output_schema(self.value.as_ref().map(|(s, _)| s), include);
        self
    }

    /// Decodes each value as one JSON object into `schema`'s columns, which replace
    /// `value`; a value that does not decode is handled by `mode`, as a malformed line
    /// of the JSON file source (its topic, partition and offset in the error).
    pub fn value_json(mut self, schema: SchemaRef, mode: ParseMode) -> Self {
        self.schema = Self::output_schema(Some(&schema), self.include_headers);
        self.value = Some((schema, mode));
        self
    }

    /// A librdkafka setting of the consumers: `security.protocol`, `sasl.mechanism`,
    /// `isolation.level`, ...; also as Spark's `kafka.`-prefixed option
    /// (`kafka.security.protocol`), whose prefix is dropped.
    pub fn option(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.user_config
            .push((super::client::setting_name(key.into()), value.into()));
        self
    }

    /// How long a read waits for records it knows are there before it fails (default
    /// 60 s; Spark's `kafkaConsumer.pollTimeoutMs`).
    pub fn poll_timeout(mut self, timeout: Duration) -> Self {
        self.poll_timeout = timeout;
        self
    }

    /// How long a request for metadata or offsets may take before the trigger fails
    /// with an error naming what it asked for (default 30 s): how soon a broker that
    /// went away is reported.
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// The columns of a source that decodes values into `value` (or keeps them raw).
    ///
    /// ```
    /// let s = stream_core::kafka::KafkaSource::output_schema(None, false);
    /// let names: Vec<_> = s.fields().iter().map(|f| f.name().as_str()).collect();
    /// assert_eq!(names, ["key", "value", "topic", "partition", "offset", "timestamp", "timestamp_type"]);
    /// ```
    pub fn output_schema(value: Option<&SchemaRef>, include_headers: bool) -> SchemaRef {
        let mut fields: Vec<Field> = Vec::new();
        match value {
            Some(schema) => {
                fields.extend(schema.fields().iter().map(|f| f.as_ref().clone()));
                fields.push(Field::new("key", DataType::Binary, true));
            }
            None => {
                fields.push(Field::new("key", DataType::Binary, true));
                fields.push(Field::new("value", DataType::Binary, true));
            }
        }
        fields.extend(metadata_fields(include_headers));
        Arc::new(Schema::new(fields))
    }

    fn what(&self) -> String {
        match &self.subscription {
            Some(Subscription::Topics(t)) => format!("Subscribe[{}]", t.join(",")),
            Some(Subscription::Pattern(p)) => format!("SubscribePattern[{p}]"),
            Some(Subscription::Partitions(ps)) => format!(
                "Assign[{}]",
                ps.iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(",")
            ),
            None => "no subscription".into(),
        }
    }

    fn err(&self, message: impl std::fmt::Display) -> StreamError {
        source_error(&self.what(), message)
    }

    fn consumer(&self) -> Result<KafkaConsumer> {
        let fixed = [
            ("enable.auto.commit", "false"),
            ("enable.auto.offset.store", "false"),
            ("enable.partition.eof", "true"),
            ("auto.offset.reset", "error"),
        ];
        let mut cfg = config(&self.servers, &self.user_config, &fixed)?;
        if !self.user_config.iter().any(|(k, _)| k == "group.id") {
            // never joined nor committed to: assign() is used, not subscribe()
            cfg.set(
                "group.id",
                format!("sparkling-streams-source-{}", uuid::Uuid::new_v4()),
            );
        }
        cfg.create_with_context(ClientErrors::default())
            .map_err(|e| self.err(format!("cannot create a Kafka consumer: {e}")))
    }

    fn running(&mut self) -> Result<&mut Running> {
        let what = self.what();
        self.running
            .as_mut()
            .ok_or_else(|| source_error(&what, "the source was not opened"))
    }

    /// The partitions the subscription covers now.
    fn partitions(&self, running: &Running) -> Result<Vec<TopicPartition>> {
        let meta = running
            .meta
            .fetch_metadata(None, Timeout::After(self.request_timeout))
            .map_err(|e| {
                self.err(format!(
                    "cannot fetch the brokers' metadata: {e}{}",
                    super::client::consumer_said(&running.meta)
                ))
            })?;
        let mut out = Vec::new();
        for topic in meta.topics() {
            let name = topic.name();
            let wanted = match &self.subscription {
                Some(Subscription::Topics(ts)) => ts.iter().any(|t| t == name),
                Some(Subscription::Pattern(_)) => {
                    running.pattern.as_ref().is_some_and(|p| p.is_match(name))
                }
                Some(Subscription::Partitions(ps)) => ps.iter().any(|tp| tp.topic == name),
                None => false,
            };
            if !wanted || topic.error().is_some() {
                continue;
            }
            for p in topic.partitions() {
                let tp = TopicPartition::new(name, p.id());
                if let Some(Subscription::Partitions(ps)) = &self.subscription
                    && !ps.contains(&tp)
                {
                    continue;
                }
                out.push(tp);
            }
        }
        out.sort();
        Ok(out)
    }

    fn watermarks(&self, running: &Running, tp: &TopicPartition) -> Result<(i64, i64)> {
        running
            .meta
            .fetch_watermarks(
                &tp.topic,
                tp.partition,
                Timeout::After(self.request_timeout),
            )
            .map_err(|e| {
                self.err(format!(
                    "cannot fetch the offsets of {tp}: {e}{}",
                    super::client::consumer_said(&running.meta)
                ))
            })
    }

    /// Resolves the starting offsets against the partitions there are now.
    fn resolve_initial(&self, running: &Running) -> Result<PartitionOffsets> {
        let partitions = self.partitions(running)?;
        let mut out = PartitionOffsets::default();
        match &self.starting {
            StartingOffsets::Earliest | StartingOffsets::Latest => {
                for tp in &partitions {
                    let (low, high) = self.watermarks(running, tp)?;
                    let at = if self.starting == StartingOffsets::Earliest {
                        low
                    } else {
                        high
                    };
                    out.insert(tp, at);
                }
            }
            StartingOffsets::Offsets(given) => {
                if let Some(Subscription::Partitions(_) | Subscription::Topics(_)) =
                    &self.subscription
                {
                    let missing: Vec<String> = partitions
                        .iter()
                        .filter(|tp| given.get(tp).is_none())
                        .map(ToString::to_string)
                        .collect();
                    if !missing.is_empty() {
                        return Err(StreamError::InvalidOption {
                            name: "starting_offsets".into(),
                            message: format!(
                                "it names no offset for {}; give every partition one (-2 earliest, -1 latest)",
                                missing.join(", ")
                            ),
                        });
                    }
                }
                for (tp, at) in given.iter() {
                    if !partitions.contains(&tp) {
                        return Err(StreamError::InvalidOption {
                            name: "starting_offsets".into(),
                            message: format!("partition {tp} is not one the source reads"),
                        });
                    }
                    let (low, high) = self.watermarks(running, &tp)?;
                    let at = match at {
                        EARLIEST => low,
                        LATEST => high,
                        n if n < 0 => {
                            return Err(StreamError::InvalidOption {
                                name: "starting_offsets".into(),
                                message: format!(
                                    "offset {n} of {tp} is negative and neither -2 nor -1"
                                ),
                            });
                        }
                        n => n,
                    };
                    out.insert(&tp, at);
                }
            }
            StartingOffsets::Timestamp(ms) => {
                let times: Vec<(TopicPartition, i64)> =
                    partitions.iter().map(|tp| (tp.clone(), *ms)).collect();
                out = self.offsets_for_times(running, &times)?;
            }
            StartingOffsets::Timestamps(given) => {
                let times: Vec<(TopicPartition, i64)> = given.iter().collect();
                out = self.offsets_for_times(running, &times)?;
            }
        }
        Ok(out)
    }

    fn offsets_for_times(
        &self,
        running: &Running,
        times: &[(TopicPartition, i64)],
    ) -> Result<PartitionOffsets> {
        let mut list = rdkafka::TopicPartitionList::new();
        for (tp, ms) in times {
            list.add_partition_offset(&tp.topic, tp.partition, rdkafka::Offset::Offset(*ms))
                .map_err(|e| self.err(e))?;
        }
        let found = running
            .meta
            .offsets_for_times(list, Timeout::After(self.request_timeout))
            .map_err(|e| self.err(format!("cannot look offsets up by timestamp: {e}")))?;
        let mut out = PartitionOffsets::default();
        for e in found.elements() {
            let tp = TopicPartition::new(e.topic(), e.partition());
            let at = match e.offset() {
                rdkafka::Offset::Offset(n) => n,
                // no record at or after the time: start at the end
                _ => self.watermarks(running, &tp)?.1,
            };
            out.insert(&tp, at);
        }
        Ok(out)
    }

    /// The offsets the first batch starts from: kept in the source's log, so that a
    /// restart before the first batch commits reads the same range (as Spark keeps
    /// `initialOffsets`).
    fn initial(&mut self) -> Result<PartitionOffsets> {
        if let Some(i) = self.running()?.initial.clone() {
            return Ok(i);
        }
        let running = self.running.as_ref().expect("checked above");
        let path = running.log.path(0);
        let initial = match running.log.get(0)? {
            Some(lines) => {
                let line = lines.first().map_or("", String::as_str);
                serde_json::from_str::<PartitionOffsets>(line).map_err(|e| {
                    StreamError::corrupt(
                        &path,
                        format!("the starting offsets cannot be parsed: {e}"),
                    )
                })?
            }
            None => {
                let resolved = self.resolve_initial(running)?;
                running.log.add(0, &[resolved.json()])?;
                tracing::info!(offsets = %resolved.json(), "Kafka source: starting offsets");
                resolved
            }
        };
        self.running()?.initial = Some(initial.clone());
        Ok(initial)
    }

    fn data_loss(&self, message: String) -> Result<()> {
        if self.fail_on_data_loss {
            Err(self.err(format!(
                "{message}; some data may have been lost (set `fail_on_data_loss = false` to log this and go on)"
            )))
        } else {
            tracing::warn!(source = %self.what(), "{message}; some data may have been lost");
            Ok(())
        }
    }

    /// Splits ranges so that there are at least `min_partitions` of them, each large
    /// range into pieces of about equal size (Spark's `KafkaOffsetRangeCalculator`).
    fn split(&self, ranges: Vec<Range>) -> Vec<Range> {
        let Some(min) = self.min_partitions else {
            return ranges;
        };
        if ranges.len() >= min || ranges.is_empty() {
            return ranges;
        }
        let total: i64 = ranges.iter().map(|r| r.until - r.from).sum();
        let mut out = Vec::new();
        for r in ranges {
            let size = r.until - r.from;
            let parts = ((size as f64 / total as f64) * min as f64).round().max(1.0) as i64;
            let parts = parts.min(size.max(1));
            for i in 0..parts {
                let from = r.from + size * i / parts;
                let until = r.from + size * (i + 1) / parts;
                if from < until {
                    out.push(Range {
                        tp: r.tp.clone(),
                        from,
                        until,
                    });
                }
            }
        }
        out
    }
}

/// Records `[from, until)` of one partition.
#[derive(Clone, Debug)]
struct Range {
    tp: TopicPartition,
    from: i64,
    until: i64,
}

/// At most `limit` offsets past `start`, split over the partitions in proportion to how
/// far behind each is; a partition with any lag gets at least one (Spark's
/// `KafkaMicroBatchStream.rateLimit`).
fn rate_limit(start: &PartitionOffsets, latest: &PartitionOffsets, limit: u64) -> PartitionOffsets {
    let lags: Vec<(TopicPartition, i64, i64)> = latest
        .iter()
        .map(|(tp, end)| {
            let begin = start.get(&tp).unwrap_or(end);
            (tp, begin, end)
        })
        .collect();
    let total: f64 = lags.iter().map(|(_, b, e)| (e - b).max(0) as f64).sum();
    let mut out = PartitionOffsets::default();
    for (tp, begin, end) in lags {
        let size = (end - begin).max(0) as f64;
        let at = if total <= limit as f64 || size == 0.0 {
            end
        } else {
            let prorate = limit as f64 * (size / total);
            let n = if prorate < 1.0 {
                prorate.ceil()
            } else {
                prorate.floor()
            } as i64;
            begin.saturating_add(n).min(end)
        };
        out.insert(&tp, at);
    }
    out
}

impl Source for KafkaSource {
    fn description(&self) -> String {
        format!("KafkaV2[{}]", self.what())
    }

    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn open(&mut self, ctx: &SourceContext) -> Result<()> {
        if self.subscriptions_given != 1 {
            return Err(StreamError::InvalidOption {
                name: "subscribe".into(),
                message: format!(
                    "a Kafka source takes exactly one of `subscribe`, `subscribe_pattern` and `assign`; {} were given",
                    self.subscriptions_given
                ),
            });
        }
        if let Some(Subscription::Topics(ts)) = &self.subscription
            && ts.iter().any(|t| t.trim().is_empty())
        {
            return Err(StreamError::InvalidOption {
                name: "subscribe".into(),
                message: "a topic name is empty".into(),
            });
        }
        if self.max_offsets_per_trigger == Some(0) {
            return Err(StreamError::InvalidOption {
                name: "max_offsets_per_trigger".into(),
                message: "must be at least 1".into(),
            });
        }
        if self.min_partitions == Some(0) {
            return Err(StreamError::InvalidOption {
                name: "min_partitions".into(),
                message: "must be at least 1".into(),
            });
        }
        let negative_time = match &self.starting {
            StartingOffsets::Timestamp(ms) => Some(("starting_timestamp", *ms)),
            StartingOffsets::Timestamps(given) => given
                .iter()
                .find(|(_, ms)| *ms < 0)
                .map(|(_, ms)| ("starting_offsets_by_timestamp", ms)),
            _ => None,
        };
        if let Some((name, ms)) = negative_time.filter(|(_, ms)| *ms < 0) {
            return Err(StreamError::InvalidOption {
                name: name.into(),
                message: format!("a time is milliseconds since the epoch, at least 0, got {ms}"),
            });
        }
        let pattern = match &self.subscription {
            Some(Subscription::Pattern(p)) => {
                Some(regex::Regex::new(&format!("^(?:{p})$")).map_err(|e| {
                    StreamError::InvalidOption {
                        name: "subscribe_pattern".into(),
                        message: format!("`{p}` is not a regular expression: {e}"),
                    }
                })?)
            }
            _ => None,
        };
        let value = match &self.value {
            Some((schema, mode)) => Some(ValueJson::new(schema.clone(), *mode)?),
            None => None,
        };
        let meta = self.consumer()?;
        self.running = Some(Running {
            meta,
            log: MetadataLog::open(&ctx.metadata_dir)?,
            initial: None,
            pattern,
            value,
            available_now: None,
            latest: PartitionOffsets::default(),
            earliest: PartitionOffsets::default(),
        });
        Ok(())
    }

    fn default_read_limit(&self) -> ReadLimit {
        self.max_offsets_per_trigger
            .map_or(ReadLimit::All, ReadLimit::MaxRows)
    }

    fn prepare_for_available_now(&mut self) -> Result<()> {
        let running = self
            .running
            .as_ref()
            .ok_or_else(|| self.err("the source was not opened"))?;
        let mut end = PartitionOffsets::default();
        for tp in self.partitions(running)? {
            end.insert(&tp, self.watermarks(running, &tp)?.1);
        }
        self.running()?.available_now = Some(end);
        Ok(())
    }

    fn latest_offset(
        &mut self,
        start: Option<&Offset>,
        limit: ReadLimit,
    ) -> Result<Option<Offset>> {
        let start = match start {
            Some(o) => PartitionOffsets::from_offset(o)?,
            None => self.initial()?,
        };
        let running = self
            .running
            .as_ref()
            .ok_or_else(|| self.err("the source was not opened"))?;
        let now = self.partitions(running)?;
        let mut latest = PartitionOffsets::default();
        let mut gone = false;
        for (tp, _) in start.iter() {
            if !now.contains(&tp) {
                self.data_loss(format!("partition {tp} is gone (was its topic deleted?)"))?;
                gone = true;
            }
        }
        if gone {
            // clients that knew the deleted topic keep asking the brokers about it; start
            // afresh with ones that never heard of it
            let meta = self.consumer()?;
            let running = self.running()?;
            running.meta = meta;
        }
        let running = self
            .running
            .as_ref()
            .ok_or_else(|| self.err("the source was not opened"))?;
        let mut earliest = PartitionOffsets::default();
        for tp in &now {
            let (low, high) = self.watermarks(running, tp)?;
            let mut high = high;
            if let Some(cap) = &running.available_now {
                match cap.get(tp) {
                    Some(c) => high = high.min(c),
                    None => continue,
                }
            }
            match start.get(tp) {
                Some(from) if high < from => {
                    self.data_loss(format!(
                        "the latest offset of {tp} went back from {from} to {high} (was the topic recreated?)"
                    ))?;
                }
                Some(_) => {}
                None => {
                    tracing::info!(partition = %tp, earliest = low, "Kafka source: new partition, read from its earliest offset");
                }
            }
            latest.insert(tp, high);
            earliest.insert(tp, low);
        }
        let end = match limit {
            ReadLimit::MaxRows(n) => rate_limit(&start, &latest, n),
            _ => latest.clone(),
        };
        let running = self.running()?;
        running.latest = latest;
        running.earliest = earliest;
        Ok(Some(end.to_offset()?))
    }

    fn read(&mut self, start: Option<&Offset>, end: &Offset) -> Result<Vec<RecordBatch>> {
        let from_offsets = match start {
            Some(o) => PartitionOffsets::from_offset(o)?,
            None => self.initial()?,
        };
        let end = PartitionOffsets::from_offset(end)?;
        let earliest = std::mem::take(&mut self.running()?.earliest);
        let mut ranges = Vec::new();
        let mut lost = 0i64;
        {
            let running = self
                .running
                .as_ref()
                .ok_or_else(|| self.err("the source was not opened"))?;
            for (tp, until) in end.iter() {
                // a later deletion of the records shows as an offset error of the read
                let low = match earliest
                    .get(&tp)
                    .map_or_else(|| self.watermarks(running, &tp).map(|(low, _)| low), Ok)
                {
                    Ok(low) => low,
                    Err(e) => {
                        self.data_loss(format!("partition {tp} cannot be read ({e})"))?;
                        lost += until - from_offsets.get(&tp).unwrap_or(until);
                        continue;
                    }
                };
                let mut from = match from_offsets.get(&tp) {
                    Some(f) => f,
                    None => low,
                };
                if until < from {
                    // reported by latest_offset when it was planned; nothing to read
                    continue;
                }
                if low > from && until > from {
                    self.data_loss(format!(
                        "offsets {from}..{} of {tp} are no longer in Kafka (its earliest is {low})",
                        low.min(until)
                    ))?;
                    lost += low.min(until) - from;
                    from = low.min(until);
                }
                if from < until {
                    ranges.push(Range { tp, from, until });
                }
            }
        }
        let ranges = self.split(ranges);
        // readers live for one read: a consumer that fetched from a topic keeps asking
        // the brokers about it, and librdkafka has crashed on the answer about a topic
        // deleted since
        let pool = (0..ranges.len())
            .map(|_| self.consumer())
            .collect::<Result<Vec<_>>>()?;
        let what = self.what();
        let how = ReadRange {
            include_headers: self.include_headers,
            poll_timeout: self.poll_timeout,
            fail_on_data_loss: self.fail_on_data_loss,
            what: &what,
        };
        let running = self
            .running
            .as_ref()
            .ok_or_else(|| self.err("the source was not opened"))?;
        let results: Vec<Result<(RowsBuilder, i64)>> = std::thread::scope(|scope| {
            let handles: Vec<_> = ranges
                .iter()
                .zip(&pool)
                .map(|(range, consumer)| scope.spawn(move || read_range(consumer, range, how)))
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|_| Err(source_error(&what, "a reader thread panicked")))
                })
                .collect()
        });
        let mut batches = Vec::new();
        let (mut dropped, mut corrupt) = (0u64, 0u64);
        for result in results {
            let (rows, skipped) = result?;
            lost += skipped;
            if rows.is_empty() {
                continue;
            }
            let (key, value, meta) = rows.finish();
            let mut columns: Vec<ArrayRef> = Vec::with_capacity(self.schema.fields().len());
            let meta = match &running.value {
                None => {
                    columns.push(key);
                    columns.push(value);
                    meta
                }
                Some(json) => {
                    let values = value
                        .as_any()
                        .downcast_ref::<BinaryArray>()
                        .expect("binary values");
                    let at = |i: usize| meta.position(i);
                    let decoded = json.decode(values, at)?;
                    dropped += decoded.dropped;
                    corrupt += decoded.corrupt;
                    columns.extend(decoded.columns);
                    columns.push(key);
                    match &decoded.keep {
                        Some(keep) => {
                            let key = columns.pop().expect("key pushed");
                            columns.push(arrow_select::filter::filter(&key, keep)?);
                            meta.filter(keep)?
                        }
                        None => meta,
                    }
                }
            };
            columns.extend(meta.columns);
            batches.push(RecordBatch::try_new(self.schema.clone(), columns)?);
        }
        let mut metrics = BTreeMap::new();
        let behind: Vec<i64> = running
            .latest
            .iter()
            .map(|(tp, latest)| (latest - end.get(&tp).unwrap_or(latest)).max(0))
            .collect();
        if !behind.is_empty() {
            let min = behind.iter().min().copied().unwrap_or(0);
            let max = behind.iter().max().copied().unwrap_or(0);
            let avg = behind.iter().sum::<i64>() as f64 / behind.len() as f64;
            metrics.insert(Self::METRIC_MIN_OFFSETS_BEHIND.to_string(), min.to_string());
            metrics.insert(Self::METRIC_MAX_OFFSETS_BEHIND.to_string(), max.to_string());
            metrics.insert(
                Self::METRIC_AVG_OFFSETS_BEHIND.to_string(),
                format!("{avg:.1}"),
            );
        }
        if let Some(json) = &running.value {
            match json.mode {
                ParseMode::DropMalformed => {
                    metrics.insert(
                        Self::METRIC_MALFORMED_ROWS_DROPPED.to_string(),
                        dropped.to_string(),
                    );
                }
                ParseMode::Permissive => {
                    metrics.insert(
                        Self::METRIC_CORRUPT_RECORDS.to_string(),
                        corrupt.to_string(),
                    );
                }
                ParseMode::FailFast => {}
            }
        }
        if !self.fail_on_data_loss {
            metrics.insert(Self::METRIC_OFFSETS_LOST.to_string(), lost.to_string());
        }
        self.metrics = metrics;
        Ok(batches)
    }

    fn metrics(&self) -> BTreeMap<String, String> {
        self.metrics.clone()
    }

    fn stop(&mut self) {
        self.running = None;
    }
}

/// How a range is read: the source's options that matter there.
#[derive(Clone, Copy)]
struct ReadRange<'a> {
    include_headers: bool,
    poll_timeout: Duration,
    fail_on_data_loss: bool,
    /// The source, for errors.
    what: &'a str,
}

/// Reads `[from, until)` of one partition with `consumer`: its rows, and how many offsets
/// at its end were skipped because their records were gone (without
/// `fail_on_data_loss`).
fn read_range(
    consumer: &KafkaConsumer,
    range: &Range,
    how: ReadRange<'_>,
) -> Result<(RowsBuilder, i64)> {
    let tp = &range.tp;
    let mut list = rdkafka::TopicPartitionList::new();
    list.add_partition_offset(&tp.topic, tp.partition, rdkafka::Offset::Offset(range.from))
        .map_err(|e| source_error(how.what, e))?;
    consumer
        .assign(&list)
        .map_err(|e| source_error(how.what, format!("cannot assign {tp}: {e}")))?;
    let rows = read_assigned(consumer, range, how);
    // an assigned consumer goes on fetching in the background: between batches that
    // would hold records in memory for nothing
    let _ = consumer.unassign();
    rows
}

fn read_assigned(
    consumer: &KafkaConsumer,
    range: &Range,
    how: ReadRange<'_>,
) -> Result<(RowsBuilder, i64)> {
    let ReadRange {
        include_headers,
        poll_timeout,
        fail_on_data_loss,
        what,
    } = how;
    let tp = &range.tp;
    let mut rows = RowsBuilder::new(include_headers, (range.until - range.from) as usize);
    let mut last_progress = Instant::now();
    let mut next = range.from;
    while next < range.until {
        match consumer.poll(Duration::from_millis(100)) {
            Some(Ok(message)) => {
                let offset = rdkafka::Message::offset(&message);
                if offset >= range.until {
                    break;
                }
                if offset < next {
                    continue;
                }
                rows.push(&message);
                next = offset + 1;
                last_progress = Instant::now();
            }
            Some(Err(rdkafka::error::KafkaError::PartitionEOF(_))) => {
                // the end of what is there: records past `next` that were aborted or
                // are transaction markers are never delivered, so ask where the
                // consumer stands
                if let Some(at) = position(consumer, tp)
                    && at >= range.until
                {
                    break;
                }
            }
            Some(Err(e)) => {
                let message = format!("reading {tp} at offset {next}: {e}");
                if fail_on_data_loss || !is_offset_error(&e) {
                    return Err(source_error(what, message));
                }
                tracing::warn!(source = what, "{message}; skipping the rest of the range");
                return Ok((rows, range.until - next));
            }
            None => {}
        }
        if last_progress.elapsed() > poll_timeout {
            if let Some(at) = position(consumer, tp)
                && at >= range.until
            {
                break;
            }
            return Err(source_error(
                what,
                format!(
                    "no record of {tp} came for {} s while offsets {next}..{} should be there",
                    poll_timeout.as_secs(),
                    range.until
                ),
            ));
        }
    }
    Ok((rows, 0))
}

fn position(consumer: &KafkaConsumer, tp: &TopicPartition) -> Option<i64> {
    let list = consumer.position().ok()?;
    let element = list.find_partition(&tp.topic, tp.partition)?;
    match element.offset() {
        rdkafka::Offset::Offset(n) => Some(n),
        _ => None,
    }
}

fn is_offset_error(e: &rdkafka::error::KafkaError) -> bool {
    use rdkafka::types::RDKafkaErrorCode as C;
    matches!(
        e.rdkafka_error_code(),
        Some(
            C::OffsetOutOfRange
                | C::AutoOffsetReset
                | C::UnknownTopicOrPartition
                | C::UnknownTopic
                | C::UnknownPartition
        )
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offsets(pairs: &[(&str, i32, i64)]) -> PartitionOffsets {
        let mut o = PartitionOffsets::default();
        for (t, p, n) in pairs {
            o.insert(&TopicPartition::new(*t, *p), *n);
        }
        o
    }

    #[test]
    fn the_rate_limit_splits_by_lag_and_starves_no_one() {
        let start = offsets(&[("t", 0, 0), ("t", 1, 0), ("t", 2, 5)]);
        let latest = offsets(&[("t", 0, 900), ("t", 1, 99), ("t", 2, 6)]);
        let end = rate_limit(&start, &latest, 100);
        // lags 900, 99, 1 of 1000: 90, 9.9 -> 9, 0.1 -> 1
        assert_eq!(end, offsets(&[("t", 0, 90), ("t", 1, 9), ("t", 2, 6)]));
        // a limit above the total lag takes everything
        assert_eq!(rate_limit(&start, &latest, 5000), latest);
    }

    #[test]
    fn a_new_partition_in_the_rate_limit_has_no_lag_yet() {
        let start = offsets(&[("t", 0, 0)]);
        let latest = offsets(&[("t", 0, 10), ("t", 1, 4)]);
        assert_eq!(
            rate_limit(&start, &latest, 5),
            offsets(&[("t", 0, 5), ("t", 1, 4)])
        );
    }

    #[test]
    fn min_partitions_splits_large_ranges() {
        let source = KafkaSource::new("x").subscribe(["t"]).min_partitions(4);
        let ranges = vec![
            Range {
                tp: TopicPartition::new("t", 0),
                from: 0,
                until: 300,
            },
            Range {
                tp: TopicPartition::new("t", 1),
                from: 10,
                until: 110,
            },
        ];
        let split = source.split(ranges);
        let sizes: Vec<i64> = split.iter().map(|r| r.until - r.from).collect();
        assert_eq!(sizes, [100, 100, 100, 100]);
        assert_eq!((split[3].from, split[3].until), (10, 110));
    }

    /// The context of source 0 of a checkpoint in `dir`.
    fn context(dir: &std::path::Path) -> SourceContext {
        SourceContext {
            metadata_dir: dir.join("sources/0"),
            clock: Arc::new(crate::SystemClock::default()),
            index: 0,
        }
    }

    #[test]
    fn exactly_one_subscription() {
        let dir = tempfile::tempdir().unwrap();
        let ctx = context(dir.path());
        let e = KafkaSource::new("127.0.0.1:1")
            .open(&ctx)
            .unwrap_err()
            .to_string();
        assert!(e.contains("exactly one of `subscribe`"), "{e}");
        let e = KafkaSource::new("127.0.0.1:1")
            .subscribe(["a"])
            .subscribe_pattern("b.*")
            .open(&ctx)
            .unwrap_err()
            .to_string();
        assert!(e.contains("2 were given"), "{e}");
    }

    #[test]
    fn a_negative_starting_time_is_refused_at_open() {
        // `stream!` checks a literal time when the crate compiles; a captured one here
        let dir = tempfile::tempdir().unwrap();
        let ctx = context(dir.path());
        let e = KafkaSource::new("127.0.0.1:1")
            .subscribe(["a"])
            .starting_offsets(StartingOffsets::Timestamp(-5))
            .open(&ctx)
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "invalid option `starting_timestamp`: a time is milliseconds since the epoch, at least 0, got -5"
        );
        let e = KafkaSource::new("127.0.0.1:1")
            .subscribe(["a"])
            .starting_offsets(StartingOffsets::Timestamps(offsets(&[
                ("a", 0, 7),
                ("a", 1, -1),
            ])))
            .open(&ctx)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("`starting_offsets_by_timestamp`") && e.ends_with("got -1"),
            "{e}"
        );
    }
}
