// A query has one trigger: a second `.trigger(..)` is an error, not a silent override.
use stream_core::stream;

fn main() {
    let _query = stream! {
        schema Order { user: string, amount: f64 }
        read(json, path = "landing/", schema = Order)
            .write(console)
            .trigger(once)
            .trigger(available_now)
    };
}
