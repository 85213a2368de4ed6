//! Every aggregate of `agg`, by hand-computed values: nulls left out as Spark leaves them
//! out, integer and float sums, `first` / `last` in arrival order (one task), and the
//! HyperLogLog estimate of `approx_count_distinct`.

use stream_core::{MemoryStream, Schema, StreamingQueryManager, stream};
use tests::runtime;

#[derive(Schema, Clone)]
struct Order {
    shop: String,
    user: String,
    qty: Option<i32>,
    price: Option<f64>,
}

fn order(shop: &str, user: &str, qty: Option<i32>, price: Option<f64>) -> Order {
    Order {
        shop: shop.into(),
        user: user.into(),
        qty,
        price,
    }
}

#[test]
fn every_aggregate_gives_the_hand_computed_value() {
    let orders = MemoryStream::of::<Order>();
    orders
        .add_rows(&[
            order("n", "ann", Some(2), Some(10.0)),
            order("n", "bob", None, Some(4.0)),
            order("n", "ann", Some(5), None),
            order("s", "cid", None, None),
        ])
        .unwrap();
    let checkpoint = tempfile::tempdir().unwrap();
    let query = stream! {
        schema Order = Order;
        read(memory, stream = {orders.clone()}, schema = Order)
            .group_by(shop)
            .agg(
                count() as rows,
                count(qty) as with_qty,
                sum(qty) as items,
                sum(price) as revenue,
                avg(price) as mean_price,
                min(qty) as least,
                max(user) as last_user_by_name,
                first(user) as first_user,
                last(qty) as last_qty,
                approx_count_distinct(user) as users,
            )
            .write(memory, name = "aggregates_every_one")
            .output_mode(complete)
    }
    .manager(&StreamingQueryManager::new())
    .checkpoint_location(checkpoint.path())
    .parallelism(1)
    .start()
    .unwrap();
    let rt = runtime();
    rt.block_on(query.process_all_available()).unwrap();
    rt.block_on(query.stop());
    let mut rows = query.rows().unwrap();
    rows.sort_by(|a, b| a.shop.cmp(&b.shop));
    let n = &rows[0];
    assert_eq!(n.shop, "n");
    assert_eq!((n.rows, n.with_qty), (3, 2));
    assert_eq!(n.items, Some(7));
    assert_eq!(n.revenue, Some(14.0));
    assert_eq!(n.mean_price, Some(7.0));
    assert_eq!(n.least, Some(2));
    assert_eq!(n.last_user_by_name.as_deref(), Some("bob"));
    assert_eq!(n.first_user.as_deref(), Some("ann"));
    assert_eq!(n.last_qty, Some(5));
    assert_eq!(n.users, 2);
    // a group whose values are all null: sums and averages are null, counts 0
    let s = &rows[1];
    assert_eq!(
        (s.rows, s.with_qty, s.items, s.revenue, s.mean_price),
        (1, 0, None, None, None)
    );
    assert_eq!((s.least, s.last_qty, s.users), (None, None, 1));
}

#[derive(Schema, Clone)]
struct Tick {
    ts: stream_core::types::TimestampMs,
}

fn minutes(m: i64) -> stream_core::types::TimestampMs {
    stream_core::types::TimestampMs(m * 60_000)
}

/// The window starts of `window(ts, size, slide, start)` through the macro, as minutes,
/// with the rows in each, sorted.
#[test]
fn a_window_start_offset_shifts_every_window() {
    let ticks = MemoryStream::of::<Tick>();
    ticks
        .add_rows(&[
            Tick { ts: minutes(10) },
            Tick { ts: minutes(20) },
            Tick { ts: minutes(74) },
            Tick { ts: minutes(75) },
        ])
        .unwrap();
    // one block per window: each block's rows are a struct of its own
    macro_rules! windows_of {
        ($name:literal, $size:literal, $slide:literal, $start:literal) => {{
            let checkpoint = tempfile::tempdir().unwrap();
            let query = stream! {
                schema Tick = Tick;
                read(memory, stream = {ticks.clone()}, schema = Tick)
                    .group_by(window(ts, $size, $slide, $start))
                    .agg(count() as n)
                    .write(memory, name = $name)
                    .output_mode(complete)
            }
            .manager(&StreamingQueryManager::new())
            .checkpoint_location(checkpoint.path())
            .start()
            .unwrap();
            let rt = runtime();
            rt.block_on(query.process_all_available()).unwrap();
            rt.block_on(query.stop());
            let mut rows: Vec<(i64, i64, i64)> = query
                .rows()
                .unwrap()
                .into_iter()
                .map(|r| (r.window_start.0 / 60_000, r.window_end.0 / 60_000, r.n))
                .collect();
            rows.sort();
            rows
        }};
    }
    // hours starting at a quarter past: 00:10 is in [-00:45, 00:15), 01:15 opens a window
    assert_eq!(
        windows_of!("aggregates_window_offset", "1 hour", "1 hour", "15 minutes"),
        [(-45, 15, 1), (15, 75, 2), (75, 135, 1)]
    );
    // sliding by 30 minutes from a quarter past: each instant is in two windows
    assert_eq!(
        windows_of!(
            "aggregates_window_offset_sliding",
            "1 hour",
            "30 minutes",
            "15 minutes"
        ),
        [
            (-45, 15, 1),
            (-15, 45, 2),
            (15, 75, 2),
            (45, 105, 2),
            (75, 135, 1)
        ]
    );
}
