use stream_core::stream;

fn main() {
    let _query = stream! {
        schema Order { user: string, amount: Option<f64> }
        read(json, path = "landing/", schema = Order)
            .select(coalesce(amount) as amount)
            .write(console)
    };
}
