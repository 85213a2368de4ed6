//! `.late_rows(kind, ..)`: the rows a stateful operator drops as late (behind the
//! previous batch's watermark) reach a second sink, typed like the operator's input, in
//! the batch that dropped them, as often as `numRowsDroppedByWatermark` counts them; a
//! crash at any point of any batch and a restart leave each of them there once.

use std::path::Path;

use stream_core::types::{TimestampMs, TypedRow};
use stream_core::{
    FaultPoint, MemoryStream, MemoryTable, QueryBuilder, Schema, StreamError,
    StreamingQueryManager, StreamingQueryProgress, TypedQuery, read_file_sink, stream,
};
use tests::{batch_rows, land_golden, runtime};

#[derive(Schema, Clone, Debug, PartialEq)]
struct Click {
    ts: TimestampMs,
    page: String,
}

fn at(minute: i64, second: i64) -> TimestampMs {
    TimestampMs((minute * 60 + second) * 1_000)
}

fn click(minute: i64, second: i64, page: &str) -> Click {
    Click {
        ts: at(minute, second),
        page: page.into(),
    }
}

/// The input of `watermark_rules.rs`: batch 4 has a row late against 01:30, batch 6 one
/// late against 02:45 (batches 1, 3 and 5 are the batches without input that follow a
/// moved watermark).
fn steps() -> Vec<Vec<Click>> {
    vec![
        vec![click(0, 10, "/a"), click(0, 50, "/a"), click(1, 5, "/b")],
        vec![click(2, 30, "/a")],
        vec![click(0, 20, "/a"), click(3, 45, "/c")],
        vec![click(1, 50, "/b"), click(2, 50, "/a")],
    ]
}

/// Feeds `steps()` one by one, each to its end.
fn feed<R: TypedRow>(query: &TypedQuery<R>, clicks: &MemoryStream) {
    let rt = runtime();
    for step in steps() {
        clicks.add_rows(&step).unwrap();
        rt.block_on(query.process_all_available()).unwrap();
    }
    rt.block_on(query.stop());
}

/// Per batch with late rows: (batch id, numRowsDroppedByWatermark, rows the late sink
/// got by the progress record).
fn dropped(progress: &[StreamingQueryProgress]) -> Vec<(u64, u64, i64)> {
    progress
        .iter()
        .map(|p| {
            (
                p.batch_id,
                p.state_operators[0].metrics.num_rows_dropped_by_watermark,
                p.late_rows_sink.as_ref().unwrap().num_output_rows,
            )
        })
        .filter(|&(_, n, _)| n > 0)
        .collect()
}

/// The late table's typed rows, per batch id that has some.
fn late_by_batch(table: &str) -> Vec<(u64, Vec<Click>)> {
    let table = MemoryTable::get(table).unwrap();
    table
        .batch_ids()
        .into_iter()
        .map(|id| (id, Click::from_batches(&table.batch(id).unwrap()).unwrap()))
        .filter(|(_, rows)| !rows.is_empty())
        .collect()
}

#[test]
fn a_window_aggregation_sends_its_late_rows_with_their_values() {
    let clicks = MemoryStream::of::<Click>();
    let checkpoint = tempfile::tempdir().unwrap();
    let query = stream! {
        schema Click = Click;
        read(memory, stream = {clicks.clone()}, schema = Click)
            .with_watermark(ts, "1 minute")
            .group_by(window(ts, "1 minute"), page)
            .agg(count() as views)
            .write(memory, name = "late_rows_agg_out")
            .late_rows(memory, name = "late_rows_agg_late")
    }
    .manager(&StreamingQueryManager::new())
    .checkpoint_location(checkpoint.path())
    .start()
    .unwrap();
    feed(&query, &clicks);
    let progress = query.recent_progress();
    assert_eq!(dropped(&progress), [(4, 1, 1), (6, 1, 1)]);
    assert_eq!(
        late_by_batch("late_rows_agg_late"),
        [(4, vec![click(0, 20, "/a")]), (6, vec![click(1, 50, "/b")]),]
    );
    // every batch reached the late sink, most of them empty
    assert_eq!(
        MemoryTable::get("late_rows_agg_late").unwrap().batch_ids(),
        (0..progress.len() as u64).collect::<Vec<_>>()
    );
    let late = progress[4].late_rows_sink.as_ref().unwrap();
    assert_eq!(late.description, "MemorySink");
    // the main result is the one of a query without a late-rows sink
    let mut rows: Vec<(i64, String, i64)> = query
        .rows()
        .unwrap()
        .into_iter()
        .map(|r| (r.window_start.0 / 1_000, r.page, r.views))
        .collect();
    rows.sort();
    assert_eq!(rows, [(0, "/a".to_string(), 2), (60, "/b".to_string(), 1)]);
}

