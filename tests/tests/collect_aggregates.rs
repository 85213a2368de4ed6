//! `collect_list` and `collect_set` end to end, against values computed here from the
//! input: nulls left out, the list in arrival order, the set distinct and sorted; in
//! update, complete and append mode (a window closed by the watermark); the same for any
//! number of tasks and shuffle partitions; every value once after a restart from the
//! checkpoint in the middle of the stream; the lists read back as `Vec<T>` fields.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use stream_core::types::{Date32, TimestampMs};
use stream_core::{FaultPoint, MemoryStream, Schema, StreamError, StreamingQueryManager, stream};
use tests::{land_file, runtime};

#[derive(Schema, Clone, Debug)]
struct Tag {
    ts: TimestampMs,
    user: String,
    tag: Option<String>,
    score: Option<i64>,
    ratio: Option<f64>,
    flag: Option<bool>,
    day: Option<Date32>,
    n: i32,
}

fn tag(second: i64, user: &str, t: Option<&str>, score: Option<i64>) -> Tag {
    Tag {
        ts: TimestampMs(second * 1_000),
        user: user.into(),
        tag: t.map(String::from),
        score,
        ratio: score.map(|s| s as f64 / 2.0),
        flag: score.map(|s| s % 2 == 0),
        day: score.map(|s| Date32(s as i32 % 3)),
        n: second as i32,
    }
}

/// Three batches: repeated values, nulls, a group whose values are all null.
fn batches() -> Vec<Vec<Tag>> {
    vec![
        vec![
            tag(1, "ann", Some("b"), Some(3)),
            tag(2, "bob", None, None),
            tag(3, "ann", Some("a"), None),
            tag(4, "ann", Some("b"), Some(1)),
        ],
        vec![
            tag(10, "cid", None, None),
            tag(11, "ann", None, Some(3)),
            tag(12, "bob", Some("z"), Some(-4)),
        ],
        vec![
            tag(20, "bob", Some("z"), Some(7)),
            tag(21, "ann", Some("c"), Some(2)),
            tag(22, "bob", Some("a"), None),
        ],
    ]
}

/// What one group collects, computed from its rows in arrival order.
#[derive(Debug, Default, PartialEq)]
struct Expected {
    tags: Vec<String>,
    tag_set: Vec<String>,
    scores: Vec<i64>,
    score_set: Vec<i64>,
    ratios: Vec<f64>,
    flag_set: Vec<bool>,
    day_set: Vec<Date32>,
    times: Vec<TimestampMs>,
    ns: Vec<i32>,
}

/// Adds `x` (unless null) to the distinct, ascending `v`.
fn set<T: Ord>(v: &mut Vec<T>, x: Option<T>) {
    let mut s: BTreeSet<T> = v.drain(..).collect();
    s.extend(x);
    v.extend(s);
}

fn expected<'a>(rows: impl IntoIterator<Item = &'a Tag>) -> BTreeMap<String, Expected> {
    let mut out: BTreeMap<String, Expected> = BTreeMap::new();
    for r in rows {
        let e = out.entry(r.user.clone()).or_default();
        e.tags.extend(r.tag.clone());
        e.scores.extend(r.score);
        e.ratios.extend(r.ratio);
        e.times.push(r.ts);
        e.ns.push(r.n);
        set(&mut e.tag_set, r.tag.clone());
        set(&mut e.score_set, r.score);
        set(&mut e.flag_set, r.flag);
        set(&mut e.day_set, r.day);
    }
    out
}

