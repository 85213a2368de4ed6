// The headers column is passed on as it is: no expression takes it.
use stream_core::stream;

fn main() {
    let _query = stream! {
        read(kafka, bootstrap_servers = "127.0.0.1:9092", subscribe = "orders",
             include_headers = true)
            .filter(headers.is_not_null())
            .write(console)
    };
}
