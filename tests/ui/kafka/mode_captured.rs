// A value schema's mode decides whether its columns may be null: it cannot be captured.
use stream_core::{ParseMode, stream};

fn main() {
    let mode = ParseMode::Permissive;
    let _query = stream! {
        schema Order { user: string, amount: f64 }
        read(kafka, bootstrap_servers = "127.0.0.1:9092", subscribe = "orders",
             value_schema = Order, mode = {mode})
            .write(console)
    };
}
