//! The stateful executors driven by hand, without the macro: a batch's map side on
//! every task, the exchange, the reduce side on every shuffle partition, batch after
//! batch, as the engine runs them.

use std::sync::Arc;

use arrow_array::RecordBatch;

use super::aggregate::{AggregateConf, AggregateExec, Aggregation, Grouping};
use super::dedup::{DedupConf, DedupExec, DedupTime};
use super::key_column::KeyColumn;
use crate::Result;
use crate::metrics::BatchMetrics;
use crate::output_mode::OutputMode;
use crate::pipeline::{InputChunk, StateContext, TaskContext, TaskOutput};
use crate::state::HeapSize;
use crate::types::{TimestampMs, TypedRow};

const PARTITIONS: usize = 3;

#[derive(crate::Schema, Clone, Debug, PartialEq)]
struct Click {
    ts: TimestampMs,
    user: String,
}

#[derive(crate::Schema, Clone, Debug, PartialEq)]
struct Input {
    __t: TimestampMs,
}

#[derive(crate::Schema, Clone, Debug, Default, PartialEq, Eq, Hash)]
struct WindowKey {
    window_start: TimestampMs,
    window_end: TimestampMs,
    user: String,
}
impl HeapSize for WindowKey {
    fn heap_size(&self) -> usize {
        self.user.heap_size()
    }
}

#[derive(crate::Schema, Clone, Debug, Default, PartialEq)]
struct Count {
    n: i64,
}
impl HeapSize for Count {}

#[derive(crate::Schema, Clone, Debug, PartialEq, PartialOrd)]
struct WindowCount {
    window_start: TimestampMs,
    user: String,
    n: i64,
}

/// `group_by(window(ts, size), user).agg(count() as n)`, grouped as `G` says: one set
/// of functions for windows and sessions (the grouping is a constant of the type).
struct Clicks<G>(std::marker::PhantomData<G>);

/// A grouping of [`Clicks`].
trait Groups: Send + Sync + 'static {
    const GROUPING: Grouping;
}

/// Tumbling windows of 10 ms.
struct TenMs;
impl Groups for TenMs {
    const GROUPING: Grouping = Grouping::Window {
        size: 10,
        slide: 10,
        start: 0,
    };
}

/// Sessions with a gap of 10 ms.
struct Gap10;
impl Groups for Gap10 {
    const GROUPING: Grouping = Grouping::Session { gap: 10 };
}

type ClicksPerWindow = Clicks<TenMs>;

impl<G: Groups> Aggregation for Clicks<G> {
    const GROUPING: Grouping = G::GROUPING;
    type Input = Input;
    type Keys<'a> = <String as KeyColumn>::Reader<'a>;
    type Key = WindowKey;
    type Acc = Count;
    type Out = WindowCount;
    fn keys(batch: &RecordBatch) -> Result<Self::Keys<'_>> {
        <String as KeyColumn>::reader(batch, "user", "Input")
    }
    fn read_key(keys: &Self::Keys<'_>, row: usize, key: &mut WindowKey) -> Result<()> {
        <String as KeyColumn>::read_into(keys, row, &mut key.user)
    }
    fn time(row: &Input) -> Option<i64> {
        Some(row.__t.0)
    }
    fn window(key: &WindowKey) -> (i64, i64) {
        (key.window_start.0, key.window_end.0)
    }
    fn set_window(key: &mut WindowKey, start: i64, end: i64) {
        key.window_start = TimestampMs(start);
        key.window_end = TimestampMs(end);
    }
    fn update(acc: &mut Count, _row: &Input) {
        acc.n += 1;
    }
    fn merge(into: &mut Count, from: Count) {
        into.n += from.n;
    }
    fn finish(key: WindowKey, acc: Count) -> WindowCount {
        WindowCount {
            window_start: key.window_start,
            user: key.user,
            n: acc.n,
        }
    }
}

/// A batch's facts for its tasks, with the watermarks of the batch and the one before.
fn context(
    dir: &std::path::Path,
    batch_id: u64,
    watermark_ms: i64,
    late_watermark_ms: i64,
    metrics: &Arc<BatchMetrics>,
) -> TaskContext {
    TaskContext {
        batch_id,
        stage: 0,
        partition: 0,
        num_partitions: 1,
        shuffle_partitions: PARTITIONS,
        watermark_ms,
        late_watermark_ms,
        metrics: metrics.clone(),
        state: Arc::new(StateContext {
            dir: dir.to_path_buf(),
            min_versions_to_retain: 100,
            store: crate::state::StateStoreKind::Memory,
            memory_bytes: crate::state::DEFAULT_STATE_MEMORY,
            partitions: 1,
        }),
        batch_timestamp_ms: 0,
    }
}

