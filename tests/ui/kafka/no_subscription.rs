// A Kafka source reads one subscription: without `subscribe`, `subscribe_pattern` or
// `assign` it reads nothing.
use stream_core::stream;

fn main() {
    let _query = stream! {
        read(kafka, bootstrap_servers = "127.0.0.1:9092", starting_offsets = earliest)
            .write(console)
    };
}
