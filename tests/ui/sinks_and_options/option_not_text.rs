// Paths and names are text: a number is refused on the token, not left to rustc.
use stream_core::stream;

fn main() {
    let _query = stream! {
        schema Order { user: string, amount: f64 }
        read(json, path = 42, schema = Order)
            .write(memory, name = 7)
            .query_name(5)
    };
}
