// The partition columns are checked against the written stream: they cannot be captured.
use stream_core::stream;

fn main() {
    let columns = ["country"];
    let _query = stream! {
        schema Order { user: string, amount: f64, country: string }
        read(json, path = "landing/", schema = Order)
            .write(parquet, path = "out/", partition_by = {columns})
            .checkpoint("checkpoints/q")
    };
}
