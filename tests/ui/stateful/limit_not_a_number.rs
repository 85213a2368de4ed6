// `limit` takes a number written out.
use stream_core::stream;

fn main() {
    let _query = stream! {
        schema Order { user: string, amount: f64 }
        read(json, path = "landing/", schema = Order)
            .limit("10")
            .write(console)
    };
}
