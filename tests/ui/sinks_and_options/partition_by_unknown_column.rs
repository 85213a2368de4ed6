use stream_core::stream;

fn main() {
    let _query = stream! {
        schema Order { user: string, country: string, amount: f64 }
        read(json, path = "landing/", schema = Order)
            .select(user, amount)
            .write(parquet, path = "out/orders", partition_by = [contry, user])
            .checkpoint("checkpoints/q")
    };
}
