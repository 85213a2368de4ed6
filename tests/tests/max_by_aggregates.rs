//! `max_by(x, ord)` and `min_by(x, ord)` end to end, against values computed here from the
//! input by a plain loop: the value of `x` at the row whose `ord` is the largest /
//! smallest, rows with a null `ord` left out, null when every `ord` of a group is null, a
//! null `x` kept as null; `x` an integer, a string or a timestamp, `ord` an integer, a
//! float, a string or a timestamp; windows closed by a watermark in update and append
//! mode, over several batches, tasks and shuffle partitions; and a query stopped or
//! failed in the middle that restarts from its checkpoint and writes the rows of one
//! uninterrupted run.

use std::collections::BTreeMap;

use stream_core::types::TimestampMs;
use stream_core::{FaultPoint, MemoryStream, Schema, StreamError, StreamingQueryManager, stream};
use tests::{emitted, runtime};

#[derive(Schema, Clone, Debug)]
struct Bid {
    ts: TimestampMs,
    shop: String,
    auction: i64,
    bidder: Option<String>,
    price: Option<i64>,
    rank: Option<f64>,
    seen: Option<TimestampMs>,
}

const WINDOW_MS: i64 = 10_000;
const DELAY_MS: i64 = 5_000;

/// Six batches of eight bids, then two far later that close every window. Within the
/// whole input every non-null `price`, `rank` and `bidder` differs from every other, so
/// no two rows tie and the expected values do not depend on the order of the rows among
/// tasks. Shop `z` has no price at all. No row is late.
fn batches() -> Vec<Vec<Bid>> {
    let mut out = Vec::new();
    for b in 0..6i64 {
        let mut batch = Vec::new();
        for k in 0..8i64 {
            let j = b * 8 + k;
            let shop = if j % 7 == 6 {
                "z"
            } else if j % 2 == 0 {
                "a"
            } else {
                "b"
            };
            batch.push(Bid {
                // 7 s per batch, rows 0.9 s apart, not in time order within the batch
                ts: TimestampMs(b * 7_000 + ((k * 3) % 8) * 900),
                shop: shop.into(),
                auction: 1_000 + j,
                bidder: (j % 6 != 1).then(|| format!("b{:03}", (j * 53) % 97)),
                price: (j % 5 != 2 && shop != "z").then_some((j * 37) % 101),
                rank: (j % 4 != 3).then_some(((j * 29) % 89) as f64 / 4.0),
                seen: (j % 3 != 0).then_some(TimestampMs(50_000 + j)),
            });
        }
        out.push(batch);
    }
    for (i, second) in [1_000i64, 1_001].into_iter().enumerate() {
        out.push(vec![Bid {
            ts: TimestampMs(second * 1_000),
            shop: "a".into(),
            auction: 9_000 + i as i64,
            bidder: Some(format!("late{i}")),
            price: Some(500 + i as i64),
            rank: Some(500.0 + i as f64),
            seen: Some(TimestampMs(second)),
        }]);
    }
    out
}

/// `(ord, x)` of the row kept so far; `larger` for `max_by`, else `min_by`. A row with a
/// null `ord` is left out; of tied rows the first stays.
fn by<X, O: PartialOrd>(kept: &mut Option<(O, X)>, x: X, ord: Option<O>, larger: bool) {
    let Some(o) = ord else { return };
    let replace = match kept {
        Some((cur, _)) => {
            if larger {
                o > *cur
            } else {
                o < *cur
            }
        }
        None => true,
    };
    if replace {
        *kept = Some((o, x));
    }
}

/// What one group gives, computed from its rows in arrival order.
#[derive(Debug, Default)]
struct Acc {
    high: Option<i64>,
    top_auction: Option<(i64, i64)>,
    top_bidder: Option<(i64, Option<String>)>,
    low_bidder: Option<(i64, Option<String>)>,
    seen_at_top_rank: Option<(f64, Option<TimestampMs>)>,
    auction_of_first_name: Option<(String, i64)>,
    last_bidder: Option<(TimestampMs, Option<String>)>,
    n: i64,
}

