// Output mode `complete`: the whole result table of an aggregation every batch.
use stream_core::stream;

fn main() {
    let _query: stream_core::QueryBuilder<_> = stream! {
        schema Order { user: string, amount: Option<f64>, qty: i64, country: Option<string> }
        read(json, path = "landing/", schema = Order)
            .group_by(country)
            .agg(count() as orders, sum(qty) as items)
            .write(console)
            .output_mode(complete)
    };
}
