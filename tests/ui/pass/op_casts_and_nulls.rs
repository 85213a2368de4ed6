// Casts, `None` beside a typed value, and three-valued logic.
use stream_core::stream;

fn main() {
    let _query: stream_core::QueryBuilder<_> = stream! {
        schema Order { user: string, amount: Option<f64>, qty: i64, country: Option<string> }
        read(json, path = "landing/", schema = Order)
            .select(user, qty as f64 as qty_f, coalesce(amount, None, 0.0) as amount, country.is_null() || amount > 1.0 as flag)
            .write(console)
    };
}
