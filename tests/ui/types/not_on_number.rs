use stream_core::stream;

fn main() {
    let _query = stream! {
        schema Order { user: string, qty: i64 }
        read(json, path = "landing/", schema = Order)
            .filter(!qty)
            .write(console)
    };
}
