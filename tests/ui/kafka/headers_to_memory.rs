// The memory sink reads its rows back as Rust structs; the headers column has no Rust
// type yet.
use stream_core::stream;

fn main() {
    let _query = stream! {
        read(kafka, bootstrap_servers = "127.0.0.1:9092", subscribe = "orders",
             include_headers = true)
            .select(value as string as value, headers)
            .write(memory, name = "records")
    };
}
