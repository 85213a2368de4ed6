// `request_timeout` takes a duration as a string, not a bare number.
use stream_core::stream;

fn main() {
    let _query = stream! {
        read(kafka, bootstrap_servers = "127.0.0.1:9092", subscribe = "orders",
             request_timeout = 30)
            .write(console)
    };
}
