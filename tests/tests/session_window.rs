//! Session windows end to end (`group_by(session_window(ts, gap), user)`), checked
//! against a small sessionizer written here without the engine: each event opens
//! `[ts, ts + gap)`, and a user's events sorted by time join the current session while
//! they are at or before its end.
//!
//! - sessions merge within a batch and across batches, and an event can bridge two
//!   stored sessions;
//! - append mode writes each session once, when the watermark passes its end; complete
//!   mode writes every session every batch;
//! - rows whose own session ends at or before the previous batch's watermark are dropped
//!   and counted, in both modes (as Spark does for session windows);
//! - the result does not depend on the number of tasks or shuffle partitions, nor on how
//!   the input is cut into batches, as long as no row is late;
//! - a query that fails at any point of a batch and restarts on its checkpoint writes
//!   every session exactly once.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use proptest::prelude::*;
use stream_core::types::{TimestampMs, TimestampUs};
use stream_core::{FaultPoint, MemoryStream, Schema, StreamError, StreamingQueryManager, stream};
use tests::{emitted, land_file, runtime};

const GAP_MS: i64 = 60_000;
const DELAY_MS: i64 = 120_000;

#[derive(Schema, Clone, Debug)]
struct Click {
    ts: TimestampMs,
    user: String,
    amount: Option<i64>,
}

#[derive(Schema, Clone)]
struct Tap {
    ts: TimestampUs,
    device: String,
}

fn at(minute: i64, second: i64) -> TimestampMs {
    TimestampMs((minute * 60 + second) * 1_000)
}

fn click(ts: TimestampMs, user: &str, amount: Option<i64>) -> Click {
    Click {
        ts,
        user: user.into(),
        amount,
    }
}

/// A session: (user, start ms, end ms).
type Key = (String, i64, i64);

/// A session's aggregates, as the queries here compute them.
#[derive(Clone, Debug, PartialEq)]
struct Agg {
    n: i64,
    priced: i64,
    total: Option<i64>,
    low: Option<i64>,
    high: Option<i64>,
    mean: Option<f64>,
    first_seen: i64,
    last_seen: i64,
}

type Sessions = BTreeMap<Key, Agg>;

/// The sessions of `events` (time ms, user, amount) with gap `gap`, computed directly.
fn sessionize<'a>(
    events: impl IntoIterator<Item = (i64, &'a str, Option<i64>)>,
    gap: i64,
) -> Sessions {
    let mut by_user: BTreeMap<&str, Vec<(i64, Option<i64>)>> = BTreeMap::new();
    for (t, user, amount) in events {
        by_user.entry(user).or_default().push((t, amount));
    }
    let mut sessions = Sessions::new();
    for (user, mut events) in by_user {
        events.sort_by_key(|e| e.0);
        let mut current: Vec<(i64, Option<i64>)> = Vec::new();
        let mut end = i64::MIN;
        let mut close = |current: &mut Vec<(i64, Option<i64>)>, end: i64| {
            if current.is_empty() {
                return;
            }
            let amounts: Vec<i64> = current.iter().filter_map(|e| e.1).collect();
            let total = (!amounts.is_empty()).then(|| amounts.iter().sum::<i64>());
            let agg = Agg {
                n: current.len() as i64,
                priced: amounts.len() as i64,
                total,
                low: amounts.iter().copied().min(),
                high: amounts.iter().copied().max(),
                mean: total.map(|t| t as f64 / amounts.len() as f64),
                first_seen: current[0].0,
                last_seen: current[current.len() - 1].0,
            };
            sessions.insert((user.to_string(), current[0].0, end), agg);
            current.clear();
        };
        for (t, amount) in events {
            if t > end {
                close(&mut current, end);
            }
            current.push((t, amount));
            end = end.max(t + gap);
        }
        close(&mut current, end);
    }
    sessions
}

fn sessionize_clicks(clicks: &[Click]) -> Sessions {
    sessionize(
        clicks.iter().map(|c| (c.ts.0, c.user.as_str(), c.amount)),
        GAP_MS,
    )
}