macro_rules! start_collect {
    ($input:expr, $name:expr, $mode:ident, $tasks:expr, $partitions:expr, $checkpoint:expr) => {
        stream! {
            schema Tag = Tag;
            read(memory, stream = {$input.clone()}, schema = Tag)
                .group_by(user)
                .agg(
                    collect_list(tag) as tags,
                    collect_set(tag) as tag_set,
                    collect_list(score) as scores,
                    collect_set(score) as score_set,
                    collect_list(ratio) as ratios,
                    collect_set(flag) as flag_set,
                    collect_set(day) as day_set,
                    collect_list(ts) as times,
                    collect_list(n) as ns,
                )
                .write(memory, name = {$name})
                .output_mode($mode)
        }
        .manager(&StreamingQueryManager::new())
        .checkpoint_location($checkpoint)
        .parallelism($tasks)
        .shuffle_partitions($partitions)
        .start()
        .unwrap()
    };
}

macro_rules! as_expected {
    ($rows:expr) => {{
        let mut out = BTreeMap::new();
        for r in $rows {
            let e = Expected {
                tags: r.tags.clone(),
                tag_set: r.tag_set.clone(),
                scores: r.scores.clone(),
                score_set: r.score_set.clone(),
                ratios: r.ratios.clone(),
                flag_set: r.flag_set.clone(),
                day_set: r.day_set.clone(),
                times: r.times.clone(),
                ns: r.ns.clone(),
            };
            assert!(out.insert(r.user.clone(), e).is_none(), "{} twice", r.user);
        }
        out
    }};
}

#[test]
// update mode without a watermark keeps every group: the warning says so, and here it is
// meant
#[allow(deprecated)]
fn update_mode_writes_each_touched_group_with_its_values_so_far() {
    let input = MemoryStream::of::<Tag>();
    let checkpoint = tempfile::tempdir().unwrap();
    let query = start_collect!(input, "collect_update", update, 1, 2, checkpoint.path());
    let rt = runtime();
    let mut seen = Vec::new();
    let mut written = 0;
    for batch in batches() {
        input.add_rows(&batch).unwrap();
        rt.block_on(query.process_all_available()).unwrap();
        seen.extend(batch.iter().cloned());
        let touched: BTreeSet<&String> = batch.iter().map(|t| &t.user).collect();
        let mut all = expected(&seen);
        all.retain(|user, _| touched.contains(user));
        let rows = query.rows().unwrap();
        assert_eq!(as_expected!(&rows[written..]), all);
        written = rows.len();
    }
    rt.block_on(query.stop());
    // the hand-read cases: nulls skipped, order kept, duplicates in the list only
    let rows = query.rows().unwrap();
    let ann = rows.iter().rev().find(|r| r.user == "ann").unwrap();
    assert_eq!(ann.tags, ["b", "a", "b", "c"]);
    assert_eq!(ann.tag_set, ["a", "b", "c"]);
    assert_eq!(ann.scores, [3, 1, 3, 2]);
    assert_eq!(ann.score_set, [1, 2, 3]);
    assert_eq!(ann.flag_set, [false, true]);
    let cid = rows.iter().find(|r| r.user == "cid").unwrap();
    assert!(cid.tags.is_empty() && cid.score_set.is_empty());
    assert_eq!(cid.ns, [10]);
}

#[test]
fn complete_mode_gives_the_same_lists_for_any_tasks_and_partitions() {
    let all: Vec<Tag> = batches().concat();
    for (i, (tasks, partitions)) in [(1, 1), (2, 3), (3, 7)].into_iter().enumerate() {
        let input = MemoryStream::of::<Tag>();
        let checkpoint = tempfile::tempdir().unwrap();
        let name = format!("collect_complete_{i}");
        let query = start_collect!(input, name, complete, tasks, partitions, checkpoint.path());
        let rt = runtime();
        let mut seen = Vec::new();
        for batch in batches() {
            input.add_rows(&batch).unwrap();
            rt.block_on(query.process_all_available()).unwrap();
            seen.extend(batch);
            assert_eq!(
                as_expected!(&query.rows().unwrap()),
                expected(&seen),
                "{tasks} tasks, {partitions} partitions"
            );
        }
        rt.block_on(query.stop());
        assert_eq!(as_expected!(&query.rows().unwrap()), expected(&all));
    }
}

