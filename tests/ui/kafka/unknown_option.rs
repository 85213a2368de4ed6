// Spark's `maxOffsetsPerTrigger` is `max_offsets_per_trigger`.
use stream_core::stream;

fn main() {
    let _query = stream! {
        read(kafka, bootstrap_servers = "127.0.0.1:9092", subscribe = "orders",
             max_offset_per_trigger = 1000)
            .write(console)
    };
}
