// Only settings may follow `write`: a transformation after it is an error on its name.
use stream_core::stream;

fn main() {
    let _query = stream! {
        schema Order { user: string, amount: f64 }
        read(json, path = "landing/", schema = Order)
            .write(console)
            .filter(amount > 10.0)
    };
}
