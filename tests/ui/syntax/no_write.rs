// A block whose streams are never written has no query to build.
use stream_core::stream;

fn main() {
    let _query = stream! {
        schema Order { user: string, amount: f64 }
        read(json, path = "landing/", schema = Order)
            .filter(amount > 10.0)
    };
}
