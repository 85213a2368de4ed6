// Operator `where_`, the same as `filter`.
use stream_core::stream;

fn main() {
    let _query: stream_core::QueryBuilder<_> = stream! {
        schema Order { user: string, amount: Option<f64>, qty: i64, country: Option<string> }
        read(json, path = "landing/", schema = Order)
            .where_(!(qty < 2) && country.is_not_null())
            .write(console)
    };
}
