// Only a struct with named fields is a schema.
#[derive(stream_core::Schema)]
enum Event {
    Click,
    Purchase,
}

#[derive(stream_core::Schema)]
struct Pair(String, i64);

#[derive(stream_core::Schema)]
struct Tagged<T> {
    tag: T,
}

fn main() {}
