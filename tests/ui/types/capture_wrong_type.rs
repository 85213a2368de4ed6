// A captured Rust value takes the type of the column beside it; rustc checks it and
// its error is on the user's `{..}`.
use stream_core::stream;

fn main() {
    let limit = "ten";
    let _query = stream! {
        schema Order { user: string, amount: f64 }
        read(json, path = "landing/", schema = Order)
            .filter(amount > {limit})
            .write(console)
    };
}
