use stream_core::stream;

fn main() {
    let _query = stream! {
        schema Order { user: string, amount: f64, total: f64 }
        read(json, path = "landing/", schema = Order)
            .with_column_renamed(amount, total)
            .write(console)
    };
}
