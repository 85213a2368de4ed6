// A first start reads from one place: `starting_offsets`, `starting_timestamp` or
// `starting_offsets_by_timestamp`.
use stream_core::stream;

fn main() {
    let _query = stream! {
        read(kafka, bootstrap_servers = "127.0.0.1:9092", subscribe = "orders",
             starting_offsets = earliest, starting_timestamp = 1700000000000)
            .write(console)
    };
}
