// Operator `with_column` replacing a column in place.
use stream_core::stream;

fn main() {
    let _query: stream_core::QueryBuilder<_> = stream! {
        schema Order { user: string, amount: Option<f64>, qty: i64, country: Option<string> }
        read(json, path = "landing/", schema = Order)
            .with_column(qty, qty * 2)
            .write(console)
    };
}