impl Acc {
    fn add(&mut self, r: &Bid) {
        self.high = self.high.max(r.price);
        by(&mut self.top_auction, r.auction, r.price, true);
        by(&mut self.top_bidder, r.bidder.clone(), r.price, true);
        by(&mut self.low_bidder, r.bidder.clone(), r.price, false);
        by(&mut self.seen_at_top_rank, r.seen, r.rank, true);
        by(
            &mut self.auction_of_first_name,
            r.auction,
            r.bidder.clone(),
            false,
        );
        by(&mut self.last_bidder, r.bidder.clone(), Some(r.ts), true);
        self.n += 1;
    }

    fn row(&self) -> Out {
        Out {
            high: self.high,
            top_auction: self.top_auction.as_ref().map(|k| k.1),
            top_bidder: self.top_bidder.as_ref().and_then(|k| k.1.clone()),
            low_bidder: self.low_bidder.as_ref().and_then(|k| k.1.clone()),
            seen_at_top_rank: self.seen_at_top_rank.as_ref().and_then(|k| k.1),
            auction_of_first_name: self.auction_of_first_name.as_ref().map(|k| k.1),
            last_bidder: self.last_bidder.as_ref().and_then(|k| k.1.clone()),
            n: self.n,
        }
    }
}

/// One output row's values, keyed by (window start s, shop).
#[derive(Debug, Clone, PartialEq)]
struct Out {
    high: Option<i64>,
    top_auction: Option<i64>,
    top_bidder: Option<String>,
    low_bidder: Option<String>,
    seen_at_top_rank: Option<TimestampMs>,
    auction_of_first_name: Option<i64>,
    last_bidder: Option<String>,
    n: i64,
}

type Key = (i64, String);

/// The rows each input batch makes the query write, computed from the input: in update
/// mode the groups the batch touched, in append mode the windows the watermark closed.
/// The watermark is the newest time so far minus the delay: a batch that moves it is
/// followed by a batch without input that runs with it (what `process_all_available`
/// waits for), and a window is closed once its end is at most that.
fn expected(mode: &str) -> Vec<BTreeMap<Key, Out>> {
    let mut groups: BTreeMap<Key, Acc> = BTreeMap::new();
    let mut newest = i64::MIN;
    let mut watermark = 0;
    let mut emitted: Vec<Key> = Vec::new();
    let mut out = Vec::new();
    for batch in batches() {
        let mut touched = Vec::new();
        for r in &batch {
            let start = r.ts.0 - r.ts.0.rem_euclid(WINDOW_MS);
            assert!(start + WINDOW_MS > watermark, "the input has no late row");
            let key = (start / 1_000, r.shop.clone());
            groups.entry(key.clone()).or_default().add(r);
            touched.push(key);
        }
        newest = newest.max(batch.iter().map(|r| r.ts.0).max().unwrap());
        watermark = watermark.max(newest - DELAY_MS);
        let mut rows = BTreeMap::new();
        if mode == "update" {
            for key in touched {
                rows.insert(key.clone(), groups[&key].row());
            }
        } else {
            for (key, acc) in &groups {
                if key.0 * 1_000 + WINDOW_MS <= watermark && !emitted.contains(key) {
                    emitted.push(key.clone());
                    rows.insert(key.clone(), acc.row());
                }
            }
        }
        out.push(rows);
    }
    out
}

macro_rules! start_bids {
    ($input:expr, $table:expr, $mode:ident, $checkpoint:expr, $fault:expr) => {{
        let mut builder = stream! {
            schema Bid = Bid;
            read(memory, stream = {$input.clone()}, schema = Bid)
                .with_watermark(ts, "5 seconds")
                .group_by(window(ts, "10 seconds"), shop)
                .agg(
                    max(price) as high,
                    max_by(auction, price) as top_auction,
                    max_by(bidder, price) as top_bidder,
                    min_by(bidder, price) as low_bidder,
                    max_by(seen, rank) as seen_at_top_rank,
                    min_by(auction, bidder) as auction_of_first_name,
                    max_by(bidder, ts) as last_bidder,
                    count() as n,
                )
                .write(memory, name = {$table})
                .output_mode($mode)
        };
        let fault: Option<(FaultPoint, u64)> = $fault;
        if let Some((point, batch)) = fault {
            builder = builder.inject_fault(point, batch);
        }
        builder
            .manager(&StreamingQueryManager::new())
            .checkpoint_location($checkpoint)
            .parallelism(2)
            .shuffle_partitions(3)
            .start()
            .unwrap()
    }};
}

