//! `a.join(b, on = key, within = ..)` of two streams, batch by batch: a row meets the
//! rows of the other stream whose key is equal whether they came in the same batch or
//! an earlier one, each pair once; a null key matches nothing; with `within`, pairs too
//! far apart in event time are left out, late input is dropped, and the watermark
//! evicts buffered rows; a restarted query finds the rows buffered before the restart.
//! Expected rows come from a nested loop over every row added (the definition of an
//! inner join), not from the engine.

use std::collections::BTreeMap;

use stream_core::types::TimestampMs;
use stream_core::{FaultPoint, MemoryStream, Schema, StreamingQueryManager, stream};
use tests::runtime;

/// What the one memory stream carries: impressions and clicks, told apart by `kind`.
/// The two streams joined are filters of it, so both sides of a step come in one batch.
#[derive(Schema, Clone, Debug)]
struct Event {
    kind: String,
    ad: Option<i64>,
    name: String,
    at: TimestampMs,
}

/// Both sides of a step as the events of one `add_rows`.
fn events(imps: &[Impression], clicks: &[Click]) -> Vec<Event> {
    let imps = imps.iter().map(|i| Event {
        kind: "imp".into(),
        ad: i.ad,
        name: i.shown.clone(),
        at: i.shown_at,
    });
    let clicks = clicks.iter().map(|c| Event {
        kind: "click".into(),
        ad: c.ad,
        name: c.clicked.clone(),
        at: c.clicked_at,
    });
    imps.chain(clicks).collect()
}

#[derive(Clone, Debug)]
struct Impression {
    ad: Option<i64>,
    shown: String,
    shown_at: TimestampMs,
}

#[derive(Clone, Debug)]
struct Click {
    ad: Option<i64>,
    clicked: String,
    clicked_at: TimestampMs,
}

fn imp(ad: Option<i64>, name: &str, seconds: i64) -> Impression {
    Impression {
        ad,
        shown: name.into(),
        shown_at: TimestampMs(seconds * 1_000),
    }
}

fn click(ad: Option<i64>, name: &str, seconds: i64) -> Click {
    Click {
        ad,
        clicked: name.into(),
        clicked_at: TimestampMs(seconds * 1_000),
    }
}

/// The inner join of every row added so far, as sorted (impression, click) names:
/// equal non-null keys and, with a bound, event times at most `within_s` apart.
fn nested_loop(
    imps: &[Impression],
    clicks: &[Click],
    within_s: Option<i64>,
) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    for i in imps {
        for c in clicks {
            let close = within_s.is_none_or(|w| (i.shown_at.0 - c.clicked_at.0).abs() <= w * 1_000);
            if i.ad.is_some() && i.ad == c.ad && close {
                pairs.push((i.shown.clone(), c.clicked.clone()));
            }
        }
    }
    pairs.sort();
    pairs
}

/// The joined rows the memory sink got, per batch id, as sorted (impression, click).
fn pairs_per_batch(table: &str) -> BTreeMap<u64, Vec<(String, String)>> {
    let table = stream_core::MemorySink::new(table).table();
    let mut out = BTreeMap::new();
    for id in table.batch_ids() {
        let mut pairs = Vec::new();
        for batch in table.batch(id).unwrap() {
            let shown = batch.column_by_name("shown").unwrap();
            let clicked = batch.column_by_name("clicked").unwrap();
            let shown = arrow_array::cast::AsArray::as_string::<i32>(shown);
            let clicked = arrow_array::cast::AsArray::as_string::<i32>(clicked);
            for r in 0..batch.num_rows() {
                pairs.push((shown.value(r).to_string(), clicked.value(r).to_string()));
            }
        }
        pairs.sort();
        out.insert(id, pairs);
    }
    out
}

