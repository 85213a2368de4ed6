use stream_core::stream;

fn main() {
    let _query = stream! {
        schema Order { user: string, amount: f64 }
        let orders = read(json, path = "landing/", schema = Order);
        ordres
            .write(console)
    };
}
