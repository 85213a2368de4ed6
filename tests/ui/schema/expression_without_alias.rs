// An output column needs a name: a computed expression gets one with `as`.
use stream_core::stream;

fn main() {
    let _query = stream! {
        schema Order { user: string, amount: f64 }
        read(json, path = "landing/", schema = Order)
            .select(user, amount * 2.0)
            .write(console)
    };
}
