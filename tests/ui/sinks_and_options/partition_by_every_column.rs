use stream_core::stream;

fn main() {
    let _query = stream! {
        schema Order { user: string, country: string }
        read(json, path = "landing/", schema = Order)
            .write(json, path = "out/orders", partition_by = [country, user])
            .checkpoint("checkpoints/q")
    };
}
