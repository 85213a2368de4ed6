// `read(kafka, ..)` in a crate whose stream-core lacks the `kafka` feature: the error
// names the feature (these UI cases build stream-core without it).
use stream_core::stream;

fn main() {
    let _query: stream_core::QueryBuilder<_> = stream! {
        schema Event { user: Option<string>, amount: Option<f64> }
        read(kafka, bootstrap_servers = "127.0.0.1:9092", subscribe = "events",
             value_schema = Event, starting_offsets = earliest)
            .select(user, amount)
            .write(console)
    };
}