#[test]
fn a_sliding_window_sends_a_row_once_per_window_it_is_late_for() {
    let clicks = MemoryStream::of::<Click>();
    let checkpoint = tempfile::tempdir().unwrap();
    let query = stream! {
        schema Click = Click;
        read(memory, stream = {clicks.clone()}, schema = Click)
            .with_watermark(ts, "1 minute")
            .group_by(window(ts, "1 minute", "30 seconds"), page)
            .agg(count() as views)
            .write(memory, name = "late_rows_sliding_out")
            .output_mode(update)
            .late_rows(memory, name = "late_rows_sliding_late")
    }
    .manager(&StreamingQueryManager::new())
    .checkpoint_location(checkpoint.path())
    .start()
    .unwrap();
    feed(&query, &clicks);
    let progress = query.recent_progress();
    let counted: Vec<(u64, u64, i64)> = dropped(&progress);
    let sent: Vec<(u64, usize)> = late_by_batch("late_rows_sliding_late")
        .into_iter()
        .map(|(id, rows)| (id, rows.len()))
        .collect();
    assert!(!counted.is_empty());
    assert_eq!(
        counted
            .iter()
            .map(|&(id, n, _)| (id, n as usize))
            .collect::<Vec<_>>(),
        sent
    );
    assert!(counted.iter().all(|&(_, n, got)| n as i64 == got));
    // 00:20 is in [-00:10, 00:50) and [00:20, 01:20); against 01:30 both are late
    assert_eq!(
        late_by_batch("late_rows_sliding_late")[0],
        (4, vec![click(0, 20, "/a"), click(0, 20, "/a")])
    );
}

#[test]
fn a_dedup_with_a_watermark_sends_its_late_rows() {
    let clicks = MemoryStream::of::<Click>();
    let checkpoint = tempfile::tempdir().unwrap();
    let query = stream! {
        schema Click = Click;
        read(memory, stream = {clicks.clone()}, schema = Click)
            .with_watermark(ts, "1 minute")
            .drop_duplicates(page, ts)
            .write(memory, name = "late_rows_dedup_out")
            .late_rows(memory, name = "late_rows_dedup_late")
    }
    .manager(&StreamingQueryManager::new())
    .checkpoint_location(checkpoint.path())
    .start()
    .unwrap();
    feed(&query, &clicks);
    // a row is late iff its time is at or below the previous batch's watermark: 00:20
    // against 01:30 in batch 4, 01:50 against 02:45 in batch 6
    assert_eq!(dropped(&query.recent_progress()), [(4, 1, 1), (6, 1, 1)]);
    let late = late_by_batch("late_rows_dedup_late");
    assert_eq!(
        late,
        [(4, vec![click(0, 20, "/a")]), (6, vec![click(1, 50, "/b")]),]
    );
    let out: Vec<Click> = query
        .rows()
        .unwrap()
        .into_iter()
        .map(|r| Click {
            ts: r.ts,
            page: r.page,
        })
        .collect();
    assert_eq!(out.len(), 6);
    for (_, rows) in &late {
        for row in rows {
            assert!(!out.contains(row), "{row:?} is both late and written");
        }
    }
}

const POINTS: [FaultPoint; 4] = [
    FaultPoint::AfterOffsetsWrite,
    FaultPoint::DuringSinkWrite,
    FaultPoint::AfterSinkWrite,
    FaultPoint::BeforeCommit,
];

