// Operator `select`: columns, and expressions named with `as`.
use stream_core::stream;

fn main() {
    let _query: stream_core::QueryBuilder<_> = stream! {
        schema Order { user: string, amount: Option<f64>, qty: i64, country: Option<string> }
        read(json, path = "landing/", schema = Order)
            .select(user, amount * qty as total, qty + 1 as next_qty, lower(user) as low)
            .write(console)
    };
}
