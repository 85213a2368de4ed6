// A malformed operator call: syn's message, with how the operator is written.
use stream_core::stream;

fn main() {
    let _query = stream! {
        schema Order { user: string, amount: f64 }
        read(json, path = "landing/", schema = Order)
            .with_column(total)
            .write(console)
    };
}