/// The golden tumbling count (Spark drops one row in batch 4 and one in batch 5) with
/// its late rows in a JSON file sink.
fn golden_count(landing: &Path, table: &str, late: &Path) -> QueryBuilder<impl TypedRow + use<>> {
    stream! {
        schema Event { ts: Option<timestamp_ms>, user: Option<string>, page: Option<string>, amount: Option<f64>, country: Option<string> }
        read(json, path = {landing}, schema = Event, max_files_per_trigger = 1)
            .with_watermark(ts, "2 minutes")
            .group_by(window(ts, "1 minute"), country)
            .agg(count() as count, sum(amount) as sum_amount)
            .write(memory, name = {table})
            .late_rows(json, path = {late})
            .trigger(available_now)
    }
}

fn late_file_rows(dir: &Path) -> Vec<String> {
    let mut rows: Vec<String> = read_file_sink(dir)
        .unwrap()
        .iter()
        .flat_map(batch_rows)
        .collect();
    rows.sort();
    rows
}

#[test]
fn a_crash_anywhere_leaves_each_late_row_once_in_a_file_sink() {
    let landing = tempfile::tempdir().unwrap();
    land_golden(landing.path(), 0..6);
    let rt = runtime();
    let start = |b: QueryBuilder<_>, checkpoint: &Path| {
        b.manager(&StreamingQueryManager::new())
            .checkpoint_location(checkpoint)
            .start()
            .expect("query starts")
    };
    // the uninterrupted run
    let late = tempfile::tempdir().unwrap();
    let checkpoint = tempfile::tempdir().unwrap();
    let query = start(
        golden_count(landing.path(), "late_rows_golden", late.path()),
        checkpoint.path(),
    );
    rt.block_on(query.await_termination()).unwrap();
    let counted: u64 = query
        .recent_progress()
        .iter()
        .map(|p| p.state_operators[0].metrics.num_rows_dropped_by_watermark)
        .sum();
    assert_eq!(counted, 2, "Spark drops two rows of the golden input");
    let expected = late_file_rows(late.path());
    assert_eq!(expected.len(), 2);

    for batch in 0..=6 {
        for point in POINTS {
            let late = tempfile::tempdir().unwrap();
            let checkpoint = tempfile::tempdir().unwrap();
            let table = format!("late_rows_crash_{batch}_{point:?}");
            let crashed = start(
                golden_count(landing.path(), &table, late.path()).inject_fault(point, batch),
                checkpoint.path(),
            );
            let error = rt.block_on(crashed.await_termination()).unwrap_err();
            assert!(
                matches!(*error, StreamError::InjectedFault { batch_id, .. } if batch_id == batch),
                "{error}"
            );
            let resumed = start(
                golden_count(landing.path(), &table, late.path()),
                checkpoint.path(),
            );
            rt.block_on(resumed.await_termination())
                .expect("the restarted query ends");
            assert_eq!(
                late_file_rows(late.path()),
                expected,
                "a crash at {point:?} of batch {batch}"
            );
        }
    }
}

#[test]
fn a_crash_between_the_two_sinks_leaves_each_late_row_once_in_a_memory_sink() {
    let landing = tempfile::tempdir().unwrap();
    land_golden(landing.path(), 0..6);
    let rt = runtime();
    for batch in [4, 5] {
        let checkpoint = tempfile::tempdir().unwrap();
        let late_table = format!("late_rows_memory_crash_late_{batch}");
        let make = || {
            stream! {
                schema Event { ts: Option<timestamp_ms>, user: Option<string>, page: Option<string>, amount: Option<f64>, country: Option<string> }
                read(json, path = {landing.path()}, schema = Event, max_files_per_trigger = 1)
                    .with_watermark(ts, "2 minutes")
                    .group_by(window(ts, "1 minute"), country)
                    .agg(count() as count)
                    .write(memory, name = {format!("late_rows_memory_crash_out_{batch}")})
                    .late_rows(memory, name = {late_table.clone()})
                    .trigger(available_now)
            }
            .manager(&StreamingQueryManager::new())
            .checkpoint_location(checkpoint.path())
        };
        for point in POINTS {
            let crashed = make().inject_fault(point, batch).start().unwrap();
            assert!(rt.block_on(crashed.await_termination()).is_err());
        }
        let resumed = make().start().unwrap();
        rt.block_on(resumed.await_termination()).unwrap();
        let table = MemoryTable::get(&late_table).unwrap();
        let rows: usize = table
            .batch_ids()
            .into_iter()
            .map(|id| {
                table
                    .batch(id)
                    .unwrap()
                    .iter()
                    .map(|b| b.num_rows())
                    .sum::<usize>()
            })
            .sum();
        assert_eq!(rows, 2, "a crash in batch {batch}");
        assert_eq!(
            table
                .batch(4)
                .unwrap()
                .iter()
                .map(|b| b.num_rows())
                .sum::<usize>(),
            1
        );
        assert_eq!(
            table
                .batch(5)
                .unwrap()
                .iter()
                .map(|b| b.num_rows())
                .sum::<usize>(),
            1
        );
    }
}

