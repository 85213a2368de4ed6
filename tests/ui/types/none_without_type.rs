// `None` alone has no type to be null of.
use stream_core::stream;

fn main() {
    let _query = stream! {
        schema Order { user: string, amount: f64 }
        read(json, path = "landing/", schema = Order)
            .select(user, None as missing)
            .write(console)
    };
}
