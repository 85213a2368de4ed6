//! `order_by` and `limit` on a stream, where Spark allows them: a sort of an
//! aggregation's whole result in complete mode (nulls first ascending, last
//! descending), a limit of that result each batch in complete mode, and a limit of the
//! stream in append mode, which lets through the first `n` rows in all: its count is
//! state, kept across batches, restarts and crashes. The expected rows are computed here
//! from Spark's rules.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;
use stream_core::state::StateStoreKind;
use stream_core::{
    FaultPoint, MemoryStream, MemoryTable, Schema, StreamError, StreamingQueryManager, stream,
};
use tests::{batch_rows, land_file, runtime};

#[derive(Schema, Clone)]
struct Word {
    word: String,
}

#[derive(Schema, Clone)]
struct Visit {
    country: Option<String>,
}

#[derive(Schema, Clone)]
struct Num {
    v: i64,
}

fn words(ws: &[&str]) -> Vec<Word> {
    ws.iter()
        .map(|w| Word {
            word: w.to_string(),
        })
        .collect()
}

/// Each batch the memory table `name` holds, its rows in order, as JSON values.
fn batches(name: &str) -> Vec<(u64, Vec<Value>)> {
    let table = MemoryTable::get(name).expect("the table exists");
    table
        .batch_ids()
        .into_iter()
        .map(|id| {
            let rows = table
                .batch(id)
                .unwrap_or_default()
                .iter()
                .flat_map(batch_rows)
                .map(|r| serde_json::from_str(&r).unwrap())
                .collect();
            (id, rows)
        })
        .collect()
}

/// `(word, n)` of each row.
fn word_counts(rows: &[Value]) -> Vec<(String, i64)> {
    rows.iter()
        .map(|r| {
            (
                r["word"].as_str().unwrap().to_string(),
                r["n"].as_i64().unwrap(),
            )
        })
        .collect()
}

/// The running counts after `input`'s batches, sorted as `order_by(desc(n), word)`:
/// the count descending, then the word ascending.
fn top_words(input: &[&[&str]]) -> Vec<(String, i64)> {
    let mut counts: BTreeMap<String, i64> = BTreeMap::new();
    for batch in input {
        for w in *batch {
            *counts.entry(w.to_string()).or_default() += 1;
        }
    }
    let mut rows: Vec<(String, i64)> = counts.into_iter().collect();
    rows.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    rows
}

const INPUT: [&[&str]; 3] = [
    &["b", "a", "b", "c"],
    &["c", "c", "a", "d", "e"],
    &["e", "e", "e", "a"],
];

#[test]
fn complete_mode_sorts_the_whole_result_table_each_batch() {
    let input = MemoryStream::of::<Word>();
    let query = stream! {
        schema Word = Word;
        read(memory, stream = {input.clone()}, schema = Word)
            .group_by(word)
            .agg(count() as n)
            .order_by(desc(n), word)
            .write(memory, name = "sort_complete")
            .output_mode(complete)
    }
    .manager(&StreamingQueryManager::new())
    .start()
    .unwrap();
    let rt = runtime();
    let mut sorted = Vec::new();
    for (i, batch) in INPUT.iter().enumerate() {
        input.add_rows(&words(batch)).unwrap();
        rt.block_on(query.process_all_available()).unwrap();
        let (_, rows) = batches("sort_complete").pop().unwrap();
        sorted.push(word_counts(&rows));
        assert_eq!(sorted[i], top_words(&INPUT[..=i]), "batch {i}");
    }
    rt.block_on(query.stop());
    // the order is the sort's, not the groups' (the hash partitions') or the input's
    assert_eq!(
        sorted[2],
        [("e", 4), ("a", 3), ("c", 3), ("b", 2), ("d", 1)].map(|(w, n)| (w.to_string(), n))
    );
}

#[test]
fn complete_mode_limit_writes_the_first_rows_of_each_sorted_result() {
    let input = MemoryStream::of::<Word>();
    let query = stream! {
        schema Word = Word;
        read(memory, stream = {input.clone()}, schema = Word)
            .group_by(word)
            .agg(count() as n)
            .sort(desc(n), word)
            .limit(2)
            .write(memory, name = "sort_top2")
            .output_mode(complete)
    }
    .manager(&StreamingQueryManager::new())
    .start()
    .unwrap();
    let rt = runtime();
    for (i, batch) in INPUT.iter().enumerate() {
        input.add_rows(&words(batch)).unwrap();
        rt.block_on(query.process_all_available()).unwrap();
        let (_, rows) = batches("sort_top2").pop().unwrap();
        let mut expected = top_words(&INPUT[..=i]);
        expected.truncate(2);
        assert_eq!(word_counts(&rows), expected, "batch {i}");
    }
    rt.block_on(query.stop());
}

