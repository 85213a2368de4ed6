// Settings belong to the query, so they come after `write`.
use stream_core::stream;

fn main() {
    let _query = stream! {
        schema Order { user: string, amount: f64 }
        read(json, path = "landing/", schema = Order)
            .output_mode(append)
            .write(console)
    };
}