#[test]
fn the_state_size_counts_the_collected_values() {
    let input = MemoryStream::of::<Tag>();
    let checkpoint = tempfile::tempdir().unwrap();
    let query = start_collect!(input, "collect_memory", complete, 1, 1, checkpoint.path());
    let rt = runtime();
    let memory = |query: &stream_core::StreamingQuery| -> u64 {
        query.recent_progress().last().unwrap().state_operators[0]
            .metrics
            .memory_used_bytes
    };
    input
        .add_rows(&[tag(1, "ann", Some("a"), Some(1))])
        .unwrap();
    rt.block_on(query.process_all_available()).unwrap();
    let small = memory(&query);
    let long = "x".repeat(10_000);
    let rows: Vec<Tag> = (0..20)
        .map(|i| tag(2 + i, "ann", Some(&format!("{long}{i}")), Some(i)))
        .collect();
    input.add_rows(&rows).unwrap();
    rt.block_on(query.process_all_available()).unwrap();
    rt.block_on(query.stop());
    // two lists of 20 strings of 10 kB each: at least 400 kB more
    assert!(
        memory(&query) >= small + 400_000,
        "{small} -> {}",
        memory(&query)
    );
}

#[derive(Schema, Clone, Debug)]
struct Visit {
    ts: TimestampMs,
    page: String,
    user: Option<String>,
}

#[test]
fn append_mode_writes_a_window_once_the_watermark_passes_it() {
    let input = MemoryStream::of::<Visit>();
    let checkpoint = tempfile::tempdir().unwrap();
    let query = stream! {
        schema Visit = Visit;
        read(memory, stream = {input.clone()}, schema = Visit)
            .with_watermark(ts, "10 seconds")
            .group_by(window(ts, "1 minute"), page)
            .agg(collect_list(user) as users, collect_set(user) as distinct_users)
            .write(memory, name = "collect_append")
            .output_mode(append)
    }
    .manager(&StreamingQueryManager::new())
    .checkpoint_location(checkpoint.path())
    .parallelism(2)
    .shuffle_partitions(3)
    .start()
    .unwrap();
    let visit = |second: i64, page: &str, user: Option<&str>| Visit {
        ts: TimestampMs(second * 1_000),
        page: page.into(),
        user: user.map(String::from),
    };
    // the watermark (the newest time minus 10 s) a batch runs with is the one the batches
    // before it set; a window is written once its end is at most that watermark
    let steps = [
        vec![
            visit(5, "home", Some("bo")),
            visit(7, "home", None),
            visit(30, "home", Some("al")),
            visit(40, "cart", Some("al")),
        ],
        // runs with 30 s: nothing closes
        vec![visit(50, "home", Some("bo")), visit(65, "home", Some("cy"))],
        // runs with 55 s: nothing closes; 20 s is not late ([0, 60) ends after 30 s)
        vec![
            visit(90, "cart", Some("dee")),
            visit(20, "home", Some("al")),
        ],
        // runs with 80 s: [0, 60) closes
        vec![visit(150, "home", None)],
        // runs with 140 s: [60, 120) closes; 15 s is late (60 <= 80) and dropped
        vec![
            visit(200, "cart", Some("ed")),
            visit(15, "home", Some("zed")),
        ],
        // runs with 190 s: [120, 180) closes, its only value null: an empty list
        vec![visit(205, "cart", None)],
    ];
    let rt = runtime();
    for step in &steps {
        input.add_rows(step).unwrap();
        rt.block_on(query.process_all_available()).unwrap();
    }
    rt.block_on(query.stop());
    let mut rows: Vec<(i64, String, Vec<String>, Vec<String>)> = query
        .rows()
        .unwrap()
        .into_iter()
        .map(|r| (r.window_start.0 / 1_000, r.page, r.users, r.distinct_users))
        .collect();
    rows.sort();
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    // computed by hand from the steps above: the closed windows, once each
    assert_eq!(
        rows,
        [
            (0, "cart".to_string(), s(&["al"]), s(&["al"])),
            (
                0,
                "home".to_string(),
                s(&["bo", "al", "bo", "al"]),
                s(&["al", "bo"])
            ),
            (60, "cart".to_string(), s(&["dee"]), s(&["dee"])),
            (60, "home".to_string(), s(&["cy"]), s(&["cy"])),
            (120, "home".to_string(), s(&[]), s(&[])),
        ]
    );
}

