// A name far from every column: the help lists the columns and shows how to capture
// a Rust variable instead.
use stream_core::stream;

fn main() {
    let limit = 10.0;
    let _ = limit;
    let _query = stream! {
        schema Order { user: string, amount: f64 }
        read(json, path = "landing/", schema = Order)
            .filter(amount > limit)
            .write(console)
    };
}