/// The sessions whose end is at or before `watermark`: what append mode has written.
fn closed_by(sessions: &Sessions, watermark: i64) -> Sessions {
    sessions
        .iter()
        .filter(|((_, _, end), _)| *end <= watermark)
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// The output rows of a session query as `Sessions`; panics on a session written twice.
macro_rules! sessions_of {
    ($rows:expr) => {{
        let mut sessions = Sessions::new();
        for r in $rows {
            let key = (
                r.user.clone(),
                r.session_window_start.0,
                r.session_window_end.0,
            );
            let agg = Agg {
                n: r.n,
                priced: r.priced,
                total: r.total,
                low: r.low,
                high: r.high,
                mean: r.mean,
                first_seen: r.first_seen.map_or(i64::MIN, |t| t.0),
                last_seen: r.last_seen.map_or(i64::MIN, |t| t.0),
            };
            assert!(
                sessions.insert(key.clone(), agg).is_none(),
                "session {key:?} written twice"
            );
        }
        sessions
    }};
}

/// A session query over `input` in output mode `$mode`, on `tasks` tasks and
/// `partitions` shuffle partitions, started on `checkpoint`.
macro_rules! start_sessions {
    ($input:expr, $name:expr, $mode:ident, $tasks:expr, $partitions:expr, $checkpoint:expr) => {
        stream! {
            schema Click = Click;
            read(memory, stream = {$input.clone()}, schema = Click)
                .with_watermark(ts, "2 minutes")
                .group_by(session_window(ts, "1 minute"), user)
                .agg(
                    count() as n,
                    count(amount) as priced,
                    sum(amount) as total,
                    min(amount) as low,
                    max(amount) as high,
                    avg(amount) as mean,
                    min(ts) as first_seen,
                    max(ts) as last_seen
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

/// The rows the query dropped as late, over all its batches.
fn dropped(query: &stream_core::StreamingQuery) -> u64 {
    query
        .recent_progress()
        .iter()
        .flat_map(|p| p.state_operators.iter())
        .map(|s| s.metrics.num_rows_dropped_by_watermark)
        .sum()
}

/// The watermark a batch after `seen` has run: the newest event time minus the delay.
fn watermark_after(seen: &[Click]) -> i64 {
    seen.iter()
        .map(|c| c.ts.0 - DELAY_MS)
        .max()
        .unwrap_or(0)
        .max(0)
}

/// The scripted input: per step, the rows and which of them are late.
fn script() -> Vec<Vec<(Click, bool)>> {
    vec![
        // ann: 00:00 and 00:30 merge within the batch into [00:00, 01:30); 02:00 opens
        // [02:00, 03:00); bob opens [00:10, 01:10). The watermark becomes 00:00.
        vec![
            (click(at(0, 0), "ann", Some(10)), false),
            (click(at(0, 30), "ann", None), false),
            (click(at(2, 0), "ann", Some(5)), false),
            (click(at(0, 10), "bob", Some(7)), false),
        ],
        // ann at 01:00 opens [01:00, 02:00): it overlaps [00:00, 01:30) and touches
        // [02:00, 03:00), and bridges them into [00:00, 03:00); bob at 01:00 extends his
        // session across batches to [00:10, 02:00); cat at 05:00 moves the watermark to
        // 03:00, which closes both
        vec![
            (click(at(1, 0), "ann", Some(1)), false),
            (click(at(1, 0), "bob", Some(3)), false),
            (click(at(5, 0), "cat", Some(2)), false),
        ],
        // late against 03:00: ann at 00:50 (its session would end at 01:50) and dan at
        // 01:30; cat at 05:30 joins [05:00, 06:00)
        vec![
            (click(at(0, 50), "ann", Some(100)), true),
            (click(at(1, 30), "dan", Some(100)), true),
            (click(at(5, 30), "cat", Some(4)), false),
        ],
        // 09:00 moves the watermark to 07:00: cat's [05:00, 06:30) closes
        vec![(click(at(9, 0), "cat", None), false)],
    ]
}

#[test]
fn append_mode_writes_each_session_once_when_the_watermark_passes_its_end() {
    let input = MemoryStream::of::<Click>();
    let checkpoint = tempfile::tempdir().unwrap();
    let name = "session_append_script";
    let query = start_sessions!(input, name, append, 2, 3, checkpoint.path());
    let rt = runtime();
    let mut seen = Vec::new();
    let mut kept = Vec::new();
    let mut late = 0;
    for step in script() {
        let rows: Vec<Click> = step.iter().map(|(c, _)| c.clone()).collect();
        input.add_rows(&rows).unwrap();
        rt.block_on(query.process_all_available()).unwrap();
        for (c, is_late) in step {
            late += u64::from(is_late);
            if !is_late {
                kept.push(c.clone());
            }
            seen.push(c);
        }
        let expected = closed_by(&sessionize_clicks(&kept), watermark_after(&seen));
        assert_eq!(sessions_of!(query.rows().unwrap()), expected);
    }
    rt.block_on(query.stop());
    assert_eq!(dropped(&query), late);
    assert_eq!(late, 2);

    // the script's cases, read off the sessionizer's result
    let written = sessions_of!(query.rows().unwrap());
    let keys: Vec<(&str, i64, i64)> = written
        .keys()
        .map(|(u, s, e)| (u.as_str(), s / 1_000, e / 1_000))
        .collect();
    assert_eq!(keys, [("ann", 0, 180), ("bob", 10, 120), ("cat", 300, 390)]);
    let ann = &written[&("ann".to_string(), 0, 180_000)];
    assert_eq!((ann.n, ann.priced, ann.total), (4, 3, Some(16)));
    assert_eq!((ann.low, ann.high), (Some(1), Some(10)));
}

#[test]
fn complete_mode_writes_every_session_every_batch_and_drops_late_rows_too() {
    let input = MemoryStream::of::<Click>();
    let checkpoint = tempfile::tempdir().unwrap();
    let name = "session_complete_script";
    let query = start_sessions!(input, name, complete, 1, 2, checkpoint.path());
    let rt = runtime();
    let mut kept = Vec::new();
    for step in script() {
        let rows: Vec<Click> = step.iter().map(|(c, _)| c.clone()).collect();
        input.add_rows(&rows).unwrap();
        rt.block_on(query.process_all_available()).unwrap();
        kept.extend(step.into_iter().filter(|(_, l)| !l).map(|(c, _)| c));
        // the open sessions too, and the closed ones stay
        assert_eq!(
            sessions_of!(query.rows().unwrap()),
            sessionize_clicks(&kept)
        );
    }
    rt.block_on(query.stop());
    assert_eq!(dropped(&query), 2);
}

#[test]
fn microsecond_timestamps_take_the_gap_in_their_unit() {
    let taps = MemoryStream::of::<Tap>();
    let checkpoint = tempfile::tempdir().unwrap();
    let query = stream! {
        schema Tap = Tap;
        read(memory, stream = {taps.clone()}, schema = Tap)
            .with_watermark(ts, "0 seconds")
            .group_by(session_window(ts, "2 seconds"), device)
            .agg(count() as n)
            .write(memory, name = "session_micros")
    }
    .manager(&StreamingQueryManager::new())
    .checkpoint_location(checkpoint.path())
    .start()
    .unwrap();
    let tap = |s: f64| Tap {
        ts: TimestampUs((s * 1e6) as i64),
        device: "d".into(),
    };
    taps.add_rows(&[tap(0.0), tap(1.5), tap(3.5), tap(6.0), tap(20.0)])
        .unwrap();
    let rt = runtime();
    rt.block_on(query.process_all_available()).unwrap();
    rt.block_on(query.stop());
    let mut rows: Vec<(i64, i64, i64)> = query
        .rows()
        .unwrap()
        .into_iter()
        .map(|r| (r.session_window_start.0, r.session_window_end.0, r.n))
        .collect();
    rows.sort();
    let expected: Vec<(i64, i64, i64)> = sessionize(
        [0.0, 1.5, 3.5, 6.0, 20.0].map(|s: f64| ((s * 1e6) as i64, "d", None)),
        2_000_000,
    )
    .into_iter()
    .filter(|((_, _, end), _)| *end <= 20_000_000)
    .map(|((_, s, e), a)| (s, e, a.n))
    .collect();
    assert_eq!(expected, [(0, 5_500_000, 3), (6_000_000, 8_000_000, 1)]);
    assert_eq!(rows, expected);
}

/// Clicks nearly in time order: each at most 30 s before the newest so far, so that with
/// a 2-minute delay none is late and no closed session can be reopened.
fn clicks() -> impl Strategy<Value = Vec<Click>> {
    prop::collection::vec(
        (0i64..50, 0usize..3, prop::option::of(0i64..100), 0i64..30),
        0..50,
    )
    .prop_map(|raw| {
        let mut now = 0i64;
        raw.into_iter()
            .map(|(step, user, amount, back)| {
                now += step * 1_000;
                click(
                    TimestampMs((now - back * 1_000).max(0)),
                    ["ann", "bob", "cat"][user],
                    amount,
                )
            })
            .collect()
    })
}

/// `clicks` cut into batches of the sizes `cuts` (the rest in a last batch).
fn cut(clicks: &[Click], cuts: &[usize]) -> Vec<Vec<Click>> {
    let mut batches = Vec::new();
    let mut rest = clicks;
    for &c in cuts {
        if rest.is_empty() {
            break;
        }
        let n = c.clamp(1, rest.len());
        batches.push(rest[..n].to_vec());
        rest = &rest[n..];
    }
    if !rest.is_empty() {
        batches.push(rest.to_vec());
    }
    batches
}

/// The sessions a query in `mode` writes for `batches` (one micro-batch each).
fn run(batches: &[Vec<Click>], mode: &str, tasks: usize, partitions: usize) -> (Sessions, u64) {
    let input = MemoryStream::of::<Click>();
    let checkpoint = tempfile::tempdir().unwrap();
    // a table of its own: memory tables are global, and tests run in parallel
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    let name = format!(
        "session_run_{mode}_{}",
        RUNS.fetch_add(1, Ordering::Relaxed)
    );
    let rt = runtime();
    macro_rules! feed {
        ($mode:ident) => {{
            let query = start_sessions!(
                input,
                name.clone(),
                $mode,
                tasks,
                partitions,
                checkpoint.path()
            );
            for b in batches {
                input.add_rows(b).unwrap();
                rt.block_on(query.process_all_available()).unwrap();
            }
            rt.block_on(query.stop());
            (sessions_of!(query.rows().unwrap()), dropped(&query))
        }};
    }
    let result = if mode == "complete" {
        feed!(complete)
    } else {
        feed!(append)
    };
    stream_core::MemorySink::new(&name).table().clear();
    result
}

#[test]
fn the_sessions_do_not_depend_on_partitions_or_batch_cuts() {
    let clicks: Vec<Click> = [
        (0, 0, "ann"),
        (0, 20, "bob"),
        (0, 50, "ann"),
        (1, 40, "ann"),
        (1, 45, "bob"),
        (2, 0, "cat"),
        (2, 30, "ann"),
        (4, 0, "bob"),
        (4, 30, "ann"),
        (9, 0, "cat"),
    ]
    .iter()
    .map(|&(m, s, u)| click(at(m, s), u, Some(m * 60 + s)))
    .collect();
    let expected = closed_by(&sessionize_clicks(&clicks), watermark_after(&clicks));
    assert!(expected.len() >= 4);
    let one_by_one: Vec<usize> = vec![1; clicks.len()];
    for cuts in [vec![], vec![3, 3], one_by_one] {
        let batches = cut(&clicks, &cuts);
        for (tasks, partitions) in [(1, 1), (2, 4), (3, 7)] {
            let (sessions, late) = run(&batches, "append", tasks, partitions);
            assert_eq!(late, 0);
            assert_eq!(
                sessions, expected,
                "cuts {cuts:?}, {tasks} tasks, {partitions} partitions"
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    #[test]
    fn append_and_complete_agree_with_the_sessionizer(
        clicks in clicks(),
        cuts in prop::collection::vec(1usize..15, 0..6),
        tasks in 1usize..4,
        partitions in 1usize..6,
    ) {
        let batches = cut(&clicks, &cuts);
        let all = sessionize_clicks(&clicks);

        let (complete, late) = run(&batches, "complete", tasks, partitions);
        prop_assert_eq!(late, 0);
        prop_assert_eq!(&complete, &all);

        let (append, late) = run(&batches, "append", tasks, partitions);
        prop_assert_eq!(late, 0);
        prop_assert_eq!(append, closed_by(&all, watermark_after(&clicks)));
    }
}

// ---- a crash and a restart --------------------------------------------------------

/// 2024-01-01T00:00:00Z in ms.
const BASE_MS: i64 = 1_704_067_200_000;

/// `ms` (within 2024-01-01, UTC) as the ISO text of the JSON input.
fn iso(ms: i64) -> String {
    let d = ms - BASE_MS;
    assert!((0..86_400_000).contains(&d), "{ms} is not on 2024-01-01");
    format!(
        "2024-01-01T{:02}:{:02}:{:02}.{:03}Z",
        d / 3_600_000,
        d / 60_000 % 60,
        d / 1_000 % 60,
        d % 1_000
    )
}

/// Six landing files of nearly ordered clicks (as in the property above), one row with
/// no time, and one row late by far in the fifth file. Returns the rows that count.
fn land_clicks(dir: &Path) -> Vec<(i64, String, Option<i64>)> {
    let mut kept = Vec::new();
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n) as i64
    };
    let mut now = BASE_MS;
    let mut newest = i64::MIN;
    // the newest event time after each file
    let mut newest_after: Vec<i64> = Vec::new();
    for file in 0..6usize {
        // batch `file` drops rows against the watermark of the batch before it, which
        // the files before that one set
        let late_watermark = match file.checked_sub(2) {
            Some(i) => newest_after[i] - DELAY_MS,
            None => i64::MIN,
        };
        let mut lines = Vec::new();
        for _ in 0..20 {
            now += next(40) * 1_000;
            let t = (now - next(30) * 1_000).max(BASE_MS);
            let user = format!("u{}", next(4));
            let amount = (next(5) > 0).then(|| next(100));
            assert!(t + GAP_MS > late_watermark);
            newest = newest.max(t);
            let amount_text = amount.map_or("null".to_string(), |a| a.to_string());
            lines.push(format!(
                r#"{{"ts":"{}","user":"{user}","amount":{amount_text}}}"#,
                iso(t)
            ));
            kept.push((t, user, amount));
        }
        if file == 2 {
            lines.push(r#"{"ts":null,"user":"u0","amount":1}"#.to_string());
        }
        if file == 4 {
            assert!(BASE_MS + GAP_MS <= late_watermark);
            lines.push(format!(
                r#"{{"ts":"{}","user":"u1","amount":1}}"#,
                iso(BASE_MS)
            ));
        }
        let text = lines.join("\n") + "\n";
        land_file(dir, &format!("clicks-{file:05}.json"), &text, file as u64);
        newest_after.push(newest);
    }
    kept
}

/// The session query over the landing folder `landing`, into memory table `table`.
macro_rules! file_query {
    ($landing:expr, $table:expr) => {
        stream! {
            schema Click { ts: Option<timestamp_ms>, user: string, amount: Option<i64> }
            read(json, path = {$landing}, schema = Click, max_files_per_trigger = 1)
                .with_watermark(ts, "2 minutes")
                .group_by(session_window(ts, "1 minute"), user)
                .agg(
                    count() as n,
                    count(amount) as priced,
                    sum(amount) as total,
                    min(amount) as low,
                    max(amount) as high,
                    avg(amount) as mean,
                    min(ts) as first_seen,
                    max(ts) as last_seen
                )
                .write(memory, name = {$table})
                .trigger(available_now)
        }
    };
}

#[test]
fn a_query_that_fails_mid_batch_resumes_and_writes_every_session_once() {
    let landing = tempfile::tempdir().unwrap();
    let kept = land_clicks(landing.path());
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

    // one uninterrupted run: the sessions the sessionizer finds, each once
    let checkpoint = tempfile::tempdir().unwrap();
    let whole = start("session_restart_whole", checkpoint.path(), None);
    rt.block_on(whole.await_termination()).unwrap();
    let newest = kept.iter().map(|k| k.0).max().unwrap();
    let expected = closed_by(
        &sessionize(kept.iter().map(|(t, u, a)| (*t, u.as_str(), *a)), GAP_MS),
        newest - DELAY_MS,
    );
    assert!(expected.len() > 10, "{} sessions", expected.len());
    assert_eq!(sessions_of!(whole.rows().unwrap()), expected);
    assert_eq!(dropped(&whole), 1);
    let uninterrupted = emitted("session_restart_whole");

    // a failure anywhere in a batch, then a restart on the same checkpoint: the same rows
    // in the same batches
    for batch in [1, 3, 6] {
        for point in [
            FaultPoint::AfterOffsetsWrite,
            FaultPoint::DuringSinkWrite,
            FaultPoint::BeforeCommit,
        ] {
            let checkpoint = tempfile::tempdir().unwrap();
            let table = format!("session_restart_{batch}_{point:?}");
            let crashed = start(&table, checkpoint.path(), Some((point, batch)));
            let error = rt.block_on(crashed.await_termination()).unwrap_err();
            assert!(
                matches!(*error, StreamError::InjectedFault { batch_id, .. } if batch_id == batch),
                "{error}"
            );
            let resumed = start(&table, checkpoint.path(), None);
            rt.block_on(resumed.await_termination()).unwrap();
            assert_eq!(sessions_of!(resumed.rows().unwrap()), expected);
            assert_eq!(
                emitted(&table),
                uninterrupted,
                "a failure at {point:?} of batch {batch}"
            );
        }
    }
}
