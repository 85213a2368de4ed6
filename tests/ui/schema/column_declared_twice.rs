use stream_core::stream;

fn main() {
    let _query = stream! {
        schema Order { user: string, amount: f64, user: string }
        read(json, path = "landing/", schema = Order)
            .write(console)
    };
}
