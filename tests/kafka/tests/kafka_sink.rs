//! The Kafka sink: a query process killed at each fault point of a batch and
//! restarted. At least once, the topic holds every row, and the copies a replay wrote
//! carry the replayed batch's id in their header. Exactly once, a `read_committed`
//! consumer sees every row once: the transaction of a batch the process died in is
//! aborted (fenced by the restarted producer of the same transactional id), and a batch
//! whose transaction committed before `commits/N` is not written again.

use std::collections::BTreeMap;
use std::path::Path;

use kafka_tests::{Broker, Record, run_child};
use stream_core::kafka::BATCH_ID_HEADER;

const CHILD: &str = env!("CARGO_BIN_EXE_kafka_child");
/// 2 partitions × 6 records, at most 4 offsets per batch: 3 batches.
const PER_PARTITION: usize = 6;
const FAILING_BATCH: u64 = 1;
const POINTS: [&str; 3] = ["during-sink-write", "after-sink-write", "before-commit"];

/// Topic `in` with 2 partitions of [`PER_PARTITION`] records, an empty `out` of 2; the
/// values written.
fn topics(broker: &Broker) -> Vec<String> {
    broker.create_topic("in", 2);
    broker.create_topic("out", 2);
    let mut values = Vec::new();
    for p in 0..2 {
        for i in 0..PER_PARTITION {
            let v = format!("p{p}-{i}");
            broker.produce("in", &[(p, Some("k"), &v)]);
            values.push(v);
        }
    }
    values.sort();
    values
}

fn counts(records: &[Record]) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for r in records {
        *out.entry(r.value.clone().unwrap_or_default()).or_default() += 1;
    }
    out
}

#[test]
fn at_least_once_a_replayed_batch_shows_twice_with_its_batch_id() {
    for point in POINTS {
        let Some(broker) = Broker::start("kafka_sink::at_least_once") else {
            return;
        };
        let values = topics(&broker);
        let checkpoint = tempfile::tempdir().unwrap();
        let died = run_child(
            Path::new(CHILD),
            &broker,
            ("in", "out"),
            checkpoint.path(),
            false,
            Some((point, FAILING_BATCH)),
        );
        assert_eq!(died, Ok(true), "{point}: the child dies at the fault");
        let finished = run_child(
            Path::new(CHILD),
            &broker,
            ("in", "out"),
            checkpoint.path(),
            false,
            None,
        );
        assert_eq!(finished, Ok(false), "{point}: the restart runs to the end");
        let out = broker.consume_all("out", 2, false);
        let counts = counts(&out);
        assert_eq!(
            counts.keys().cloned().collect::<Vec<_>>(),
            values,
            "{point}: every row"
        );
        for r in &out {
            let value = r.value.clone().unwrap();
            let batch: u64 = r
                .header(BATCH_ID_HEADER)
                .expect("the batch-id header")
                .parse()
                .unwrap();
            if counts[&value] > 1 {
                assert_eq!(
                    batch, FAILING_BATCH,
                    "{point}: only the replayed batch shows twice ({value})"
                );
            }
        }
        let twice = counts.values().filter(|n| **n > 1).count();
        assert!(counts.values().all(|n| *n <= 2), "{point}: {counts:?}");
        if point != "during-sink-write" {
            // the whole batch was written before the process died: all of it twice
            assert_eq!(
                twice, 4,
                "{point}: the 4 rows of batch {FAILING_BATCH} twice: {counts:?}"
            );
        }
        eprintln!(
            "at least once, killed {point} batch {FAILING_BATCH}: {} records for {} rows, {twice} twice",
            out.len(),
            values.len()
        );
    }
}

