// An aggregation without keys has one group, which no watermark closes: append mode is
// refused (Spark too); complete and update mode take it.
use stream_core::stream;

fn main() {
    let _query = stream! {
        schema Sale { page: string, amount: f64 }
        read(json, path = "landing/", schema = Sale)
            .agg(count() as n, sum(amount) as total)
            .write(console)
            .output_mode(append)
    };
}
