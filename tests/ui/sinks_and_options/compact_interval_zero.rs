// The file source's log is compacted every `compact_interval` batches: zero never would.
use stream_core::stream;

fn main() {
    let _query = stream! {
        schema Order { user: string, amount: f64 }
        read(json, path = "landing/", schema = Order, compact_interval = 0)
            .write(console)
    };
}
