// Operator `union` of two streams of one schema, and `let` streams.
use stream_core::stream;

fn main() {
    let _query: stream_core::QueryBuilder<_> = stream! {
        schema Order { user: string, amount: f64 }
        let eu = read(json, path = "eu/", schema = Order);
        let us = read(json, path = "us/", schema = Order).filter(amount > 0.0);
        eu.union(us)
            .write(console)
    };
}
