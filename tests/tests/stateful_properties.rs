//! Differential properties of windowed aggregation, over random event streams cut into
//! random batches and run on random numbers of tasks and shuffle partitions:
//!
//! - complete mode's final table equals a plain aggregation of all the events;
//! - append mode's rows (all batches) equal that table restricted to the windows the
//!   final watermark closed (the events come nearly in order, so none is late);
//! - update mode's last row per group equals that table.

use std::collections::BTreeMap;

use proptest::prelude::*;
use stream_core::types::TimestampMs;
use stream_core::{MemoryStream, Schema, StreamingQueryManager, stream};
use tests::runtime;

#[derive(Schema, Clone, Debug)]
struct Sale {
    ts: TimestampMs,
    shop: String,
    amount: Option<i64>,
}

/// (window start in seconds, shop) → (count, sum of the non-null amounts or None).
type Table = BTreeMap<(i64, String), (i64, Option<i64>)>;

/// The aggregation computed directly, without the engine.
fn expected(sales: &[Sale]) -> Table {
    let mut table = Table::new();
    for s in sales {
        let start = s.ts.0.div_euclid(60_000) * 60;
        let entry = table.entry((start, s.shop.clone())).or_insert((0, None));
        entry.0 += 1;
        if let Some(a) = s.amount {
            entry.1 = Some(entry.1.unwrap_or(0) + a);
        }
    }
    table
}

/// Events nearly in time order: each at most 10 s before the latest so far, so with a
/// 30 s watermark delay none is late.
fn sales() -> impl Strategy<Value = Vec<Sale>> {
    prop::collection::vec(
        (0i64..40, 0usize..3, prop::option::of(0i64..100), 0i64..10),
        0..60,
    )
    .prop_map(|raw| {
        let mut now = 0i64;
        raw.into_iter()
            .map(|(step, shop, amount, back)| {
                now += step * 1_000;
                Sale {
                    ts: TimestampMs((now - back * 1_000).max(0)),
                    shop: ["north", "south", "east"][shop].to_string(),
                    amount,
                }
            })
            .collect()
    })
}

/// Cut points: the sizes of the batches.
fn cut(sales: &[Sale], cuts: &[usize]) -> Vec<Vec<Sale>> {
    let mut batches = Vec::new();
    let mut rest = sales;
    for &c in cuts {
        if rest.is_empty() {
            break;
        }
        let n = c.min(rest.len()).max(1);
        batches.push(rest[..n].to_vec());
        rest = &rest[n..];
    }
    if !rest.is_empty() {
        batches.push(rest.to_vec());
    }
    batches
}

/// Feeds `batches` one micro-batch each and stops the query.
fn feed(input: &MemoryStream, query: &stream_core::StreamingQuery, batches: &[Vec<Sale>]) {
    let rt = runtime();
    for b in batches {
        input.add_rows(b).unwrap();
        rt.block_on(query.process_all_available()).unwrap();
    }
    rt.block_on(query.stop());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn every_mode_agrees_with_a_plain_aggregation(
        sales in sales(),
        cuts in prop::collection::vec(1usize..20, 0..6),
        tasks in 1usize..4,
        partitions in 1usize..5,
    ) {
        let batches = cut(&sales, &cuts);
        let table = expected(&sales);
        let run = |mode: &str| -> Vec<(i64, String, i64, Option<i64>)> {
            let input = MemoryStream::of::<Sale>();
            let checkpoint = tempfile::tempdir().unwrap();
            let name = format!("prop_{mode}");
            macro_rules! start {
                ($mode:ident) => {{
                    let q = stream! {
                        schema Sale = Sale;
                        read(memory, stream = {input.clone()}, schema = Sale)
                            .with_watermark(ts, "30 seconds")
                            .group_by(window(ts, "1 minute"), shop)
                            .agg(count() as n, sum(amount) as total)
                            .write(memory, name = {name.clone()})
                            .output_mode($mode)
                    }
                    .manager(&StreamingQueryManager::new())
                    .checkpoint_location(checkpoint.path())
                    .parallelism(tasks)
                    .shuffle_partitions(partitions)
                    .start()
                    .unwrap();
                    feed(&input, &q, &batches);
                    let rows: Vec<(i64, String, i64, Option<i64>)> = q
                        .rows()
                        .unwrap()
                        .into_iter()
                        .map(|r| (r.window_start.0 / 1_000, r.shop, r.n, r.total))
                        .collect();
                    let table = stream_core::MemorySink::new(&name).table();
                    table.clear();
                    rows
                }};
            }
            match mode {
                "complete" => start!(complete),
                "update" => start!(update),
                _ => start!(append),
            }
        };

        // complete: the memory sink keeps the last table
        let complete: Table = run("complete").into_iter().map(|(w, s, n, t)| ((w, s), (n, t))).collect();
        prop_assert_eq!(&complete, &table);

        // append: each window once, those the final watermark closed
        let max_ts = sales.iter().map(|s| s.ts.0).max();
        let watermark_s = max_ts.map_or(0, |m| (m - 30_000).max(0)) / 1_000;
        let appended = run("append");
        let mut appended_table = Table::new();
        for (w, s, n, t) in appended {
            prop_assert!(appended_table.insert((w, s), (n, t)).is_none(), "a window emitted twice");
        }
        let closed: Table = table.iter().filter(|((w, _), _)| w + 60 <= watermark_s).map(|(k, v)| (k.clone(), *v)).collect();
        prop_assert_eq!(&appended_table, &closed);

        // update: the last value of every group
        let mut last = Table::new();
        for (w, s, n, t) in run("update") {
            last.insert((w, s), (n, t));
        }
        prop_assert_eq!(&last, &table);
    }
}
