// Comparing a string column with a number: the error is on the operator and names
// both types.
use stream_core::stream;

fn main() {
    let _query = stream! {
        schema Order { user: string, amount: f64 }
        read(json, path = "landing/", schema = Order)
            .filter(user == 42)
            .write(console)
    };
}