/// Runs one batch: the map side over `tasks` (each a task's input), then the reduce side
/// of every shuffle partition; returns the output rows.
fn run_batch(
    ctx: &TaskContext,
    tasks: Vec<Vec<RecordBatch>>,
    map: impl Fn(&TaskContext, Vec<RecordBatch>) -> Result<TaskOutput>,
    reduce: impl Fn(&TaskContext, Vec<InputChunk>) -> Result<Vec<RecordBatch>>,
) -> Vec<RecordBatch> {
    let mut buckets: Vec<Vec<InputChunk>> = (0..PARTITIONS).map(|_| Vec::new()).collect();
    for (t, batches) in tasks.into_iter().enumerate() {
        let task = TaskContext {
            partition: t,
            ..ctx.clone()
        };
        match map(&task, batches).unwrap() {
            TaskOutput::Exchange(out) => {
                for (p, chunks) in out.into_iter().enumerate() {
                    buckets[p].extend(chunks);
                }
            }
            TaskOutput::Rows(_) => panic!("a map side returns an exchange"),
        }
    }
    let mut rows = Vec::new();
    for (p, input) in buckets.into_iter().enumerate() {
        let task = TaskContext {
            stage: 1,
            partition: p,
            num_partitions: PARTITIONS,
            ..ctx.clone()
        };
        rows.extend(reduce(&task, input).unwrap());
    }
    rows
}

fn inputs(rows: &[(i64, &str)]) -> RecordBatch {
    let input: Vec<Input> = rows
        .iter()
        .map(|(t, _)| Input {
            __t: TimestampMs(*t),
        })
        .collect();
    let users: Vec<Click> = rows
        .iter()
        .map(|(t, u)| Click {
            ts: TimestampMs(*t),
            user: u.to_string(),
        })
        .collect();
    // the aggregation's input: its time, and the key column it reads in place
    super::stateful::zip_batches(
        &Input::to_batch(&input).unwrap(),
        &Click::to_batch(&users).unwrap().project(&[1]).unwrap(),
    )
    .unwrap()
}

fn counts(batches: &[RecordBatch]) -> Vec<(i64, String, i64)> {
    let mut out: Vec<(i64, String, i64)> = batches
        .iter()
        .flat_map(|b| WindowCount::from_batch(b).unwrap())
        .map(|r| (r.window_start.0, r.user, r.n))
        .collect();
    out.sort();
    out
}

fn window_exec(mode: OutputMode) -> AggregateExec<ClicksPerWindow> {
    AggregateExec::new(AggregateConf {
        id: 0,
        mode,
        evict: true,
        unit_per_ms: 1,
        late_rows: false,
    })
}

#[test]
fn append_mode_emits_each_window_once_when_the_watermark_passes_its_end() {
    let dir = tempfile::tempdir().unwrap();
    let exec = window_exec(OutputMode::Append);
    let metrics = Arc::new(BatchMetrics::default());
    let map = |ctx: &TaskContext, b: Vec<RecordBatch>| exec.map(ctx, b, None);
    let reduce = |ctx: &TaskContext, i: Vec<InputChunk>| exec.reduce(ctx, i);
    // batch 0, two tasks: nothing closes yet (watermark 0)
    let ctx = context(dir.path(), 0, 0, 0, &metrics);
    let tasks = vec![
        vec![inputs(&[(1, "ann"), (12, "bob")])],
        vec![inputs(&[(3, "ann"), (15, "bob")])],
    ];
    assert!(counts(&run_batch(&ctx, tasks, map, reduce)).is_empty());
    let state = &metrics.state_operators()[0];
    assert_eq!(state.metrics.num_rows_total, 2);
    // batch 1 at watermark 10: [0, 10) closes with the rows of both batches; a row of
    // [0, 10) arriving now is not late yet (the previous watermark was 0)
    let ctx = context(dir.path(), 1, 10, 0, &metrics);
    let out = run_batch(
        &ctx,
        vec![vec![inputs(&[(5, "ann"), (25, "cy")])]],
        map,
        reduce,
    );
    assert_eq!(counts(&out), [(0, "ann".to_string(), 3)]);
    // batch 2 at watermark 30, late against 10: the row at 8 is dropped
    let metrics = Arc::new(BatchMetrics::default());
    let ctx = context(dir.path(), 2, 30, 10, &metrics);
    let out = run_batch(
        &ctx,
        vec![vec![inputs(&[(8, "ann"), (11, "bob")])]],
        map,
        reduce,
    );
    assert_eq!(
        counts(&out),
        [(10, "bob".to_string(), 3), (20, "cy".to_string(), 1)]
    );
    let state = &metrics.state_operators()[0];
    assert_eq!(state.metrics.num_rows_dropped_by_watermark, 1);
    assert_eq!(state.metrics.num_rows_total, 0);
}

