// `with_column_renamed` takes two names; a third argument is an error on it.
use stream_core::stream;

fn main() {
    let _query = stream! {
        schema Order { user: string, amount: f64 }
        read(json, path = "landing/", schema = Order)
            .with_column_renamed(amount, total, extra)
            .write(console)
    };
}
