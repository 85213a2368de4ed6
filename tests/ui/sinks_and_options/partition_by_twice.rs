use stream_core::stream;

fn main() {
    let _query = stream! {
        schema Order { user: string, country: string, amount: f64 }
        read(json, path = "landing/", schema = Order)
            .write(delta, path = "tables/orders", partition_by = [country, country])
            .checkpoint("checkpoints/q")
    };
}
