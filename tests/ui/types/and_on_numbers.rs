use stream_core::stream;

fn main() {
    let _query = stream! {
        schema Order { user: string, qty: i64, paid: bool }
        read(json, path = "landing/", schema = Order)
            .filter(paid && qty)
            .write(console)
    };
}
