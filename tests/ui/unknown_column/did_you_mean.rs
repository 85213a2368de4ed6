// A misspelt column: the error is on it, with the closest column of the stream.
use stream_core::stream;

fn main() {
    let _query = stream! {
        schema Order { user: string, amount: f64 }
        read(json, path = "landing/", schema = Order)
            .filter(amout > 10.0)
            .write(console)
    };
}
