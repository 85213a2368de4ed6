// Aggregations need a grouping; a stateless pipeline cannot call them.
use stream_core::stream;

fn main() {
    let _query = stream! {
        schema Order { user: string, amount: f64 }
        read(json, path = "landing/", schema = Order)
            .select(user, sum(amount) as total)
            .write(console)
    };
}
