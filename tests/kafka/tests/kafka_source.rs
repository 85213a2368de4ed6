//! The Kafka source against Apache Kafka: every option, the columns it
//! gives, new topics, data loss with `fail_on_data_loss` on and off, and decoding
//! values as JSON in each bad-record mode.

use arrow_array::cast::AsArray;
use arrow_array::types::{Int32Type, Int64Type};
use arrow_array::{Array, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use kafka_tests::Broker;
use kafka_tests::drive::{context, next, rows, values};
use std::sync::Arc;
use stream_core::ParseMode;
use stream_core::kafka::{KafkaSource, PartitionOffsets, StartingOffsets, TopicPartition};
use stream_core::source::{ReadLimit, Source};

fn opened(source: KafkaSource, dir: &std::path::Path) -> KafkaSource {
    let mut source = source;
    source.open(&context(dir)).expect("open");
    source
}

fn records<'a>(partition: i32, values: &'a [&'a str]) -> Vec<(i32, Option<&'a str>, &'a str)> {
    values.iter().map(|v| (partition, Some("k"), *v)).collect()
}

#[test]
fn subscribe_reads_every_partition_with_spark_columns_and_headers() {
    let Some(broker) = Broker::shared("kafka_source") else {
        return;
    };
    broker.create_topic("events1", 2);
    broker.produce_with_headers("events1", &records(0, &["a", "b"]), &[("origin", "test")]);
    broker.produce("events1", &[(1, None, "c")]);
    let dir = tempfile::tempdir().unwrap();
    let mut source = opened(
        KafkaSource::new(broker.servers())
            .subscribe(["events1"])
            .starting_offsets(StartingOffsets::Earliest)
            .include_headers(true),
        dir.path(),
    );
    let mut start = None;
    let batches = next(&mut source, &mut start, ReadLimit::All);
    assert_eq!(
        rows(&batches),
        vec![
            ("events1".into(), 0, 0, Some("a".into())),
            ("events1".into(), 0, 1, Some("b".into())),
            ("events1".into(), 1, 0, Some("c".into())),
        ]
    );
    let names: Vec<String> = batches[0]
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    assert_eq!(
        names,
        [
            "key",
            "value",
            "topic",
            "partition",
            "offset",
            "timestamp",
            "timestamp_type",
            "headers"
        ]
    );
    let b = &batches[0];
    assert_eq!(b.column(0).as_binary::<i32>().value(0), b"k");
    assert_eq!(
        b.column(6).as_primitive::<Int32Type>().value(0),
        0,
        "create time"
    );
    let ts = b
        .column(5)
        .as_primitive::<arrow_array::types::TimestampMicrosecondType>()
        .value(0);
    let now_us = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_micros() as i64;
    assert!(
        (now_us - ts).abs() < 600_000_000,
        "a recent timestamp, in microseconds: {ts}"
    );
    let headers = b.column(7).as_list::<i32>().value(0);
    let headers = headers.as_struct();
    assert_eq!(headers.column(0).as_string::<i32>().value(0), "origin");
    assert_eq!(headers.column(1).as_binary::<i32>().value(0), b"test");
    let c = &batches[1];
    assert!(
        c.column(0).is_null(0),
        "a record without a key has a null key"
    );
    // nothing new: the same offsets, no rows
    assert!(values(&next(&mut source, &mut start, ReadLimit::All)).is_empty());
    broker.produce("events1", &records(1, &["d"]));
    assert_eq!(
        values(&next(&mut source, &mut start, ReadLimit::All)),
        ["d"]
    );
    assert_eq!(
        start.unwrap().json(),
        r#"{"events1":{"0":2,"1":2}}"#,
        "Spark's offset JSON"
    );
}

#[test]
fn subscribe_pattern_picks_up_topics_created_later_from_their_start() {
    let Some(broker) = Broker::shared("kafka_source") else {
        return;
    };
    broker.create_topic("ev-a2", 1);
    broker.create_topic("other2", 1);
    broker.produce("ev-a2", &records(0, &["a1"]));
    broker.produce("other2", &records(0, &["x"]));
    let dir = tempfile::tempdir().unwrap();
    let mut source = opened(
        KafkaSource::new(broker.servers())
            .subscribe_pattern("ev-.*")
            .starting_offsets(StartingOffsets::Earliest),
        dir.path(),
    );
    let mut start = None;
    assert_eq!(
        values(&next(&mut source, &mut start, ReadLimit::All)),
        ["a1"]
    );
    broker.create_topic("ev-b2", 1);
    broker.produce("ev-b2", &records(0, &["b1", "b2"]));
    broker.produce("ev-a2", &records(0, &["a2"]));
    assert_eq!(
        values(&next(&mut source, &mut start, ReadLimit::All)),
        ["a2", "b1", "b2"]
    );
}

#[test]
fn assign_reads_only_the_named_partitions() {
    let Some(broker) = Broker::shared("kafka_source") else {
        return;
    };
    broker.create_topic("t3", 3);
    for p in 0..3 {
        broker.produce("t3", &[(p, None, &format!("p{p}"))]);
    }
    let dir = tempfile::tempdir().unwrap();
    let mut source = opened(
        KafkaSource::new(broker.servers())
            .assign_json(r#"{"t3":[0,2]}"#)
            .unwrap()
            .starting_offsets(StartingOffsets::Earliest),
        dir.path(),
    );
    assert_eq!(
        values(&next(&mut source, &mut None, ReadLimit::All)),
        ["p0", "p2"]
    );
}

#[test]
fn starting_offsets_latest_earliest_and_per_partition() {
    let Some(broker) = Broker::shared("kafka_source") else {
        return;
    };
    broker.create_topic("t4", 2);
    broker.produce("t4", &records(0, &["a", "b", "c"]));
    broker.produce("t4", &records(1, &["x", "y"]));
    // latest (the default): only what comes after the first trigger
    let dir = tempfile::tempdir().unwrap();
    let mut latest = opened(
        KafkaSource::new(broker.servers()).subscribe(["t4"]),
        dir.path(),
    );
    let mut start = None;
    assert!(values(&next(&mut latest, &mut start, ReadLimit::All)).is_empty());
    // per partition: offset 1 of partition 0, earliest (-2) of partition 1
    let dir2 = tempfile::tempdir().unwrap();
    let mut given = opened(
        KafkaSource::new(broker.servers())
            .subscribe(["t4"])
            .starting_offsets(StartingOffsets::parse(r#"{"t4":{"0":1,"1":-2}}"#).unwrap()),
        dir2.path(),
    );
    assert_eq!(
        values(&next(&mut given, &mut None, ReadLimit::All)),
        ["b", "c", "x", "y"]
    );
    // -1 is latest
    let dir3 = tempfile::tempdir().unwrap();
    let mut tail = opened(
        KafkaSource::new(broker.servers())
            .subscribe(["t4"])
            .starting_offsets(StartingOffsets::parse(r#"{"t4":{"0":-1,"1":1}}"#).unwrap()),
        dir3.path(),
    );
    assert_eq!(values(&next(&mut tail, &mut None, ReadLimit::All)), ["y"]);
    broker.produce("t4", &records(0, &["d"]));
    assert_eq!(
        values(&next(&mut latest, &mut start, ReadLimit::All)),
        ["d"]
    );
    // a partition the JSON leaves out is an error naming it
    let dir4 = tempfile::tempdir().unwrap();
    let mut missing = opened(
        KafkaSource::new(broker.servers())
            .subscribe(["t4"])
            .starting_offsets(StartingOffsets::parse(r#"{"t4":{"0":0}}"#).unwrap()),
        dir4.path(),
    );
    let e = missing
        .latest_offset(None, ReadLimit::All)
        .unwrap_err()
        .to_string();
    assert!(e.contains("starting_offsets") && e.contains("t4-1"), "{e}");
}

#[test]
fn the_starting_offsets_are_fixed_in_the_checkpoint_before_the_first_batch() {
    let Some(broker) = Broker::shared("kafka_source") else {
        return;
    };
    broker.create_topic("t5", 1);
    broker.produce("t5", &records(0, &["before"]));
    let dir = tempfile::tempdir().unwrap();
    let make = || KafkaSource::new(broker.servers()).subscribe(["t5"]);
    let mut first = opened(make(), dir.path());
    let end = first.latest_offset(None, ReadLimit::All).unwrap().unwrap();
    assert_eq!(end.json(), r#"{"t5":{"0":1}}"#);
    // the process dies before batch 0 commits; records arrive; a new process resumes
    // from the same starting point (latest as it was), not from the new latest
    drop(first);
    broker.produce("t5", &records(0, &["after"]));
    let mut second = opened(make(), dir.path());
    assert_eq!(
        values(&next(&mut second, &mut None, ReadLimit::All)),
        ["after"]
    );
}

#[test]
fn starting_by_timestamp_finds_the_first_record_at_or_after_it() {
    let Some(broker) = Broker::shared("kafka_source") else {
        return;
    };
    broker.create_topic("t6", 1);
    broker.produce("t6", &records(0, &["old1", "old2"]));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    // the broker stamps records with its clock in milliseconds: wait for the next one
    let cut = now.as_millis() as i64 + 1;
    while (std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64)
        <= cut
    {
        std::thread::yield_now();
    }
    broker.produce("t6", &records(0, &["new1", "new2"]));
    let dir = tempfile::tempdir().unwrap();
    let mut source = opened(
        KafkaSource::new(broker.servers())
            .subscribe(["t6"])
            .starting_offsets(StartingOffsets::Timestamp(cut)),
        dir.path(),
    );
    assert_eq!(
        values(&next(&mut source, &mut None, ReadLimit::All)),
        ["new1", "new2"]
    );
    let mut per_partition = PartitionOffsets::default();
    per_partition.insert(&TopicPartition::new("t6", 0), cut);
    let dir2 = tempfile::tempdir().unwrap();
    let mut source = opened(
        KafkaSource::new(broker.servers())
            .subscribe(["t6"])
            .starting_offsets(StartingOffsets::Timestamps(per_partition)),
        dir2.path(),
    );
    assert_eq!(
        values(&next(&mut source, &mut None, ReadLimit::All)),
        ["new1", "new2"]
    );
}

#[test]
fn max_offsets_per_trigger_splits_by_lag() {
    let Some(broker) = Broker::shared("kafka_source") else {
        return;
    };
    broker.create_topic("t7", 2);
    let many: Vec<String> = (0..9).map(|i| format!("a{i}")).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    broker.produce("t7", &records(0, &many));
    broker.produce("t7", &records(1, &["b0"]));
    let dir = tempfile::tempdir().unwrap();
    let mut source = opened(
        KafkaSource::new(broker.servers())
            .subscribe(["t7"])
            .starting_offsets(StartingOffsets::Earliest)
            .max_offsets_per_trigger(5),
        dir.path(),
    );
    let limit = source.default_read_limit();
    assert_eq!(limit, ReadLimit::MaxRows(5));
    let mut start = None;
    // lags 9 and 1 of 10: 4.5 -> 4 and 0.5 -> 1 (no partition starves)
    assert_eq!(
        values(&next(&mut source, &mut start, limit)),
        ["a0", "a1", "a2", "a3", "b0"]
    );
    assert_eq!(
        values(&next(&mut source, &mut start, limit)),
        ["a4", "a5", "a6", "a7", "a8"]
    );
    assert!(values(&next(&mut source, &mut start, limit)).is_empty());
}

#[test]
fn min_partitions_reads_a_partition_in_several_ranges_in_order() {
    let Some(broker) = Broker::shared("kafka_source") else {
        return;
    };
    broker.create_topic("t8", 1);
    let many: Vec<String> = (0..8).map(|i| format!("v{i}")).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    broker.produce("t8", &records(0, &many));
    let dir = tempfile::tempdir().unwrap();
    let mut source = opened(
        KafkaSource::new(broker.servers())
            .subscribe(["t8"])
            .starting_offsets(StartingOffsets::Earliest)
            .min_partitions(4),
        dir.path(),
    );
    let batches = next(&mut source, &mut None, ReadLimit::All);
    assert_eq!(batches.len(), 4, "four ranges, read at the same time");
    assert!(batches.iter().all(|b| b.num_rows() == 2));
    assert_eq!(values(&batches), many);
}

/// A transactional producer's records: `aborted` in a transaction it aborts, then
/// `committed` in one it commits.
fn transactions(broker: &Broker, topic: &str, aborted: &[&str], committed: &[&str]) {
    use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
    let producer: BaseProducer = broker
        .config()
        .set("transactional.id", format!("{topic}-writer"))
        .create()
        .expect("a transactional producer");
    let timeout = std::time::Duration::from_secs(30);
    producer
        .init_transactions(timeout)
        .expect("init_transactions");
    for (values, commit) in [(aborted, false), (committed, true)] {
        producer.begin_transaction().expect("begin_transaction");
        for v in values {
            producer
                .send(BaseRecord::<str, str>::to(topic).partition(0).payload(v))
                .expect("send");
        }
        producer.flush(timeout).expect("flush");
        if commit {
            producer.commit_transaction(timeout).expect("commit");
        } else {
            producer.abort_transaction(timeout).expect("abort");
        }
    }
}

#[test]
fn a_read_committed_source_skips_aborted_transactions_and_their_markers() {
    let Some(broker) = Broker::shared("kafka_source") else {
        return;
    };
    broker.create_topic("txn9", 1);
    transactions(broker, "txn9", &["x1", "x2", "x3"], &["c1", "c2"]);
    let read = |isolation: &str| {
        let dir = tempfile::tempdir().unwrap();
        let mut source = opened(
            KafkaSource::new(broker.servers())
                .subscribe(["txn9"])
                .starting_offsets(StartingOffsets::Earliest)
                .option("isolation.level", isolation),
            dir.path(),
        );
        let mut start = None;
        let seen = values(&next(&mut source, &mut start, ReadLimit::All));
        (seen, start.unwrap().json())
    };
    // 3 aborted records, their abort marker, 2 committed ones and their commit marker
    let (committed, end) = read("read_committed");
    assert_eq!(committed, ["c1", "c2"]);
    assert_eq!(end, r#"{"txn9":{"0":7}}"#, "past both markers");
    let (all, _) = read("read_uncommitted");
    assert_eq!(
        all,
        ["x1", "x2", "x3", "c1", "c2"],
        "the aborted records are there"
    );
}

#[test]
fn partitions_added_to_a_subscribed_topic_are_read_from_their_start() {
    let Some(broker) = Broker::shared("kafka_source") else {
        return;
    };
    broker.create_topic("grows10", 1);
    broker.produce("grows10", &records(0, &["a"]));
    let dir = tempfile::tempdir().unwrap();
    let mut source = opened(
        KafkaSource::new(broker.servers())
            .subscribe(["grows10"])
            .starting_offsets(StartingOffsets::Latest),
        dir.path(),
    );
    let mut start = None;
    assert!(values(&next(&mut source, &mut start, ReadLimit::All)).is_empty());
    broker.create_partitions("grows10", 3);
    broker.produce("grows10", &records(1, &["b", "c"]));
    broker.produce("grows10", &records(2, &["d"]));
    broker.produce("grows10", &records(0, &["e"]));
    // the new partitions from their earliest offset, whatever `starting_offsets` says
    // (as Spark reads a partition it did not know)
    let mut seen = values(&next(&mut source, &mut start, ReadLimit::All));
    seen.sort();
    assert_eq!(seen, ["b", "c", "d", "e"]);
    assert_eq!(start.unwrap().json(), r#"{"grows10":{"0":2,"1":2,"2":1}}"#);
}

/// `[0, 6)` in one partition of `topic`, the first 2 read; then the records before offset 4 removed
/// (`DeleteRecords`, as retention would), so that offsets 2 and 3 are gone.
fn a_source_behind_removed_records(
    broker: &Broker,
    dir: &std::path::Path,
    fail_on_data_loss: bool,
    topic: &str,
) -> (KafkaSource, Option<stream_core::Offset>) {
    broker.create_topic(topic, 1);
    broker.produce(topic, &records(0, &["r0", "r1", "r2", "r3", "r4", "r5"]));
    let mut source = opened(
        KafkaSource::new(broker.servers())
            .subscribe([topic])
            .starting_offsets(StartingOffsets::Earliest)
            .max_offsets_per_trigger(2)
            .fail_on_data_loss(fail_on_data_loss),
        dir,
    );
    let mut start = None;
    assert_eq!(
        values(&next(&mut source, &mut start, ReadLimit::MaxRows(2))),
        ["r0", "r1"]
    );
    broker.delete_records(topic, 0, 4);
    (source, start)
}

#[test]
fn removed_records_fail_the_batch_naming_partition_and_offsets_with_fail_on_data_loss() {
    let Some(broker) = Broker::shared("kafka_source") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (mut source, start) =
        a_source_behind_removed_records(broker, dir.path(), true, "trimmed11");
    let end = source
        .latest_offset(start.as_ref(), ReadLimit::MaxRows(2))
        .unwrap()
        .unwrap();
    let e = source.read(start.as_ref(), &end).unwrap_err().to_string();
    assert!(
        e.contains("offsets 2..4 of trimmed11-0 are no longer in Kafka")
            && e.contains("its earliest is 4")
            && e.contains("fail_on_data_loss"),
        "{e}"
    );
}

#[test]
fn removed_records_are_skipped_and_counted_without_fail_on_data_loss() {
    let Some(broker) = Broker::shared("kafka_source") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (mut source, mut start) =
        a_source_behind_removed_records(broker, dir.path(), false, "trimmed12");
    // the batch planned as [2, 4) has nothing left; the next one reads on from 4
    assert!(values(&next(&mut source, &mut start, ReadLimit::MaxRows(2))).is_empty());
    assert_eq!(
        source.metrics()[KafkaSource::METRIC_OFFSETS_LOST],
        "2",
        "{:?}",
        source.metrics()
    );
    assert_eq!(
        values(&next(&mut source, &mut start, ReadLimit::MaxRows(2))),
        ["r4", "r5"]
    );
    assert_eq!(source.metrics()[KafkaSource::METRIC_OFFSETS_LOST], "0");
}

#[test]
fn a_deleted_topic_fails_the_query_with_fail_on_data_loss() {
    let Some(broker) = Broker::shared("kafka_source") else {
        return;
    };
    broker.create_topic("keep13", 1);
    broker.create_topic("gone13", 1);
    broker.produce("keep13", &records(0, &["k1"]));
    broker.produce("gone13", &records(0, &["g1"]));
    let dir = tempfile::tempdir().unwrap();
    let mut source = opened(
        KafkaSource::new(broker.servers())
            .subscribe(["keep13", "gone13"])
            .starting_offsets(StartingOffsets::Earliest),
        dir.path(),
    );
    let mut start = None;
    assert_eq!(
        values(&next(&mut source, &mut start, ReadLimit::All)),
        ["g1", "k1"]
    );
    broker.delete_topic("gone13");
    let e = source
        .latest_offset(start.as_ref(), ReadLimit::All)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("partition gone13-0 is gone") && e.contains("fail_on_data_loss"),
        "{e}"
    );
}

#[test]
fn a_deleted_topic_is_skipped_without_fail_on_data_loss() {
    let Some(broker) = Broker::shared("kafka_source") else {
        return;
    };
    broker.create_topic("keep14", 1);
    broker.create_topic("gone14", 1);
    broker.produce("keep14", &records(0, &["k1"]));
    broker.produce("gone14", &records(0, &["g1"]));
    let dir = tempfile::tempdir().unwrap();
    let mut source = opened(
        KafkaSource::new(broker.servers())
            .subscribe(["keep14", "gone14"])
            .starting_offsets(StartingOffsets::Earliest)
            .fail_on_data_loss(false),
        dir.path(),
    );
    let mut start = None;
    assert_eq!(
        values(&next(&mut source, &mut start, ReadLimit::All)),
        ["g1", "k1"]
    );
    broker.delete_topic("gone14");
    broker.produce("keep14", &records(0, &["k2"]));
    assert_eq!(
        values(&next(&mut source, &mut start, ReadLimit::All)),
        ["k2"]
    );
    assert_eq!(
        start.unwrap().json(),
        r#"{"keep14":{"0":2}}"#,
        "the deleted topic left the offsets"
    );
}

fn value_schema(with_corrupt: bool) -> Arc<Schema> {
    let mut fields = vec![
        Field::new("user", DataType::Utf8, true),
        Field::new("amount", DataType::Float64, true),
    ];
    if with_corrupt {
        fields.push(Field::new("_corrupt_record", DataType::Utf8, true));
    }
    Arc::new(Schema::new(fields))
}

fn bad_values(broker: &Broker, topic: &str) {
    broker.create_topic(topic, 1);
    broker.produce(
        topic,
        &records(
            0,
            &[
                r#"{"user":"ann","amount":2.5}"#,
                "{not json",
                r#"{"user":"bob","amount":1}"#,
            ],
        ),
    );
}

fn amounts(batches: &[RecordBatch]) -> Vec<Option<f64>> {
    batches
        .iter()
        .flat_map(|b| {
            let a = b
                .column(1)
                .as_primitive::<arrow_array::types::Float64Type>();
            (0..b.num_rows())
                .map(|i| a.is_valid(i).then(|| a.value(i)))
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn json_values_fail_fast_naming_topic_partition_and_offset() {
    let Some(broker) = Broker::shared("kafka_source") else {
        return;
    };
    bad_values(broker, "json15");
    let dir = tempfile::tempdir().unwrap();
    let mut source = opened(
        KafkaSource::new(broker.servers())
            .subscribe(["json15"])
            .starting_offsets(StartingOffsets::Earliest)
            .value_json(value_schema(false), ParseMode::FailFast),
        dir.path(),
    );
    let end = source.latest_offset(None, ReadLimit::All).unwrap().unwrap();
    let e = source.read(None, &end).unwrap_err().to_string();
    assert!(e.contains("topic `json15` partition 0 at offset 1"), "{e}");
}

#[test]
fn json_values_drop_malformed_and_count_them() {
    let Some(broker) = Broker::shared("kafka_source") else {
        return;
    };
    bad_values(broker, "json16");
    let dir = tempfile::tempdir().unwrap();
    let mut source = opened(
        KafkaSource::new(broker.servers())
            .subscribe(["json16"])
            .starting_offsets(StartingOffsets::Earliest)
            .value_json(value_schema(false), ParseMode::DropMalformed),
        dir.path(),
    );
    let batches = next(&mut source, &mut None, ReadLimit::All);
    let names: Vec<String> = batches[0]
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    assert_eq!(names[..4], ["user", "amount", "key", "topic"]);
    assert_eq!(amounts(&batches), [Some(2.5), Some(1.0)]);
    let offsets = batches[0].column(5).as_primitive::<Int64Type>();
    assert_eq!(
        offsets.values().to_vec(),
        [0, 2],
        "the metadata columns lost the dropped row too"
    );
    assert_eq!(source.metrics()["numMalformedRowsDropped"], "1");
}

#[test]
fn json_values_permissive_keep_the_raw_record() {
    let Some(broker) = Broker::shared("kafka_source") else {
        return;
    };
    bad_values(broker, "json17");
    let dir = tempfile::tempdir().unwrap();
    let mut source = opened(
        KafkaSource::new(broker.servers())
            .subscribe(["json17"])
            .starting_offsets(StartingOffsets::Earliest)
            .value_json(value_schema(true), ParseMode::Permissive),
        dir.path(),
    );
    let batches = next(&mut source, &mut None, ReadLimit::All);
    assert_eq!(amounts(&batches), [Some(2.5), None, Some(1.0)]);
    let raw = batches[0].column(2).as_string::<i32>();
    assert_eq!(
        raw.iter().collect::<Vec<_>>(),
        [None, Some("{not json"), None]
    );
    assert_eq!(source.metrics()["numCorruptRecords"], "1");
}
