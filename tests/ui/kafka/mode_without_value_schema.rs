// `mode` says what to do with a value that does not decode: without `value_schema`
// nothing is decoded.
use stream_core::stream;

fn main() {
    let _query = stream! {
        read(kafka, bootstrap_servers = "127.0.0.1:9092", subscribe = "orders",
             mode = drop_malformed)
            .write(console)
    };
}