/// Four landing files of users' tags (some null), one file a batch.
fn land_tags(dir: &Path) -> Vec<(String, Option<String>, Option<i64>)> {
    let mut kept = Vec::new();
    for file in 0..4u64 {
        let mut lines = Vec::new();
        for i in 0..6u64 {
            let user = format!("u{}", (file + i) % 3);
            let t = (i % 4 != 0).then(|| format!("t{}", (file * 7 + i) % 5));
            let score = (i % 3 != 1).then(|| ((file * 5 + i * 3) % 4) as i64);
            let t_text = t
                .as_ref()
                .map_or("null".to_string(), |t| format!("\"{t}\""));
            let s_text = score.map_or("null".to_string(), |s| s.to_string());
            lines.push(format!(
                r#"{{"user":"{user}","tag":{t_text},"score":{s_text}}}"#
            ));
            kept.push((user, t, score));
        }
        land_file(
            dir,
            &format!("tags-{file:05}.json"),
            &(lines.join("\n") + "\n"),
            file,
        );
    }
    kept
}

macro_rules! file_query {
    ($landing:expr, $table:expr) => {
        stream! {
            schema Tagged { user: string, tag: Option<string>, score: Option<i64> }
            read(json, path = {$landing}, schema = Tagged, max_files_per_trigger = 1)
                .group_by(user)
                .agg(collect_list(tag) as tags, collect_set(score) as scores)
                .write(memory, name = {$table})
                .output_mode(complete)
                .trigger(available_now)
        }
    };
}

#[test]
fn a_restart_from_the_checkpoint_collects_every_value_once() {
    let landing = tempfile::tempdir().unwrap();
    let kept = land_tags(landing.path());
    let mut expected: BTreeMap<String, (Vec<String>, BTreeSet<i64>)> = BTreeMap::new();
    for (user, t, score) in &kept {
        let e = expected.entry(user.clone()).or_default();
        e.0.extend(t.clone());
        e.1.extend(*score);
    }
    let expected: BTreeMap<String, (Vec<String>, Vec<i64>)> = expected
        .into_iter()
        .map(|(u, (t, s))| (u, (t, s.into_iter().collect())))
        .collect();
    let rt = runtime();
    let start = |table: &str, checkpoint: &Path, fault: Option<(FaultPoint, u64)>| {
        let mut builder = file_query!(landing.path(), table);
        if let Some((point, batch)) = fault {
            builder = builder.inject_fault(point, batch);
        }
        builder
            .manager(&StreamingQueryManager::new())
            .checkpoint_location(checkpoint)
            .start()
            .expect("query starts")
    };
    for batch in [1, 2] {
        for point in [
            FaultPoint::AfterOffsetsWrite,
            FaultPoint::DuringSinkWrite,
            FaultPoint::BeforeCommit,
        ] {
            let checkpoint = tempfile::tempdir().unwrap();
            let table = format!("collect_restart_{batch}_{point:?}");
            let crashed = start(&table, checkpoint.path(), Some((point, batch)));
            let error = rt.block_on(crashed.await_termination()).unwrap_err();
            assert!(
                matches!(*error, StreamError::InjectedFault { batch_id, .. } if batch_id == batch),
                "{error}"
            );
            let resumed = start(&table, checkpoint.path(), None);
            rt.block_on(resumed.await_termination()).unwrap();
            let got: BTreeMap<String, (Vec<String>, Vec<i64>)> = resumed
                .rows()
                .unwrap()
                .into_iter()
                .map(|r| (r.user, (r.tags, r.scores)))
                .collect();
            assert_eq!(got, expected, "a failure at {point:?} of batch {batch}");
        }
    }
}

