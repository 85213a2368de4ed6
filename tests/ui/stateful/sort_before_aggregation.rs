// A sort before the aggregation sorts the stream, which Spark refuses even in complete mode.
use stream_core::stream;

fn main() {
    let _query = stream! {
        schema Order { user: string, amount: f64 }
        read(json, path = "landing/", schema = Order)
            .order_by(amount)
            .group_by(user)
            .agg(sum(amount) as total)
            .write(console)
            .output_mode(complete)
    };
}
