// Spark takes one admission limit per batch: files or bytes, not both.
use stream_core::stream;

fn main() {
    let _query = stream! {
        schema Order { user: string, amount: f64 }
        read(json, path = "landing/", schema = Order, max_files_per_trigger = 10, max_bytes_per_trigger = 1048576)
            .write(console)
    };
}
