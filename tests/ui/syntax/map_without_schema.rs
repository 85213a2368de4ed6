// `map` takes the output schema first, then the function.
use stream_core::stream;

fn main() {
    let _query = stream! {
        schema Click { user: string, amount: f64 }
        read(json, path = "landing/", schema = Click)
            .map(|c| c.amount)
            .write(console)
    };
}
