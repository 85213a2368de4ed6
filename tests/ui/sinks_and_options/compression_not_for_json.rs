// `compression` is an option of the Parquet format only.
use stream_core::stream;

fn main() {
    let _query = stream! {
        schema Order { user: string, amount: f64 }
        read(json, path = "landing/", schema = Order)
            .write(json, path = "out/orders", compression = zstd)
            .checkpoint("checkpoints/q")
    };
}
