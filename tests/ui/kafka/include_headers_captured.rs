// `include_headers` decides whether the source has a `headers` column: it cannot be
// captured.
use stream_core::stream;

fn main() {
    let headers = true;
    let _query = stream! {
        read(kafka, bootstrap_servers = "127.0.0.1:9092", subscribe = "orders",
             include_headers = {headers})
            .write(console)
    };
}