#[test]
fn exactly_once_a_read_committed_consumer_sees_every_row_once() {
    for point in POINTS {
        let Some(broker) = Broker::start("kafka_sink::exactly_once") else {
            return;
        };
        let values = topics(&broker);
        let checkpoint = tempfile::tempdir().unwrap();
        let first = run_child(
            Path::new(CHILD),
            &broker,
            ("in", "out"),
            checkpoint.path(),
            true,
            Some((point, FAILING_BATCH)),
        );
        assert_eq!(first, Ok(true), "{point}: the child dies at the fault");
        let finished = run_child(
            Path::new(CHILD),
            &broker,
            ("in", "out"),
            checkpoint.path(),
            true,
            None,
        );
        assert_eq!(finished, Ok(false), "{point}: the restart runs to the end");
        let out = broker.consume_all("out", 2, true);
        let mut seen: Vec<String> = out.iter().map(|r| r.value.clone().unwrap()).collect();
        seen.sort();
        assert_eq!(seen, values, "{point}: every row exactly once");
        // what the dead process's transaction wrote stays in the topic, aborted
        let all = broker.consume_all("out", 2, false).len();
        eprintln!(
            "exactly once, killed {point} batch {FAILING_BATCH}: {} rows committed, {all} records in the topic",
            out.len()
        );
    }
}

/// A query on a MemoryStream of `value` strings, written to `out` exactly once under the
/// transactional id `id`, started (its sink opened: the producer's transactions
/// initialised) and ready for input.
fn exactly_once_query(
    broker: &Broker,
    id: &str,
    checkpoint: &Path,
) -> (stream_core::MemoryStream, stream_core::StreamingQuery) {
    use std::sync::Arc;

    use arrow_schema::{DataType, Field, Schema};
    use stream_core::kafka::KafkaSink;
    use stream_core::{
        MapPipeline, MemoryStream, OutputMode, StreamingQuery, StreamingQueryManager,
    };

    let schema = Arc::new(Schema::new(vec![Field::new(
        "value",
        DataType::Utf8,
        false,
    )]));
    let input = MemoryStream::new(schema.clone());
    let query = StreamingQuery::builder()
        .manager(&StreamingQueryManager::new())
        .source(input.clone())
        .pipeline(MapPipeline::identity(schema))
        .sink(
            KafkaSink::new(broker.servers())
                .topic("fenced_out")
                .exactly_once(true)
                .transactional_id(id),
        )
        .output_mode(OutputMode::Append)
        .checkpoint_location(checkpoint)
        .start()
        .expect("the query starts");
    (input, query)
}

/// A zombie: an instance whose transactional id a newer instance took over (a query
/// restarted while the old process still runs, as a scheduler can do). The newer
/// producer fences the older one, so the zombie's next commit fails and nothing it
/// writes is ever shown to a read_committed consumer; the newer instance's rows are
/// there once.
#[test]
fn a_second_instance_with_the_same_transactional_id_fences_the_first() {
    let Some(broker) = Broker::start("kafka_sink::fencing") else {
        return;
    };
    broker.create_topic("fenced_out", 1);
    let rt = tests::runtime();
    let (zombie_dir, live_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (zombie_input, zombie) = exactly_once_query(&broker, "one-id", zombie_dir.path());
    let (live_input, live) = exactly_once_query(&broker, "one-id", live_dir.path());

    zombie_input.add_json(r#"{"value":"zombie"}"#).unwrap();
    let e = rt
        .block_on(zombie.process_all_available())
        .expect_err("the fenced instance's batch fails")
        .to_string();
    assert!(
        e.contains("KafkaSink[fenced_out, exactly once]") && e.contains("batch 0"),
        "{e}"
    );
    assert!(e.to_lowercase().contains("fenced"), "says why: {e}");

    live_input.add_json(r#"{"value":"live-1"}"#).unwrap();
    live_input.add_json(r#"{"value":"live-2"}"#).unwrap();
    rt.block_on(live.process_all_available())
        .expect("the newer instance writes");
    rt.block_on(live.stop());

    let mut seen: Vec<String> = broker
        .consume_all("fenced_out", 1, true)
        .into_iter()
        .map(|r| r.value.unwrap())
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        ["live-1", "live-2"],
        "nothing of the zombie, the rest once"
    );
}
