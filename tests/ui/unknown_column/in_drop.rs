use stream_core::stream;

fn main() {
    let _query = stream! {
        schema Order { user: string, amount: f64, country: string }
        read(json, path = "landing/", schema = Order)
            .drop(country, cuntry)
            .write(console)
    };
}