/// Spark aggregates each task's rows per group before its stateful operator drops the
/// late ones: late rows of one group in one task count once, in two tasks twice.
#[test]
fn late_rows_count_once_per_late_group_of_each_task() {
    let dir = tempfile::tempdir().unwrap();
    let exec = window_exec(OutputMode::Append);
    let map = |ctx: &TaskContext, b: Vec<RecordBatch>| exec.map(ctx, b, None);
    let reduce = |ctx: &TaskContext, i: Vec<InputChunk>| exec.reduce(ctx, i);
    let metrics = Arc::new(BatchMetrics::default());
    let ctx = context(dir.path(), 0, 10, 10, &metrics);
    let tasks = vec![
        // ann's two late rows of [0, 10) are one group; bob's is another
        vec![inputs(&[(2, "ann"), (4, "ann"), (3, "bob"), (15, "ann")])],
        // ann's group again, in another task
        vec![inputs(&[(7, "ann")])],
    ];
    let out = run_batch(&ctx, tasks, map, reduce);
    assert!(counts(&out).is_empty());
    let state = &metrics.state_operators()[0];
    assert_eq!(state.metrics.num_rows_dropped_by_watermark, 3);
    assert_eq!(state.metrics.num_rows_total, 1);
}

#[test]
fn a_new_executor_resumes_from_the_committed_state() {
    let dir = tempfile::tempdir().unwrap();
    let metrics = Arc::new(BatchMetrics::default());
    {
        let exec = window_exec(OutputMode::Update);
        let ctx = context(dir.path(), 0, 0, 0, &metrics);
        let out = run_batch(
            &ctx,
            vec![vec![inputs(&[(1, "ann"), (2, "ann")])]],
            |c, b| exec.map(c, b, None),
            |c, i| exec.reduce(c, i),
        );
        assert_eq!(counts(&out), [(0, "ann".to_string(), 2)]);
    }
    // a restarted query: an executor with nothing kept loads version 0
    let exec = window_exec(OutputMode::Update);
    let ctx = context(dir.path(), 1, 0, 0, &metrics);
    let out = run_batch(
        &ctx,
        vec![vec![inputs(&[(3, "ann"), (14, "bob")])]],
        |c, b| exec.map(c, b, None),
        |c, i| exec.reduce(c, i),
    );
    // update mode: the groups this batch touched, with their whole counts
    assert_eq!(
        counts(&out),
        [(0, "ann".to_string(), 3), (10, "bob".to_string(), 1)]
    );
}

#[test]
fn complete_mode_keeps_late_rows_and_emits_every_group() {
    let dir = tempfile::tempdir().unwrap();
    let exec = window_exec(OutputMode::Complete);
    let metrics = Arc::new(BatchMetrics::default());
    let map = |ctx: &TaskContext, b: Vec<RecordBatch>| exec.map(ctx, b, None);
    let reduce = |ctx: &TaskContext, i: Vec<InputChunk>| exec.reduce(ctx, i);
    let ctx = context(dir.path(), 0, 100, 0, &metrics);
    run_batch(&ctx, vec![vec![inputs(&[(1, "ann")])]], map, reduce);
    let ctx = context(dir.path(), 1, 100, 100, &metrics);
    let out = run_batch(
        &ctx,
        vec![vec![inputs(&[(2, "ann"), (50, "bob")])]],
        map,
        reduce,
    );
    assert_eq!(
        counts(&out),
        [(0, "ann".to_string(), 2), (50, "bob".to_string(), 1)]
    );
}

