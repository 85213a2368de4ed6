// A sink that records the batches it has written needs a checkpoint kept between runs:
// on a new temporary one, a second run would start again at batch 0, find it written
// and skip it, losing its rows. Spark refuses such a query when it starts.
use stream_core::stream;

fn main() {
    let _parquet = stream! {
        schema Order { user: string, amount: f64 }
        read(json, path = "landing/", schema = Order)
            .write(parquet, path = "out/orders")
            .trigger(available_now)
    };
    let _json = stream! {
        schema Order { user: string, amount: f64 }
        read(json, path = "landing/", schema = Order)
            .write(json, path = "out/orders_json")
    };
    // console and memory keep nothing between runs: no checkpoint needed
    let _console = stream! {
        schema Order { user: string, amount: f64 }
        read(json, path = "landing/", schema = Order)
            .write(console)
    };
}