macro_rules! as_map {
    ($rows:expr) => {{
        let mut out: BTreeMap<Key, Out> = BTreeMap::new();
        for r in $rows {
            let key = (r.window_start.0 / 1_000, r.shop.clone());
            let value = Out {
                high: r.high,
                top_auction: r.top_auction,
                top_bidder: r.top_bidder.clone(),
                low_bidder: r.low_bidder.clone(),
                seen_at_top_rank: r.seen_at_top_rank,
                auction_of_first_name: r.auction_of_first_name,
                last_bidder: r.last_bidder.clone(),
                n: r.n,
            };
            assert!(out.insert(key.clone(), value).is_none(), "{key:?} twice");
        }
        out
    }};
}

/// Runs the bids through a query in `$mode` into table `$table`, one batch at a time,
/// checking each batch's rows against `expected`; with `$restart = Some((point, n))` the
/// query fails at `point` of batch id `n` (batches without input count too), or with
/// `None` as the point is stopped after input batch `n`, and a new one goes on from the
/// checkpoint. Returns the table as written.
macro_rules! run {
    ($mode:ident, $table:expr, $restart:expr) => {{
        let restart: Option<(Option<FaultPoint>, u64)> = $restart;
        let input = MemoryStream::of::<Bid>();
        let checkpoint = tempfile::tempdir().unwrap();
        let table: String = $table;
        let rt = runtime();
        // one expansion of the block, so that both queries have the same row type
        let start = |fault: Option<(FaultPoint, u64)>| {
            start_bids!(input, table.clone(), $mode, checkpoint.path(), fault)
        };
        let mut query = start(restart.and_then(|(point, n)| point.map(|p| (p, n))));
        let expected = expected(stringify!($mode));
        let mut written = 0;
        let mut failed = false;
        for (n, batch) in batches().into_iter().enumerate() {
            let n = n as u64;
            input.add_rows(&batch).unwrap();
            let done = rt.block_on(query.process_all_available());
            match (restart, done) {
                (Some((Some(_), at)), Err(error)) => {
                    assert!(
                        matches!(&*error, StreamError::InjectedFault { batch_id, .. } if *batch_id == at),
                        "{error}"
                    );
                    failed = true;
                    // the failed query ends; a new one re-runs the batch from the checkpoint
                    let _ = rt.block_on(query.await_termination());
                    query = start(None);
                    rt.block_on(query.process_all_available()).unwrap();
                }
                (Some((None, at)), Ok(())) if at == n => {
                    rt.block_on(query.stop());
                    query = start(None);
                    rt.block_on(query.process_all_available()).unwrap();
                }
                (_, done) => done.unwrap(),
            }
            let rows = query.rows().unwrap();
            assert_eq!(
                as_map!(&rows[written..]),
                expected[n as usize],
                "batch {n}, restart {restart:?}"
            );
            written = rows.len();
        }
        rt.block_on(query.stop());
        assert_eq!(failed, restart.is_some_and(|(point, _)| point.is_some()));
        emitted(&table)
    }};
}

