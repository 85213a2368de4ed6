// A misspelt operator: the error is on its name, with the closest operator.
use stream_core::stream;

fn main() {
    let _query = stream! {
        schema Order { user: string, amount: f64 }
        read(json, path = "landing/", schema = Order)
            .fliter(amount > 10.0)
            .write(console)
    };
}
