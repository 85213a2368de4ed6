// Every bad option of a file sink is reported, not only the first.
use stream_core::stream;

fn main() {
    let _query = stream! {
        schema Order { user: string, country: string, amount: f64 }
        read(json, path = "landing/", schema = Order)
            .write(
                parquet,
                path = "out/orders",
                compression = gzip,
                max_rows_per_file = 0,
                retention = "a week",
                partition_by = "country",
            )
            .checkpoint("checkpoints/q")
    };
}