#[test]
fn sessions_merge_across_tasks_and_batches_and_close_by_the_watermark() {
    let dir = tempfile::tempdir().unwrap();
    // the same functions, grouped in sessions
    let exec: AggregateExec<Clicks<Gap10>> = AggregateExec::new(AggregateConf {
        id: 0,
        mode: OutputMode::Append,
        evict: true,
        unit_per_ms: 1,
        late_rows: false,
    });
    let metrics = Arc::new(BatchMetrics::default());
    let map = |ctx: &TaskContext, b: Vec<RecordBatch>| exec.map(ctx, b, None);
    let reduce = |ctx: &TaskContext, i: Vec<InputChunk>| exec.reduce(ctx, i);
    // ann: 0 and 25 apart in two tasks; bob alone
    let ctx = context(dir.path(), 0, 0, 0, &metrics);
    let tasks = vec![
        vec![inputs(&[(0, "ann"), (3, "bob")])],
        vec![inputs(&[(25, "ann")])],
    ];
    assert!(counts(&run_batch(&ctx, tasks, map, reduce)).is_empty());
    // 8 and 18 bridge ann's two sessions into [0, 35): three stored parts become one
    let ctx = context(dir.path(), 1, 20, 0, &metrics);
    let out = run_batch(
        &ctx,
        vec![vec![inputs(&[(8, "ann"), (18, "ann")])]],
        map,
        reduce,
    );
    assert_eq!(counts(&out), [(3, "bob".to_string(), 1)]);
    let ctx = context(dir.path(), 2, 35, 20, &metrics);
    let out = run_batch(&ctx, Vec::new(), map, reduce);
    assert_eq!(counts(&out), [(0, "ann".to_string(), 4)]);
}

#[derive(crate::Schema, Clone, Debug, PartialEq, Eq, Hash)]
struct UserKey {
    user: String,
}
impl HeapSize for UserKey {}

#[test]
fn dedup_passes_each_key_once_until_the_watermark_evicts_it() {
    let dir = tempfile::tempdir().unwrap();
    let exec: DedupExec<UserKey> = DedupExec::new(DedupConf {
        id: 0,
        keys: vec![1],
        event_time: Some(DedupTime {
            index: 0,
            name: "ts",
            unit_per_ms: 1,
            delay_ms: 5,
        }),
        within: true,
        evict: true,
        late_rows: false,
    });
    let metrics = Arc::new(BatchMetrics::default());
    let clicks = |rows: &[(i64, &str)]| {
        let rows: Vec<Click> = rows
            .iter()
            .map(|(t, u)| Click {
                ts: TimestampMs(*t),
                user: u.to_string(),
            })
            .collect();
        Click::to_batch(&rows).unwrap()
    };
    let passed = |batches: Vec<RecordBatch>| -> Vec<(i64, String)> {
        let mut out: Vec<(i64, String)> = batches
            .iter()
            .flat_map(|b| Click::from_batch(b).unwrap())
            .map(|c| (c.ts.0, c.user))
            .collect();
        out.sort();
        out
    };
    let map = |ctx: &TaskContext, b: Vec<RecordBatch>| exec.map(ctx, b);
    let reduce = |ctx: &TaskContext, i: Vec<InputChunk>| exec.reduce(ctx, i);
    let ctx = context(dir.path(), 0, 0, 0, &metrics);
    let tasks = vec![
        vec![clicks(&[(10, "ann"), (11, "bob")])],
        vec![clicks(&[(12, "ann")])],
    ];
    let out = run_batch(&ctx, tasks, map, reduce);
    assert_eq!(
        passed(out),
        [(10, "ann".to_string()), (11, "bob".to_string())]
    );
    // watermark 15: ann (first seen at 10, + 5) is evicted, bob (11 + 5) is kept
    let ctx = context(dir.path(), 1, 15, 0, &metrics);
    let out = run_batch(&ctx, vec![vec![clicks(&[(13, "bob")])]], map, reduce);
    assert!(passed(out).is_empty());
    // late against 15: the row at 14 is dropped; ann passes again at 20
    let metrics = Arc::new(BatchMetrics::default());
    let ctx = context(dir.path(), 2, 15, 15, &metrics);
    let out = run_batch(
        &ctx,
        vec![vec![clicks(&[(14, "cy"), (20, "ann")])]],
        map,
        reduce,
    );
    assert_eq!(passed(out), [(20, "ann".to_string())]);
    assert_eq!(
        metrics.state_operators()[0]
            .metrics
            .num_rows_dropped_by_watermark,
        1
    );
}