/// The countries of a complete result in its order (`None` for null) and their counts.
fn countries(rows: &[Value]) -> Vec<(Option<String>, i64)> {
    rows.iter()
        .map(|r| {
            (
                r.get("country").and_then(Value::as_str).map(str::to_string),
                r["n"].as_i64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn nulls_sort_first_ascending_and_last_descending_as_in_spark() {
    let visits: Vec<Visit> = [Some("FR"), None, Some("DE"), Some("FR"), None, Some("AT")]
        .iter()
        .map(|c| Visit {
            country: c.map(str::to_string),
        })
        .collect();
    let input = MemoryStream::of::<Visit>();
    let manager = StreamingQueryManager::new();
    let asc = stream! {
        schema Visit = Visit;
        read(memory, stream = {input.clone()}, schema = Visit)
            .group_by(country)
            .agg(count() as n)
            .order_by(country)
            .write(memory, name = "sort_nulls_asc")
            .output_mode(complete)
    }
    .manager(&manager)
    .start()
    .unwrap();
    let desc = stream! {
        schema Visit = Visit;
        read(memory, stream = {input.clone()}, schema = Visit)
            .group_by(country)
            .agg(count() as n)
            .order_by(desc(country))
            .write(memory, name = "sort_nulls_desc")
            .output_mode(complete)
    }
    .manager(&manager)
    .start()
    .unwrap();
    let asc_last = stream! {
        schema Visit = Visit;
        read(memory, stream = {input.clone()}, schema = Visit)
            .group_by(country)
            .agg(count() as n)
            .order_by(asc_nulls_last(country))
            .write(memory, name = "sort_nulls_asc_last")
            .output_mode(complete)
    }
    .manager(&manager)
    .start()
    .unwrap();
    input.add_rows(&visits).unwrap();
    let rt = runtime();
    rt.block_on(asc.process_all_available()).unwrap();
    rt.block_on(desc.process_all_available()).unwrap();
    rt.block_on(asc_last.process_all_available()).unwrap();
    rt.block_on(asc.stop());
    rt.block_on(desc.stop());
    rt.block_on(asc_last.stop());
    let s = |c: &str| Some(c.to_string());
    let last = |name: &str| countries(&batches(name).pop().unwrap().1);
    assert_eq!(
        last("sort_nulls_asc"),
        [(None, 2), (s("AT"), 1), (s("DE"), 1), (s("FR"), 2)]
    );
    assert_eq!(
        last("sort_nulls_desc"),
        [(s("FR"), 2), (s("DE"), 1), (s("AT"), 1), (None, 2)]
    );
    assert_eq!(
        last("sort_nulls_asc_last"),
        [(s("AT"), 1), (s("DE"), 1), (s("FR"), 2), (None, 2)]
    );
}

/// The `v` values of each batch that wrote rows.
fn values(rows: &[(u64, Vec<Value>)]) -> Vec<(u64, Vec<i64>)> {
    rows.iter()
        .filter(|(_, rows)| !rows.is_empty())
        .map(|(id, rows)| (*id, rows.iter().map(|r| r["v"].as_i64().unwrap()).collect()))
        .collect()
}

fn nums(vs: &[i64]) -> Vec<Num> {
    vs.iter().map(|&v| Num { v }).collect()
}

#[test]
fn append_mode_limit_lets_through_the_first_rows_of_the_stream_in_all() {
    let input = MemoryStream::of::<Num>();
    let query = stream! {
        schema Num = Num;
        read(memory, stream = {input.clone()}, schema = Num)
            .filter(v > 0)
            .limit(4)
            .write(memory, name = "limit_append")
    }
    .manager(&StreamingQueryManager::new())
    .start()
    .unwrap();
    let rt = runtime();
    for batch in [&[1, -1, 2][..], &[3, -2, 4, 5], &[6, 7]] {
        input.add_rows(&nums(batch)).unwrap();
        rt.block_on(query.process_all_available()).unwrap();
    }
    let progress = query.recent_progress();
    rt.block_on(query.stop());
    let got: Vec<i64> = values(&batches("limit_append"))
        .into_iter()
        .flat_map(|(_, v)| v)
        .collect();
    // the first four positive values, in the order they came; none after
    assert_eq!(got, [1, 2, 3, 4]);
    // the count is the state of Spark's operator: 4 once reached
    let last = progress.last().unwrap();
    let op = &last.state_operators[0];
    assert_eq!(op.operator_name, "globalLimit");
    assert_eq!(op.metrics.num_rows_total, 1);
}

#[test]
#[allow(deprecated)] // the warning that the deduplication's state only grows
fn a_limit_after_drop_duplicates_in_append_mode_as_spark_30657() {
    // Spark's test: `dropDuplicates().limit(1)` over 1, 2 then 3, 4 writes only 1
    let input = MemoryStream::of::<Num>();
    let query = stream! {
        schema Num = Num;
        read(memory, stream = {input.clone()}, schema = Num)
            .drop_duplicates()
            .limit(1)
            .write(memory, name = "limit_after_dedup")
    }
    .manager(&StreamingQueryManager::new())
    .start()
    .unwrap();
    let rt = runtime();
    for batch in [&[1, 2][..], &[3, 4]] {
        input.add_rows(&nums(batch)).unwrap();
        rt.block_on(query.process_all_available()).unwrap();
    }
    rt.block_on(query.stop());
    let got: Vec<i64> = values(&batches("limit_after_dedup"))
        .into_iter()
        .flat_map(|(_, v)| v)
        .collect();
    assert_eq!(got, [1]);
}

/// A JSON file of `v` values, one a line, landed as file number `seq`.
fn land(dir: &Path, seq: u64, vs: &[i64]) {
    let text: String = vs.iter().map(|v| format!("{{\"v\":{v}}}\n")).collect();
    land_file(dir, &format!("part-{seq}.json"), &text, seq);
}

/// `limit(5)` over the JSON files of `landing`, one file a batch, until they are read.
fn limited(
    landing: &Path,
    table: &str,
) -> stream_core::QueryBuilder<impl stream_core::types::TypedRow> {
    let path = landing.to_string_lossy().to_string();
    let table = table.to_string();
    stream! {
        schema Num { v: i64 }
        read(json, path = {path.clone()}, schema = Num, max_files_per_trigger = 1)
            .limit(5)
            .write(memory, name = {table.clone()})
            .trigger(available_now)
    }
}

#[test]
fn a_restarted_limit_keeps_its_count_and_never_writes_more_rows() {
    // in memory and in the disk store, which keeps the count in its database
    for (store, table) in [
        (StateStoreKind::Memory, "limit_restart"),
        (StateStoreKind::Disk, "limit_restart_disk"),
    ] {
        let landing = tempfile::tempdir().unwrap();
        let checkpoint = tempfile::tempdir().unwrap();
        let rt = runtime();
        let run = || {
            let query = limited(landing.path(), table)
                .state_store(store)
                .manager(&StreamingQueryManager::new())
                .checkpoint_location(checkpoint.path())
                .start()
                .unwrap();
            rt.block_on(query.await_termination()).unwrap();
        };
        land(landing.path(), 0, &[1, 2]);
        land(landing.path(), 1, &[3, 4]);
        run();
        assert_eq!(values(&batches(table)), [(0, vec![1, 2]), (1, vec![3, 4])]);
        // a new run on the checkpoint: one row is left of the five
        land(landing.path(), 2, &[5, 6, 7]);
        land(landing.path(), 3, &[8]);
        run();
        assert_eq!(
            values(&batches(table)),
            [(0, vec![1, 2]), (1, vec![3, 4]), (2, vec![5])],
            "{store:?}"
        );
        // the state reader finds the count: five rows let through after batch 3
        let state = stream_core::state::read(checkpoint.path(), "0", 3).unwrap();
        // `key` and `value` are structs of the key's and the value's columns, as Spark's
        // state data source gives them
        let value = state
            .column_by_name("value")
            .and_then(|c| c.as_any().downcast_ref::<arrow_array::StructArray>())
            .and_then(|v| v.column_by_name("value"))
            .and_then(|c| c.as_any().downcast_ref::<arrow_array::Int64Array>())
            .map(|c| c.value(0));
        assert_eq!((state.num_rows(), value), (1, Some(5)), "{store:?}");
    }
}

#[test]
fn a_limit_crashed_at_any_point_resumes_with_the_rows_of_an_uninterrupted_run() {
    let landing = tempfile::tempdir().unwrap();
    land(landing.path(), 0, &[1, 2]);
    land(landing.path(), 1, &[3, 4]);
    land(landing.path(), 2, &[5, 6, 7]);
    land(landing.path(), 3, &[8]);
    let rt = runtime();
    let expected = vec![(0, vec![1, 2]), (1, vec![3, 4]), (2, vec![5])];
    for batch in 0..4 {
        for point in [
            FaultPoint::AfterOffsetsWrite,
            FaultPoint::DuringSinkWrite,
            FaultPoint::BeforeCommit,
        ] {
            let checkpoint = tempfile::tempdir().unwrap();
            let table = format!("limit_crash_{batch}_{point:?}");
            let start = |fault: bool| {
                let b = limited(landing.path(), &table);
                let b = if fault {
                    b.inject_fault(point, batch)
                } else {
                    b
                };
                b.manager(&StreamingQueryManager::new())
                    .checkpoint_location(checkpoint.path())
                    .start()
                    .unwrap()
            };
            let crashed = start(true);
            let error = rt.block_on(crashed.await_termination()).unwrap_err();
            assert!(
                matches!(*error, StreamError::InjectedFault { batch_id, .. } if batch_id == batch),
                "{error}"
            );
            rt.block_on(start(false).await_termination()).unwrap();
            assert_eq!(
                values(&batches(&table)),
                expected,
                "a crash at {point:?} of batch {batch}"
            );
        }
    }
}