#[test]
#[allow(deprecated)] // the warning that the join's state can only grow
fn rows_meet_across_batches_in_either_order_each_pair_once() {
    let input = MemoryStream::of::<Event>();
    let query = stream! {
        schema Event = Event;
        let events = read(memory, stream = {input.clone()}, schema = Event);
        let clicks = events.filter(kind == "click").select(ad, name as clicked, at as clicked_at);
        events
            .filter(kind == "imp")
            .select(ad, name as shown, at as shown_at)
            .join(clicks, on = ad)
            .write(memory, name = "stream_join_no_bound")
    }
    .manager(&StreamingQueryManager::new())
    .start()
    .unwrap();
    let rt = runtime();
    let (mut all_imps, mut all_clicks) = (Vec::new(), Vec::new());
    let mut expected = BTreeMap::new();
    let mut before = Vec::new();
    let steps: Vec<(Vec<Impression>, Vec<Click>)> = vec![
        // both sides in one batch, and null keys on both
        (
            vec![
                imp(Some(1), "i1a", 1),
                imp(Some(2), "i2", 2),
                imp(None, "i_null", 3),
            ],
            vec![click(Some(1), "c1a", 4), click(None, "c_null", 5)],
        ),
        // clicks for impressions of an earlier batch, and one for an impression to come
        (
            vec![],
            vec![
                click(Some(1), "c1b", 6),
                click(Some(2), "c2", 7),
                click(Some(3), "c3", 8),
            ],
        ),
        // impressions for clicks of earlier batches
        (vec![imp(Some(3), "i3", 9), imp(Some(1), "i1b", 10)], vec![]),
    ];
    for (batch, (i, c)) in steps.into_iter().enumerate() {
        input.add_rows(&events(&i, &c)).unwrap();
        all_imps.extend(i);
        all_clicks.extend(c);
        rt.block_on(query.process_all_available()).unwrap();
        // this batch's pairs: the join of everything so far, less the earlier ones
        let now = nested_loop(&all_imps, &all_clicks, None);
        let mut new = now.clone();
        for p in &before {
            let at = new.iter().position(|x| x == p).unwrap();
            new.remove(at);
        }
        expected.insert(batch as u64, new);
        before = now;
    }
    rt.block_on(query.stop());
    assert_eq!(pairs_per_batch("stream_join_no_bound"), expected);
    // 6 pairs: none twice, none with a null key
    assert_eq!(expected.values().map(Vec::len).sum::<usize>(), 6);
    // every row with a key is buffered: nothing evicts without a bound
    let last = query.last_progress().unwrap();
    assert_eq!(last.state_operators[0].metrics.num_rows_total, 8);
    assert_eq!(last.state_operators[0].operator_name, "symmetricHashJoin");
}

/// Runs the bounded join over `steps` on `checkpoint`, restarting the query before step
/// `restart_at` (when given). Returns the pairs per batch and, per batch, (watermark s,
/// rows dropped as late, rows buffered).
/// The pairs per batch, and per batch (watermark s, rows dropped as late, rows buffered).
type Outcome = (BTreeMap<u64, Vec<(String, String)>>, Vec<(i64, u64, u64)>);

fn bounded(
    steps: &[(Vec<Impression>, Vec<Click>)],
    restart_at: Option<usize>,
    table: &str,
) -> Outcome {
    bounded_with_fault(steps, restart_at, None, table)
}

