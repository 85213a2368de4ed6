// Rust syntax the DSL has no meaning for is rejected on the expression.
use stream_core::stream;

fn main() {
    let _query = stream! {
        schema Order { user: string, amount: f64 }
        read(json, path = "landing/", schema = Order)
            .filter(if amount > 10.0 { true } else { false })
            .write(console)
    };
}