#[derive(Schema, Clone, Debug, PartialEq)]
struct Visit {
    ts: TimestampMs,
    user: String,
}

#[test]
fn a_session_window_sends_its_late_rows() {
    let visit = |minute: i64, user: &str| Visit {
        ts: TimestampMs(minute * 60_000),
        user: user.into(),
    };
    let visits = MemoryStream::of::<Visit>();
    let checkpoint = tempfile::tempdir().unwrap();
    let query = stream! {
        schema Visit = Visit;
        read(memory, stream = {visits.clone()}, schema = Visit)
            .with_watermark(ts, "10 minutes")
            .group_by(session_window(ts, "5 minutes"), user)
            .agg(count() as visits)
            .write(memory, name = "late_rows_session_out")
            .late_rows(memory, name = "late_rows_session_late")
    }
    .manager(&StreamingQueryManager::new())
    .checkpoint_location(checkpoint.path())
    .start()
    .unwrap();
    let rt = runtime();
    for step in [
        vec![visit(0, "ann"), visit(3, "ann")],
        // moves the watermark to 00:20
        vec![visit(30, "bob")],
        // ann at 00:12 would end at 00:17, before the watermark: late
        vec![visit(12, "ann"), visit(31, "bob")],
    ] {
        visits.add_rows(&step).unwrap();
        rt.block_on(query.process_all_available()).unwrap();
    }
    rt.block_on(query.stop());
    let counted: Vec<u64> = query
        .recent_progress()
        .iter()
        .map(|p| p.state_operators[0].metrics.num_rows_dropped_by_watermark)
        .filter(|&n| n > 0)
        .collect();
    assert_eq!(counted, [1]);
    let table = MemoryTable::get("late_rows_session_late").unwrap();
    assert_eq!(
        Visit::from_batches(&table.batches()).unwrap(),
        [visit(12, "ann")]
    );
}

/// The running example of the book's "Late rows you can see" (`book/src/event-time.md`),
/// kept in step with it.
#[test]
fn the_book_example() {
    #[derive(Schema, Clone, Debug, PartialEq)]
    struct View {
        ts: TimestampMs,
        page: String,
    }
    let view = |second: i64, page: &str| View {
        ts: TimestampMs(second * 1_000),
        page: page.into(),
    };
    let views = MemoryStream::of::<View>();
    let checkpoint = tempfile::tempdir().unwrap();
    let query = stream! {
        schema View = View;
        read(memory, stream = {views.clone()}, schema = View)
            .with_watermark(ts, "1 minute")
            .group_by(window(ts, "1 minute"), page)
            .agg(count() as views)
            .write(memory, name = "late_rows_book_counts")
            .late_rows(memory, name = "late_rows_book")
            .checkpoint({checkpoint.path()})
    }
    .manager(&StreamingQueryManager::new())
    .start()
    .unwrap();
    let rt = runtime();
    views.add_rows(&[view(10, "/a"), view(150, "/a")]).unwrap();
    rt.block_on(query.process_all_available()).unwrap();
    views.add_rows(&[view(20, "/a"), view(170, "/b")]).unwrap();
    rt.block_on(query.process_all_available()).unwrap();
    let late = View::from_batches(&MemoryTable::get("late_rows_book").unwrap().batches()).unwrap();
    assert_eq!(late, [view(20, "/a")]);
    let progress = query.recent_progress();
    let counted: u64 = progress
        .iter()
        .map(|p| p.state_operators[0].metrics.num_rows_dropped_by_watermark)
        .sum();
    let written: i64 = progress
        .iter()
        .map(|p| p.late_rows_sink.as_ref().unwrap().num_output_rows)
        .sum();
    assert_eq!((counted, written), (1, 1));
    rt.block_on(query.stop());
}