#[test]
fn late_rows_of_a_large_batch_are_captured_at_their_own_positions() {
    let dir = tempfile::tempdir().unwrap();
    let exec: AggregateExec<ClicksPerWindow> = AggregateExec::new(AggregateConf {
        late_rows: true,
        ..AggregateConf {
            id: 0,
            mode: OutputMode::Append,
            evict: true,
            unit_per_ms: 1,
            late_rows: false,
        }
    });
    let metrics = Arc::new(BatchMetrics::default());
    // more rows than one slice of the map side: every 7th row is late (time 5, in the
    // window [0, 10) that the previous watermark 10 closed), the others at 100 + i
    let rows: Vec<(i64, String)> = (0..20_000)
        .map(|i| {
            let t = if i % 7 == 0 { 5 } else { 100 + i };
            (t, format!("u{i}"))
        })
        .collect();
    let refs: Vec<(i64, &str)> = rows.iter().map(|(t, u)| (*t, u.as_str())).collect();
    let ctx = context(dir.path(), 0, 10, 10, &metrics);
    let project = |b: RecordBatch| Ok(b);
    run_batch(
        &ctx,
        vec![vec![inputs(&refs)]],
        |c, b| exec.map(c, b, Some(&project)),
        |c, i| exec.reduce(c, i),
    );
    let late: Vec<String> = metrics
        .take_late_rows()
        .iter()
        .flat_map(|b| {
            let users = b.column_by_name("user").unwrap();
            <String as crate::types::ColumnValue>::from_array(users.as_ref(), "user").unwrap()
        })
        .map(|u| u.unwrap())
        .collect();
    let expected: Vec<String> = (0..20_000)
        .filter(|i| i % 7 == 0)
        .map(|i| format!("u{i}"))
        .collect();
    assert_eq!(late, expected);
    assert_eq!(
        metrics.state_operators()[0]
            .metrics
            .num_rows_dropped_by_watermark,
        expected.len() as u64
    );
}

/// A row of no columns, as `stream!` declares the key of an aggregation without keys
/// (`#[derive(Schema)]` wants a field).
#[derive(Clone, Debug, Default)]
struct NoKey {}
crate::__row!(typed NoKey {});
crate::__row!(key NoKey {});
crate::__row!(heap NoKey {});

#[derive(crate::Schema, Clone, Debug, PartialEq)]
struct Total {
    n: i64,
}

/// `agg(count() as n)` without keys: one group, of the empty key.
struct CountAll;

impl Aggregation for CountAll {
    const GLOBAL: bool = true;
    type Input = Input;
    type Keys<'a> = ();
    type Key = NoKey;
    type Acc = Count;
    type Out = Total;
    fn keys(_batch: &RecordBatch) -> Result<()> {
        Ok(())
    }
    fn read_key(_keys: &(), _row: usize, _key: &mut NoKey) -> Result<()> {
        Ok(())
    }
    fn update(acc: &mut Count, _row: &Input) {
        acc.n += 1;
    }
    fn merge(into: &mut Count, from: Count) {
        into.n += from.n;
    }
    fn finish(_key: NoKey, acc: Count) -> Total {
        Total { n: acc.n }
    }
}

fn totals(batches: &[RecordBatch]) -> Vec<i64> {
    batches
        .iter()
        .flat_map(|b| Total::from_batch(b).unwrap())
        .map(|t| t.n)
        .collect()
}

/// Without keys, the one group has a row in every batch, of one shuffle partition
/// only: with no input its count is 0, and after rows it stays in the state.
#[test]
fn an_aggregation_without_keys_writes_its_one_row_every_batch() {
    for mode in [OutputMode::Complete, OutputMode::Update] {
        let dir = tempfile::tempdir().unwrap();
        let exec: AggregateExec<CountAll> = AggregateExec::new(AggregateConf {
            id: 0,
            mode,
            evict: false,
            unit_per_ms: 1,
            late_rows: false,
        });
        let map = |ctx: &TaskContext, b: Vec<RecordBatch>| exec.map(ctx, b, None);
        let reduce = |ctx: &TaskContext, i: Vec<InputChunk>| exec.reduce(ctx, i);
        let metrics = Arc::new(BatchMetrics::default());
        let ctx = context(dir.path(), 0, 0, 0, &metrics);
        assert_eq!(
            totals(&run_batch(&ctx, vec![], map, reduce)),
            [0],
            "{mode:?}"
        );
        let ctx = context(dir.path(), 1, 0, 0, &metrics);
        let tasks = vec![
            vec![inputs(&[(1, "ann"), (2, "bob")])],
            vec![inputs(&[(3, "cy")])],
        ];
        assert_eq!(
            totals(&run_batch(&ctx, tasks, map, reduce)),
            [3],
            "{mode:?}"
        );
        let ctx = context(dir.path(), 2, 0, 0, &metrics);
        assert_eq!(
            totals(&run_batch(&ctx, vec![], map, reduce)),
            [3],
            "{mode:?}"
        );
    }
}