#[test]
fn update_mode_writes_each_touched_window_with_its_max_by_and_min_by_values() {
    let rows = run!(update, "max_by_update".into(), None);
    assert!(rows.len() > 10, "{} rows", rows.len());
    // the hand-read case: shop `z` has no price, so its max_by of price is null (a null
    // is left out of the JSON text)
    let z: Vec<&String> = rows
        .iter()
        .filter(|r| r.contains(r#""shop":"z""#))
        .collect();
    assert!(!z.is_empty());
    assert!(z.iter().all(|r| !r.contains(r#""top_auction""#)), "{z:?}");
}

#[test]
fn append_mode_writes_each_window_once_the_watermark_closes_it() {
    let rows = run!(append, "max_by_append".into(), None);
    // every window of the first six batches, once
    let expected: usize = expected("append").iter().map(BTreeMap::len).sum();
    assert_eq!(rows.len(), expected);
    assert!(expected >= 10, "{expected} windows");
}

#[test]
fn a_restart_from_the_checkpoint_in_the_middle_gives_the_uninterrupted_rows() {
    let whole_update = run!(update, "max_by_restart_update_whole".into(), None);
    let whole_append = run!(append, "max_by_restart_append_whole".into(), None);
    let points = [
        None,
        Some(FaultPoint::AfterOffsetsWrite),
        Some(FaultPoint::DuringSinkWrite),
        Some(FaultPoint::BeforeCommit),
    ];
    for (i, point) in points.into_iter().enumerate() {
        for at in [2u64, 5] {
            let update = run!(
                update,
                format!("max_by_restart_update_{i}_{at}"),
                Some((point, at))
            );
            assert_eq!(update, whole_update, "update, {point:?} at batch {at}");
            let append = run!(
                append,
                format!("max_by_restart_append_{i}_{at}"),
                Some((point, at))
            );
            assert_eq!(append, whole_append, "append, {point:?} at batch {at}");
        }
    }
}

/// The (points, level) a `max_by` / `min_by` of level by points keeps.
type Kept = Option<(i64, Option<i32>)>;

#[derive(Schema, Clone, Debug)]
struct Score {
    user: String,
    level: Option<i32>,
    points: Option<i64>,
}

#[test]
fn rows_without_an_ordering_are_left_out_and_a_tie_keeps_a_row_of_the_tie() {
    let input = MemoryStream::of::<Score>();
    let checkpoint = tempfile::tempdir().unwrap();
    let query = stream! {
        schema Score = Score;
        read(memory, stream = {input.clone()}, schema = Score)
            .group_by(user)
            .agg(max_by(level, points) as best_level, min_by(level, points) as worst_level)
            .write(memory, name = "max_by_ties")
            .output_mode(complete)
    }
    .manager(&StreamingQueryManager::new())
    .checkpoint_location(checkpoint.path())
    .parallelism(1)
    .start()
    .unwrap();
    let score = |user: &str, level: Option<i32>, points: Option<i64>| Score {
        user: user.into(),
        level,
        points,
    };
    let steps = [
        vec![
            score("ann", Some(1), Some(10)),
            score("ann", Some(2), Some(10)),
            score("bob", Some(1), None),
            score("cid", None, Some(3)),
        ],
        vec![
            score("ann", Some(3), Some(10)),
            score("ann", Some(4), None),
            score("bob", Some(2), None),
            score("cid", Some(5), Some(1)),
        ],
    ];
    let rt = runtime();
    let mut seen: Vec<Score> = Vec::new();
    for step in &steps {
        input.add_rows(step).unwrap();
        rt.block_on(query.process_all_available()).unwrap();
        seen.extend(step.iter().cloned());
        let mut want: BTreeMap<String, (Kept, Kept)> = BTreeMap::new();
        for s in &seen {
            let e = want.entry(s.user.clone()).or_default();
            by(&mut e.0, s.level, s.points, true);
            by(&mut e.1, s.level, s.points, false);
        }
        let got: BTreeMap<String, (Option<i32>, Option<i32>)> = query
            .rows()
            .unwrap()
            .into_iter()
            .map(|r| (r.user, (r.best_level, r.worst_level)))
            .collect();
        let levels = |k: &Kept| k.as_ref().and_then(|k| k.1);
        for (user, (best, worst)) in &want {
            let (got_best, got_worst) = got[user];
            if user == "ann" {
                // tied at 10: one of the tied rows' levels, which one is not defined
                assert!(matches!(got_best, Some(1..=3)), "{got_best:?}");
                assert!(matches!(got_worst, Some(1..=3)), "{got_worst:?}");
            } else {
                assert_eq!(
                    (got_best, got_worst),
                    (levels(best), levels(worst)),
                    "{user}"
                );
            }
        }
    }
    rt.block_on(query.stop());
    let got: BTreeMap<String, (Option<i32>, Option<i32>)> = query
        .rows()
        .unwrap()
        .into_iter()
        .map(|r| (r.user, (r.best_level, r.worst_level)))
        .collect();
    // bob's rows all have a null ordering: null; cid's null level is at its largest points
    assert_eq!(got["bob"], (None, None));
    assert_eq!(got["cid"], (None, Some(5)));
}
