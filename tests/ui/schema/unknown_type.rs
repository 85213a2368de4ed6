use stream_core::stream;

fn main() {
    let _query = stream! {
        schema Order { user: string, amount: float }
        read(json, path = "landing/", schema = Order)
            .write(console)
    };
}
