// Spark sorts a stream only as an aggregation's whole result, in complete mode.
use stream_core::stream;

fn main() {
    let _query = stream! {
        schema Order { user: string, amount: f64 }
        read(json, path = "landing/", schema = Order)
            .order_by(desc(amount))
            .write(console)
    };
}
