//! `stream_core::state::read` on the checkpoint of each stateful operator — a grouped
//! count, a windowed count, a session window, a deduplication and a join of two streams —
//! written by either store: the keys and values it returns are those the rows put in
//! make, computed here from the rows, not read from the engine.

use std::collections::{BTreeMap, BTreeSet};

use arrow_array::cast::AsArray;
use arrow_array::types::{Int64Type, TimestampMillisecondType};
use arrow_array::{Array, RecordBatch, StructArray};
use stream_core::state::StateStoreKind;
use stream_core::types::TimestampMs;
use stream_core::types::TypedRow;
use stream_core::{MemoryStream, QueryBuilder, Schema, StreamingQueryManager, stream};
use tests::runtime;

#[derive(Schema, Clone, Debug)]
struct Click {
    user: String,
    at: TimestampMs,
}

fn click(user: &str, seconds: i64) -> Click {
    Click {
        user: user.into(),
        at: TimestampMs(seconds * 1_000),
    }
}

/// Three batches of clicks: users a, b and c at a few seconds.
fn batches() -> Vec<Vec<Click>> {
    vec![
        vec![click("a", 1), click("b", 2), click("a", 3)],
        vec![click("a", 4), click("c", 70), click("b", 71)],
        vec![click("a", 72), click("c", 200)],
    ]
}

fn all_clicks() -> Vec<Click> {
    batches().into_iter().flatten().collect()
}

/// Runs `query` (reading `input`) over the batches with `store` and returns its
/// checkpoint.
fn run(store: StateStoreKind, input: &MemoryStream, query: QueryBuilder) -> tempfile::TempDir {
    let checkpoint = tempfile::tempdir().unwrap();
    let q = query
        .manager(&StreamingQueryManager::new())
        .checkpoint_location(checkpoint.path())
        .state_store(store)
        .start()
        .unwrap();
    let rt = runtime();
    for batch in batches() {
        input.add_rows(&batch).unwrap();
        rt.block_on(q.process_all_available()).unwrap();
    }
    rt.block_on(q.stop());
    assert!(q.exception().is_none(), "{:?}", q.exception());
    checkpoint
}

/// The state of `operator` after the last committed batch (a watermark that moved adds
/// a batch without data).
fn last(checkpoint: &tempfile::TempDir, operator: &str) -> RecordBatch {
    let batch = stream_core::state::last_committed(checkpoint.path())
        .unwrap()
        .expect("a committed batch")
        .id;
    stream_core::state::read(checkpoint.path(), operator, batch).unwrap()
}

fn field<'a>(s: &'a StructArray, name: &str) -> &'a dyn Array {
    s.column_by_name(name)
        .unwrap_or_else(|| panic!("no `{name}` in {:?}", s.fields()))
        .as_ref()
}

fn strings(a: &dyn Array) -> Vec<String> {
    a.as_string::<i32>()
        .iter()
        .map(|v| v.unwrap().to_string())
        .collect()
}

fn longs(a: &dyn Array) -> Vec<i64> {
    a.as_primitive::<Int64Type>().values().to_vec()
}

fn times(a: &dyn Array) -> Vec<i64> {
    a.as_primitive::<TimestampMillisecondType>()
        .values()
        .to_vec()
}

fn parts(table: &RecordBatch) -> (&StructArray, &StructArray) {
    let names: Vec<_> = table
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    assert_eq!(names, ["key", "value", "partition_id"]);
    (table.column(0).as_struct(), table.column(1).as_struct())
}

const STORES: [StateStoreKind; 2] = [StateStoreKind::Memory, StateStoreKind::Disk];

#[test]
fn a_grouped_count_reads_as_each_users_count() {
    for store in STORES {
        let input = MemoryStream::new(Click::arrow_schema());
        let query = stream! {
            schema Click = Click;
            read(memory, stream = {input.clone()}, schema = Click)
                .group_by(user)
                .agg(count() as clicks)
                .write(memory, name = "state_reader_count")
                .output_mode(complete)
        };
        let checkpoint = run(store, &input, query.untyped());
        let table = last(&checkpoint, "0");
        let (keys, values) = parts(&table);
        let found: BTreeMap<String, i64> = strings(field(keys, "user"))
            .into_iter()
            .zip(longs(field(values, "__acc0")))
            .collect();
        let mut expected = BTreeMap::new();
        for c in all_clicks() {
            *expected.entry(c.user).or_insert(0) += 1;
        }
        assert_eq!(found, expected, "{store:?}");
        // an earlier batch reads as the state after it
        let first = stream_core::state::read(checkpoint.path(), "0", 0).unwrap();
        assert_eq!(first.num_rows(), 2, "{store:?}: a and b after batch 0");
    }
}

#[test]
fn a_windowed_count_reads_as_the_open_windows() {
    for store in STORES {
        let input = MemoryStream::new(Click::arrow_schema());
        let query = stream! {
            schema Click = Click;
            read(memory, stream = {input.clone()}, schema = Click)
                .with_watermark(at, "10 seconds")
                .group_by(window(at, "1 minute"), user)
                .agg(count() as clicks)
                .write(memory, name = "state_reader_window")
                .output_mode(update)
        };
        let checkpoint = run(store, &input, query.untyped());
        let table = last(&checkpoint, "0");
        let (keys, values) = parts(&table);
        let found: BTreeSet<(String, i64, i64)> = strings(field(keys, "user"))
            .into_iter()
            .zip(times(field(keys, "window_start")))
            .zip(longs(field(values, "__acc0")))
            .map(|((u, w), n)| (u, w, n))
            .collect();
        // the watermark after the last click is 200 s - 10 s: windows ending at or
        // before it are gone; the rest hold their counts
        let watermark = 190_000;
        let mut expected: BTreeMap<(String, i64), i64> = BTreeMap::new();
        for c in all_clicks() {
            let start = c.at.0 / 60_000 * 60_000;
            *expected.entry((c.user, start)).or_insert(0) += 1;
        }
        let expected: BTreeSet<(String, i64, i64)> = expected
            .into_iter()
            .filter(|((_, start), _)| start + 60_000 > watermark)
            .map(|((u, s), n)| (u, s, n))
            .collect();
        assert_eq!(found, expected, "{store:?}");
    }
}

