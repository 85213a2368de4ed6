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
