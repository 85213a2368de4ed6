//! An aggregation of a windowed aggregation's output (Spark 3.4+'s chained
//! aggregations, append mode): bids per auction in sliding windows, then per window the
//! auction with the most bids (Nexmark q5's shape). The first aggregation writes a window
//! once, in the batch whose watermark passes its end; the second gets it in that batch
//! and closes the same window there. Expected rows come from counting the input in the
//! test, not from the engine.

use std::collections::BTreeMap;

use stream_core::types::TimestampMs;
use stream_core::{FaultPoint, MemoryStream, Schema, StreamingQueryManager, stream};
use tests::runtime;

#[derive(Schema, Clone, Debug)]
struct Bid {
    auction: i64,
    ts: TimestampMs,
}

/// Per window (start s, end s): (hottest auction, its bids, auctions with bids), for the
/// windows of 10 s sliding by 5 s that end at or before `closed_s`.
fn expected(bids: &[Bid], closed_s: i64) -> BTreeMap<(i64, i64), (i64, i64, i64)> {
    let mut counts: BTreeMap<(i64, i64), BTreeMap<i64, i64>> = BTreeMap::new();
    for b in bids {
        let t = b.ts.0 / 1_000;
        let mut start = t - t.rem_euclid(5);
        while start > t - 10 {
            *counts
                .entry((start, start + 10))
                .or_default()
                .entry(b.auction)
                .or_default() += 1;
            start -= 5;
        }
    }
    counts
        .into_iter()
        .filter(|((_, end), _)| *end <= closed_s)
        .map(|(w, per_auction)| {
            let (hottest, n) = per_auction
                .iter()
                .max_by_key(|(_, n)| **n)
                .map(|(a, n)| (*a, *n))
                .unwrap();
            (w, (hottest, n, per_auction.len() as i64))
        })
        .collect()
}

fn bid(auction: i64, seconds: i64) -> Bid {
    Bid {
        auction,
        ts: TimestampMs(seconds * 1_000),
    }
}

/// Each step's bids. The data has no tie for the most bids of a window (`max_by` keeps
/// any of the tied rows).
fn steps() -> Vec<Vec<Bid>> {
    vec![
        // windows [-5, 5), [0, 10), [5, 15): auction 1 leads early
        vec![bid(1, 1), bid(1, 2), bid(2, 3), bid(1, 6), bid(3, 7)],
        // the watermark moves to 13 (14 - 1): [-5, 5) and [0, 10) close
        vec![bid(1, 8), bid(2, 9), bid(2, 11), bid(2, 14)],
        // a late bid (at 9: its windows [0, 10) closed, [5, 15) is open and takes it)
        vec![bid(3, 9), bid(3, 16), bid(3, 17), bid(3, 18), bid(1, 26)],
    ]
}

/// A window's row: (hottest auction, its bids, auctions with bids).
type WindowRow = (i64, i64, i64);

struct Run {
    /// Per window, its row and the batch that wrote it.
    rows: BTreeMap<(i64, i64), (WindowRow, u64)>,
    /// The last batch's watermark (s).
    watermark_s: i64,
    /// Each batch's watermark (s), by batch id (of the last query started).
    watermarks: BTreeMap<u64, i64>,
}