#[derive(crate::Schema, Clone, Debug, Default, PartialEq, Eq, Hash)]
struct TimeKey {
    ts: Option<TimestampMs>,
}
impl HeapSize for TimeKey {}

#[derive(crate::Schema, Clone, Debug, PartialEq, PartialOrd)]
struct TimeCount {
    ts: Option<TimestampMs>,
    n: i64,
}

/// `group_by(ts).agg(count() as n)` where `ts` is the watermarked column.
struct PerInstant;

impl Aggregation for PerInstant {
    const GROUPING: Grouping = Grouping::EventTime;
    type Input = NoKey;
    type Keys<'a> = <Option<TimestampMs> as KeyColumn>::Reader<'a>;
    type Key = TimeKey;
    type Acc = Count;
    type Out = TimeCount;
    fn keys(batch: &RecordBatch) -> Result<Self::Keys<'_>> {
        <Option<TimestampMs> as KeyColumn>::reader(batch, "ts", "TimeKey")
    }
    fn read_key(keys: &Self::Keys<'_>, row: usize, key: &mut TimeKey) -> Result<()> {
        <Option<TimestampMs> as KeyColumn>::read_into(keys, row, &mut key.ts)
    }
    fn window(key: &TimeKey) -> (i64, i64) {
        (i64::MIN, key.ts.map_or(i64::MAX, |t| t.0))
    }
    fn update(acc: &mut Count, _row: &NoKey) {
        acc.n += 1;
    }
    fn merge(into: &mut Count, from: Count) {
        into.n += from.n;
    }
    fn finish(key: TimeKey, acc: Count) -> TimeCount {
        TimeCount {
            ts: key.ts,
            n: acc.n,
        }
    }
}

fn instants(times: &[Option<i64>]) -> RecordBatch {
    let keys: Vec<TimeKey> = times
        .iter()
        .map(|t| TimeKey {
            ts: t.map(TimestampMs),
        })
        .collect();
    TimeKey::to_batch(&keys).unwrap()
}

fn per_instant(batches: &[RecordBatch]) -> Vec<(Option<i64>, i64)> {
    let mut out: Vec<(Option<i64>, i64)> = batches
        .iter()
        .flat_map(|b| TimeCount::from_batch(b).unwrap())
        .map(|r| (r.ts.map(|t| t.0), r.n))
        .collect();
    out.sort();
    out
}

/// A key that is the event time: a row at or before the previous watermark is late, a
/// group is written (append) and evicted once the watermark reaches its time, a null
/// time never.
#[test]
fn an_event_time_key_closes_at_its_time() {
    let dir = tempfile::tempdir().unwrap();
    let exec: AggregateExec<PerInstant> = AggregateExec::new(AggregateConf {
        id: 0,
        mode: OutputMode::Append,
        evict: true,
        unit_per_ms: 1,
        late_rows: false,
    });
    let map = |ctx: &TaskContext, b: Vec<RecordBatch>| exec.map(ctx, b, None);
    let reduce = |ctx: &TaskContext, i: Vec<InputChunk>| exec.reduce(ctx, i);
    let metrics = Arc::new(BatchMetrics::default());
    let ctx = context(dir.path(), 0, 0, 0, &metrics);
    let tasks = vec![vec![instants(&[Some(5), Some(5), Some(20), None])]];
    assert!(per_instant(&run_batch(&ctx, tasks, map, reduce)).is_empty());
    // watermark 20: 5 and 20 close
    let ctx = context(dir.path(), 1, 20, 0, &metrics);
    assert_eq!(
        per_instant(&run_batch(&ctx, vec![], map, reduce)),
        [(Some(5), 2), (Some(20), 1)]
    );
    // late against 20: 20 (at it) and 3; 21 is kept, and closes at 30 with 25
    let metrics = Arc::new(BatchMetrics::default());
    let ctx = context(dir.path(), 2, 30, 20, &metrics);
    let tasks = vec![vec![instants(&[Some(20), Some(3), Some(21), Some(25)])]];
    assert_eq!(
        per_instant(&run_batch(&ctx, tasks, map, reduce)),
        [(Some(21), 1), (Some(25), 1)]
    );
    let state = &metrics.state_operators()[0];
    assert_eq!(state.metrics.num_rows_dropped_by_watermark, 2);
    // the null time stays
    assert_eq!(state.metrics.num_rows_total, 1);
}