/// [`bounded`], with the first query dying of `fault` (a point and a batch id) and the
/// next one started on its checkpoint.
fn bounded_with_fault(
    steps: &[(Vec<Impression>, Vec<Click>)],
    restart_at: Option<usize>,
    fault: Option<(FaultPoint, u64)>,
    table: &str,
) -> Outcome {
    let input = MemoryStream::of::<Event>();
    let checkpoint = tempfile::tempdir().unwrap();
    let start = |fault: Option<(FaultPoint, u64)>| {
        let builder = stream! {
            schema Event = Event;
            let events = read(memory, stream = {input.clone()}, schema = Event);
            let clicks = events
                .filter(kind == "click")
                .select(ad, name as clicked, at as clicked_at)
                .with_watermark(clicked_at, "10 seconds");
            events
                .filter(kind == "imp")
                .select(ad, name as shown, at as shown_at)
                .with_watermark(shown_at, "10 seconds")
                .join(clicks, on = ad, within = "30 seconds")
                .write(memory, name = {table})
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
    let mut facts = Vec::new();
    for (n, (i, c)) in steps.iter().enumerate() {
        if restart_at == Some(n) {
            facts.extend(query.recent_progress());
            rt.block_on(query.stop());
            query = start(None);
        }
        input.add_rows(&events(i, c)).unwrap();
        if let Err(e) = rt.block_on(query.process_all_available()) {
            assert!(fault.is_some(), "{e}");
            assert!(e.to_string().contains("injected"), "{e}");
            died = true;
            facts.extend(query.recent_progress());
            query = start(None);
            rt.block_on(query.process_all_available()).unwrap();
        }
    }
    rt.block_on(query.stop());
    assert_eq!(died, fault.is_some(), "the fault must fire");
    facts.extend(query.recent_progress());
    let facts = facts
        .iter()
        .map(|p| {
            let s = &p.state_operators[0].metrics;
            (
                tests::watermark_seconds(&p.event_time["watermark"]),
                s.num_rows_dropped_by_watermark,
                s.num_rows_total,
            )
        })
        .collect();
    (pairs_per_batch(table), facts)
}

fn bounded_steps() -> Vec<(Vec<Impression>, Vec<Click>)> {
    vec![
        // batch 0: pairs 5 s and 0 s apart meet; one 100 s apart does not
        (
            vec![
                imp(Some(1), "i1", 100),
                imp(Some(2), "i2", 100),
                imp(Some(9), "i9", 200),
            ],
            vec![
                click(Some(1), "c1", 105),
                click(Some(2), "c2_far", 200),
                click(Some(9), "c9", 200),
            ],
        ),
        // batch 1 has no input: the watermark moved to 190 (both inputs' 200 - 10), which
        // evicts i1, i2 and c1 (100 + 30 <= 190: no row after 190 can meet them)
        // batch 2: a click for i9 that is late (185 <= 190) is dropped, though i9 is
        // still buffered and 15 s away; a new impression meets c2_far
        (
            vec![imp(Some(2), "i2b", 195)],
            vec![click(Some(9), "c9_late", 185)],
        ),
        // batch 3: a click 20 s after i2b meets it, one 41 s after does not; an
        // impression at 240 moves the impressions' watermark to 230, the clicks' to 226
        (
            vec![imp(Some(7), "i7", 240)],
            vec![click(Some(2), "c2b", 215), click(Some(2), "c2c", 236)],
        ),
    ]
}

#[test]
fn within_bounds_the_pairs_drops_late_rows_and_evicts_what_no_row_can_meet() {
    let steps = bounded_steps();
    let (pairs, facts) = bounded(&steps, None, "stream_join_bounded");
    let all: Vec<(String, String)> = {
        let mut v: Vec<_> = pairs.values().flatten().cloned().collect();
        v.sort();
        v
    };
    // the nested loop over the rows that are not late
    let imps: Vec<Impression> = steps.iter().flat_map(|s| s.0.clone()).collect();
    let clicks: Vec<Click> = steps.iter().flat_map(|s| s.1.clone()).collect();
    let (late, on_time): (Vec<Click>, Vec<Click>) =
        clicks.into_iter().partition(|c| c.clicked == "c9_late");
    assert_eq!(all, nested_loop(&imps, &on_time, Some(30)));
    // the late click would have met i9
    assert_eq!(
        nested_loop(&imps, &late, Some(30)),
        [("i9".to_string(), "c9_late".to_string())]
    );
    assert_eq!(all.len(), 4);
    assert_eq!(
        facts,
        [
            // (watermark s, dropped as late, rows buffered)
            (0, 0, 6),
            // the batch without input that moves the watermark to 190: i1, i2, c1 go
            (190, 0, 3),
            // c9_late dropped; i2b buffered
            (190, 1, 4),
            // c2b, c2c and i7 buffered
            (190, 0, 7),
            // 226 (the clicks' watermark, the smaller): i2b (195 + 30 <= 226) goes
            (226, 0, 6),
        ]
    );
}

#[test]
fn a_restarted_join_finds_the_rows_buffered_before_the_restart() {
    let steps = bounded_steps();
    let (straight, straight_facts) = bounded(&steps, None, "stream_join_straight");
    for restart_at in 1..steps.len() {
        let table = format!("stream_join_restart_{restart_at}");
        let (restarted, facts) = bounded(&steps, Some(restart_at), &table);
        assert_eq!(restarted, straight, "restarted before step {restart_at}");
        assert_eq!(facts, straight_facts, "restarted before step {restart_at}");
    }
}

#[test]
fn a_join_that_dies_at_any_point_of_a_batch_resumes_with_each_pair_once() {
    let steps = bounded_steps();
    let (straight, _) = bounded(&steps, None, "stream_join_no_crash");
    for point in [
        FaultPoint::AfterOffsetsWrite,
        FaultPoint::DuringSinkWrite,
        FaultPoint::BeforeCommit,
    ] {
        // batch 2 buffers i2b and meets c2_far; batch 4 evicts
        for batch in [2, 4] {
            let table = format!("stream_join_crash_{point:?}_{batch}");
            let (resumed, _) = bounded_with_fault(&steps, None, Some((point, batch)), &table);
            assert_eq!(resumed, straight, "died at {point:?} of batch {batch}");
        }
    }
}

#[test]
fn an_input_that_has_not_started_yet_holds_the_watermark_so_its_rows_are_not_late() {
    // impressions at 1000 s come first; clicks at 100 s come in the next batch: with
    // the min of the two watermarks (the clicks' has seen nothing: 0) they are on time
    let steps = vec![
        (
            vec![
                imp(Some(1), "i_early", 95),
                imp(Some(2), "i_late_start", 1_000),
            ],
            vec![],
        ),
        (vec![], vec![click(Some(1), "c1", 100)]),
    ];
    let (pairs, facts) = bounded(&steps, None, "stream_join_late_start");
    let all: Vec<(String, String)> = pairs.values().flatten().cloned().collect();
    assert_eq!(all, [("i_early".to_string(), "c1".to_string())]);
    assert_eq!(facts.iter().map(|f| f.1).sum::<u64>(), 0, "{facts:?}");
    // then the watermark is the clicks' (100 - 10)
    assert_eq!(facts.last().unwrap().0, 90, "{facts:?}");
}