fn run(table: &str, fault: Option<(FaultPoint, u64)>) -> Run {
    let input = MemoryStream::of::<Bid>();
    let checkpoint = tempfile::tempdir().unwrap();
    let start = |fault: Option<(FaultPoint, u64)>| {
        let builder = stream! {
            schema Bid = Bid;
            read(memory, stream = {input.clone()}, schema = Bid)
                .with_watermark(ts, "1 second")
                .group_by(window(ts, "10 seconds", "5 seconds"), auction)
                .agg(count() as num)
                .group_by(window_start, window_end)
                .agg(max_by(auction, num) as hottest, max(num) as bids, count() as auctions)
                .write(memory, name = {table})
                .output_mode(append)
        }
        .manager(&StreamingQueryManager::new())
        .checkpoint_location(checkpoint.path());
        match fault {
            Some((point, batch)) => builder.inject_fault(point, batch).start().unwrap(),
            None => builder.start().unwrap(),
        }
    };
    let rt = runtime();
    let mut query = start(fault);
    let mut died = false;
    for step in steps() {
        input.add_rows(&step).unwrap();
        if let Err(e) = rt.block_on(query.process_all_available()) {
            assert!(e.to_string().contains("injected"), "{e}");
            died = true;
            query = start(None);
            rt.block_on(query.process_all_available()).unwrap();
        }
    }
    rt.block_on(query.stop());
    assert_eq!(died, fault.is_some(), "the fault must fire");
    let last = query.last_progress().unwrap();
    let watermark_s = tests::watermark_seconds(&last.event_time["watermark"]);
    let watermarks = query
        .recent_progress()
        .iter()
        .map(|p| {
            (
                p.batch_id,
                tests::watermark_seconds(&p.event_time["watermark"]),
            )
        })
        .collect();
    let table = stream_core::MemorySink::new(table).table();
    let mut rows = BTreeMap::new();
    for id in table.batch_ids() {
        for batch in table.batch(id).unwrap() {
            let col = |name: &str| batch.column_by_name(name).unwrap().clone();
            let ts = |name: &str| {
                arrow_array::cast::AsArray::as_primitive::<
                    arrow_array::types::TimestampMillisecondType,
                >(&col(name))
                .clone()
            };
            let int = |name: &str| {
                arrow_array::cast::AsArray::as_primitive::<arrow_array::types::Int64Type>(&col(
                    name,
                ))
                .clone()
            };
            let (start, end) = (ts("window_start"), ts("window_end"));
            let (hottest, bids, auctions) = (int("hottest"), int("bids"), int("auctions"));
            for r in 0..batch.num_rows() {
                let window = (start.value(r) / 1_000, end.value(r) / 1_000);
                let row = (hottest.value(r), bids.value(r), auctions.value(r));
                assert!(
                    rows.insert(window, (row, id)).is_none(),
                    "window {window:?} written twice"
                );
            }
        }
    }
    Run {
        rows,
        watermark_s,
        watermarks,
    }
}

#[test]
fn the_second_aggregation_closes_each_window_in_the_batch_the_first_writes_it() {
    let run = run("chained_aggregation", None);
    // the watermark ends at 25 (26 - 1)
    assert_eq!(run.watermark_s, 25);
    let bids: Vec<Bid> = steps().concat();
    // the late bid at 9 missed [0, 10) (closed at 13) but counts in [5, 15)
    let on_time: Vec<Bid> = bids
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != 9)
        .map(|(_, b)| b.clone())
        .collect();
    let mut want = expected(&on_time, run.watermark_s);
    let late_in_open_window = expected(&bids, run.watermark_s)[&(5, 15)];
    want.insert((5, 15), late_in_open_window);
    let got: BTreeMap<(i64, i64), (i64, i64, i64)> =
        run.rows.iter().map(|(w, (row, _))| (*w, *row)).collect();
    assert_eq!(got, want);
    assert_eq!(got.len(), 5, "{got:?}");
    // each window comes out of the second aggregation in the first batch whose
    // watermark is at or past its end: the batch the first one closes it in
    for (&(_, end), &(_, batch)) in &run.rows {
        assert!(run.watermarks[&batch] >= end, "{end} in batch {batch}");
        assert!(
            batch == 0 || run.watermarks[&(batch - 1)] < end,
            "{end} in batch {batch}: {:?}",
            run.watermarks
        );
    }
}

#[test]
fn a_chained_aggregation_that_dies_at_any_point_resumes_with_each_window_once() {
    let straight = run("chained_straight", None);
    for point in [
        FaultPoint::AfterOffsetsWrite,
        FaultPoint::DuringSinkWrite,
        FaultPoint::BeforeCommit,
    ] {
        for batch in [1, 2] {
            let table = format!("chained_crash_{point:?}_{batch}");
            let resumed = run(&table, Some((point, batch)));
            let rows = |r: &Run| -> BTreeMap<(i64, i64), (i64, i64, i64)> {
                r.rows.iter().map(|(w, (row, _))| (*w, *row)).collect()
            };
            assert_eq!(
                rows(&resumed),
                rows(&straight),
                "died at {point:?} of batch {batch}"
            );
        }
    }
}
