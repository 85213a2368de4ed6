use stream_core::stream;

fn main() {
    let _query = stream! {
        schema Order { user: string, amount: f64 }
        read(json, path = "landing/", schema = Order)
            .select(user, amount, amount * 2.0 as amount)
            .write(console)
    };
}
