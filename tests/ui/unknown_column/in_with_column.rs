use stream_core::stream;

fn main() {
    let _query = stream! {
        schema Order { user: string, amount: f64, qty: i64 }
        read(json, path = "landing/", schema = Order)
            .with_column(total, amount * quantity)
            .write(console)
    };
}
