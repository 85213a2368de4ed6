// After a rename the old name is gone.
use stream_core::stream;

fn main() {
    let _query = stream! {
        schema Order { user: string, amount: f64 }
        read(json, path = "landing/", schema = Order)
            .with_column_renamed(amount, total)
            .filter(amount > 1.0)
            .write(console)
    };
}
