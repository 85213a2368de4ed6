use stream_core::stream;

fn main() {
    let _query = stream! {
        schema Order { user: string, amount: f64 }
        schema Refund { user: string, amount: f64, reason: string }
        let refunds = read(json, path = "refunds/", schema = Refund);
        read(json, path = "orders/", schema = Order)
            .union(refunds)
            .write(console)
    };
}
