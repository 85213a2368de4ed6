// A `let` stream that nothing uses: rustc's own unused-variable warning on its name (an
// error here, with `deny`), silenced as rustc's is, by a leading `_`.
#![deny(unused_variables)]
use stream_core::stream;

fn main() {
    let _query = stream! {
        schema Order { user: string, amount: f64 }
        let big = read(json, path = "landing/", schema = Order)
            .filter(amount > 100.0);
        let _kept_for_later = read(json, path = "archive/", schema = Order);
        read(json, path = "landing/", schema = Order)
            .write(console)
    };
}