#[test]
fn a_deduplication_reads_as_the_keys_seen() {
    for store in STORES {
        let input = MemoryStream::new(Click::arrow_schema());
        let query = stream! {
            schema Click = Click;
            read(memory, stream = {input.clone()}, schema = Click)
                .with_watermark(at, "1 hour")
                .drop_duplicates(user, at)
                .write(memory, name = "state_reader_dedup")
        };
        let checkpoint = run(store, &input, query.untyped());
        let table = last(&checkpoint, "0");
        let (keys, _) = parts(&table);
        let found: BTreeSet<(String, i64)> = strings(field(keys, "user"))
            .into_iter()
            .zip(times(field(keys, "at")))
            .collect();
        let expected: BTreeSet<(String, i64)> =
            all_clicks().into_iter().map(|c| (c.user, c.at.0)).collect();
        assert_eq!(found, expected, "{store:?}");
    }
}

#[test]
fn a_session_window_reads_as_the_open_sessions() {
    for store in STORES {
        let input = MemoryStream::new(Click::arrow_schema());
        let query = stream! {
            schema Click = Click;
            read(memory, stream = {input.clone()}, schema = Click)
                .group_by(session_window(at, "1 minute"), user)
                .agg(count() as clicks)
                .write(memory, name = "state_reader_session")
                .output_mode(complete)
        };
        let checkpoint = run(store, &input, query.untyped());
        let table = last(&checkpoint, "0");
        let (keys, values) = parts(&table);
        let mut found: Vec<(String, i64)> = strings(field(keys, "user"))
            .into_iter()
            .zip(longs(field(values, "__acc0")))
            .collect();
        found.sort();
        // per user, clicks less than a minute apart are one session
        let mut by_user: BTreeMap<String, Vec<i64>> = BTreeMap::new();
        for c in all_clicks() {
            by_user.entry(c.user).or_default().push(c.at.0);
        }
        let mut expected = Vec::new();
        for (user, mut at) in by_user {
            at.sort();
            let mut count = 1;
            for pair in at.windows(2) {
                if pair[1] - pair[0] < 60_000 {
                    count += 1;
                } else {
                    expected.push((user.clone(), count));
                    count = 1;
                }
            }
            expected.push((user, count));
        }
        expected.sort();
        assert_eq!(found, expected, "{store:?}");
    }
}

#[test]
#[allow(deprecated)] // a join without a bound: every row stays, which is what is read
fn a_join_of_two_streams_reads_as_each_sides_buffered_rows() {
    for store in STORES {
        let input = MemoryStream::new(Click::arrow_schema());
        let query = stream! {
            schema Click = Click;
            let clicks = read(memory, stream = {input.clone()}, schema = Click);
            let others = clicks.filter(user != "a").select(user, at as other_at);
            clicks
                .filter(user != "c")
                .join(others, on = user)
                .write(memory, name = "state_reader_join")
        };
        let checkpoint = run(store, &input, query.untyped());
        let operators: Vec<String> = stream_core::state::operators(checkpoint.path())
            .unwrap()
            .into_iter()
            .map(|o| o.operator)
            .collect();
        assert_eq!(operators, ["0-left", "0-right"], "{store:?}");
        let left = last(&checkpoint, "0-left");
        let (_, rows) = parts(&left);
        let mut found = strings(field(rows, "user"));
        found.sort();
        let mut expected: Vec<String> = all_clicks()
            .into_iter()
            .filter(|c| c.user != "c")
            .map(|c| c.user)
            .collect();
        expected.sort();
        assert_eq!(
            found, expected,
            "{store:?}: every left row is buffered (no bound)"
        );
        let right = last(&checkpoint, "0-right");
        assert_eq!(
            right.num_rows(),
            all_clicks().iter().filter(|c| c.user != "a").count(),
            "{store:?}"
        );
    }
}

#[test]
fn an_unknown_operator_and_a_batch_no_longer_kept_are_refused_with_reasons() {
    let input = MemoryStream::new(Click::arrow_schema());
    let query = stream! {
        schema Click = Click;
        read(memory, stream = {input.clone()}, schema = Click)
            .group_by(user)
            .agg(count() as clicks)
            .write(memory, name = "state_reader_errors")
            .output_mode(complete)
    };
    let checkpoint = run(StateStoreKind::Memory, &input, query.untyped());
    let err = stream_core::state::read(checkpoint.path(), "7", 2).unwrap_err();
    assert!(
        err.to_string()
            .contains("no state of operator `7`; it has: 0"),
        "{err}"
    );
    let err = stream_core::state::read(checkpoint.path(), "0", 9).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid query: batch 9 of the checkpoint is not committed: its last committed batch is 2"
            .replace(
                "the checkpoint",
                &format!("`{}`", checkpoint.path().display())
            )
    );
    // a batch whose state retention removed names the file it needs
    std::fs::remove_file(checkpoint.path().join("state/0/0/0.delta")).ok();
    std::fs::remove_file(checkpoint.path().join("state/0/1/0.delta")).ok();
    let err = stream_core::state::read(checkpoint.path(), "0", 1).unwrap_err();
    assert!(err.to_string().contains("0.delta`: is missing"), "{err}");
}
