// A batch that may read no offset never makes progress.
use stream_core::stream;

fn main() {
    let _query = stream! {
        read(kafka, bootstrap_servers = "127.0.0.1:9092", subscribe = "orders",
             max_offsets_per_trigger = 0)
            .write(console)
    };
}