/// A windowed collect into sink `$kind` (parquet or json at `$out`, or console).
macro_rules! visits_to {
    ($input:expr, $checkpoint:expr, $($sink:tt)*) => {
        stream! {
            schema Visit = Visit;
            read(memory, stream = {$input.clone()}, schema = Visit)
                .with_watermark(ts, "10 seconds")
                .group_by(window(ts, "1 minute"), page)
                .agg(collect_list(user) as users, collect_set(user) as distinct_users)
                .write($($sink)*)
                .output_mode(append)
                .checkpoint({$checkpoint})
        }
        .manager(&StreamingQueryManager::new())
        .start()
        .unwrap()
    };
}

/// The closed windows the sink files under `out` hold, as (start s, page, users, set).
fn file_rows(out: &Path) -> Vec<(i64, String, Vec<String>, Vec<String>)> {
    use stream_core::__private::arrow_array::cast::AsArray;
    use stream_core::__private::arrow_array::types::{Int64Type, TimestampMillisecondType};
    use stream_core::types::ColumnValue;
    let mut rows = Vec::new();
    for batch in stream_core::read_file_sink(out).unwrap() {
        let column = |name: &str| batch.column_by_name(name).unwrap().clone();
        let start = column("window_start");
        // JSON reads back timestamps as it wrote them, which may be another arrow type
        let starts: Vec<i64> = match start.as_primitive_opt::<TimestampMillisecondType>() {
            Some(a) => a.values().iter().map(|v| v / 1_000).collect(),
            None => start
                .as_primitive::<Int64Type>()
                .values()
                .iter()
                .map(|v| v / 1_000)
                .collect(),
        };
        let pages = String::from_array(column("page").as_ref(), "page").unwrap();
        let users = Vec::<String>::from_array(column("users").as_ref(), "users").unwrap();
        let set = Vec::<String>::from_array(column("distinct_users").as_ref(), "d").unwrap();
        for i in 0..batch.num_rows() {
            rows.push((
                starts[i],
                pages[i].clone().unwrap(),
                users[i].clone().unwrap(),
                set[i].clone().unwrap(),
            ));
        }
    }
    rows.sort();
    rows
}

#[test]
fn parquet_json_and_console_sinks_take_list_columns() {
    let visit = |second: i64, page: &str, user: Option<&str>| Visit {
        ts: TimestampMs(second * 1_000),
        page: page.into(),
        user: user.map(String::from),
    };
    let steps = [
        vec![
            visit(5, "home", Some("bo")),
            visit(7, "home", None),
            visit(9, "home", Some("al")),
        ],
        vec![visit(100, "home", Some("cy"))],
        vec![visit(130, "home", None)],
    ];
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let expected = vec![
        (0, "home".to_string(), s(&["bo", "al"]), s(&["al", "bo"])),
        (60, "home".to_string(), s(&["cy"]), s(&["cy"])),
    ];
    let rt = runtime();
    let run = |format: &str, out: &Path| {
        let input = MemoryStream::of::<Visit>();
        let checkpoint = tempfile::tempdir().unwrap();
        macro_rules! steps {
            ($query:expr) => {{
                let query = $query;
                for step in &steps {
                    input.add_rows(step).unwrap();
                    rt.block_on(query.process_all_available()).unwrap();
                }
                rt.block_on(query.stop());
                assert!(query.exception().is_none(), "{format}");
            }};
        }
        match format {
            "parquet" => steps!(visits_to!(
                input,
                checkpoint.path(),
                parquet,
                path = { out }
            )),
            "json" => steps!(visits_to!(input, checkpoint.path(), json, path = { out })),
            _ => steps!(visits_to!(input, checkpoint.path(), console)),
        }
    };
    for format in ["parquet", "json"] {
        let out = tempfile::tempdir().unwrap();
        run(format, out.path());
        assert_eq!(file_rows(out.path()), expected, "{format}");
    }
    run("console", Path::new("unused"));
}

