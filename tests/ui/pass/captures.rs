// Captured Rust values of each kind: a number, a string, and an expression.
use stream_core::stream;

fn main() {
    let min = 10.0;
    let country = String::from("DE");
    let factor = 3;
    let _query: stream_core::QueryBuilder<_> = stream! {
        schema Order { user: string, amount: Option<f64>, qty: i64, country: Option<string> }
        read(json, path = "landing/", schema = Order)
            .filter(amount > {min} && country == {country.as_str()})
            .with_column(qty, qty * {factor + 1})
            .write(console)
    };
}
