// `write(kafka, ..)` in a crate whose stream-core lacks the `kafka` feature: the error
// names the feature (these UI cases build stream-core without it).
use stream_core::stream;

fn main() {
    let _query: stream_core::QueryBuilder<_> = stream! {
        read(rate, rows_per_second = 10)
            .select(value as string as value)
            .write(kafka, bootstrap_servers = "127.0.0.1:9092", topic = "ticks",
                   kafka_options = {[("linger.ms", "5")]})
            .checkpoint("checkpoints/q")
    };
}