#[test]
fn session_windows_collect_the_values_of_the_sessions_they_merge() {
    let input = MemoryStream::of::<Visit>();
    let checkpoint = tempfile::tempdir().unwrap();
    let query = stream! {
        schema Visit = Visit;
        read(memory, stream = {input.clone()}, schema = Visit)
            .with_watermark(ts, "10 minutes")
            .group_by(session_window(ts, "1 minute"), page)
            .agg(collect_list(user) as users, collect_set(user) as distinct_users)
            .write(memory, name = "collect_sessions")
            .output_mode(complete)
    }
    .manager(&StreamingQueryManager::new())
    .checkpoint_location(checkpoint.path())
    .parallelism(2)
    .shuffle_partitions(2)
    .start()
    .unwrap();
    let visit = |second: i64, user: Option<&str>| Visit {
        ts: TimestampMs(second * 1_000),
        page: "home".into(),
        user: user.map(String::from),
    };
    let rt = runtime();
    // two sessions, [0, 70) and [100, 160); then a visit at 65 s bridges them
    input
        .add_rows(&[
            visit(0, Some("bo")),
            visit(10, None),
            visit(100, Some("al")),
        ])
        .unwrap();
    rt.block_on(query.process_all_available()).unwrap();
    input.add_rows(&[visit(65, Some("bo"))]).unwrap();
    rt.block_on(query.process_all_available()).unwrap();
    rt.block_on(query.stop());
    let rows: Vec<(i64, i64, Vec<String>, Vec<String>)> = query
        .rows()
        .unwrap()
        .into_iter()
        .map(|r| {
            (
                r.session_window_start.0 / 1_000,
                r.session_window_end.0 / 1_000,
                r.users,
                r.distinct_users,
            )
        })
        .collect();
    // the merged session's list: its parts' values in the order of their start times
    assert_eq!(
        rows,
        [(
            0,
            160,
            vec!["bo".to_string(), "bo".to_string(), "al".to_string()],
            vec!["al".to_string(), "bo".to_string()]
        )]
    );
}

/// The book's example ("Event time": Aggregates), as a test of its own.
#[test]
fn the_book_example_holds() {
    #[derive(Schema, Clone)]
    struct PageVisit {
        page: String,
        user: Option<String>,
    }
    let rt = runtime();
    rt.block_on(async {
        let visit = |page: &str, user: Option<&str>| PageVisit {
            page: page.into(),
            user: user.map(String::from),
        };
        let visits = MemoryStream::of::<PageVisit>();
        let checkpoint = tempfile::tempdir().unwrap();
        let query = stream! {
            schema PageVisit = PageVisit;
            read(memory, stream = {visits.clone()}, schema = PageVisit)
                .group_by(page)
                .agg(collect_list(user) as users, collect_set(user) as distinct_users)
                .write(memory, name = "collect_book_example")
                .output_mode(complete)
                .checkpoint({checkpoint.path()})
        }
        .start()
        .unwrap();
        visits
            .add_rows(&[
                visit("/a", Some("cy")),
                visit("/a", None),
                visit("/a", Some("al")),
            ])
            .unwrap();
        query.process_all_available().await.unwrap();
        visits.add_rows(&[visit("/a", Some("cy"))]).unwrap();
        query.process_all_available().await.unwrap();
        let rows = query.rows().unwrap();
        assert_eq!(rows[0].users, ["cy", "al", "cy"]);
        assert_eq!(rows[0].distinct_users, ["al", "cy"]);
        query.stop().await;
    });
}
