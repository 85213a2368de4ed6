// Operator `with_column_renamed`.
use stream_core::stream;

fn main() {
    let _query: stream_core::QueryBuilder<_> = stream! {
        schema Order { user: string, amount: Option<f64>, qty: i64, country: Option<string> }
        read(json, path = "landing/", schema = Order)
            .with_column_renamed(amount, price)
            .filter(price > 1.0)
            .write(console)
    };
}
