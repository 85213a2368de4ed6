use stream_core::stream;

fn main() {
    let _query = stream! {
        schema Order { user: string, amount: f64 }
        read(json, path = "landing/", schema = Order)
            .write(parquet, partition_by = [user])
            .checkpoint("checkpoints/q")
    };
}
