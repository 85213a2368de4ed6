// `write(delta, ..)` in a crate whose stream-core lacks the `delta` feature: the error
// names the feature (these UI cases build stream-core without it).
use stream_core::stream;

fn main() {
    let _query: stream_core::QueryBuilder<_> = stream! {
        schema Order { user: string, amount: f64, country: string }
        read(json, path = "landing/", schema = Order)
            .write(delta, path = "tables/orders", partition_by = [country])
            .checkpoint("checkpoints/q")
    };
}
