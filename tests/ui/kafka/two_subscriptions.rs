// Exactly one of `subscribe`, `subscribe_pattern` and `assign`: the second is the error.
use stream_core::stream;

fn main() {
    let _query = stream! {
        read(kafka, bootstrap_servers = "127.0.0.1:9092", subscribe = "orders",
             subscribe_pattern = "orders-.*")
            .write(console)
    };
}
