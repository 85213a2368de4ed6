// A column may be named with a Rust keyword.
use stream_core::stream;

fn main() {
    let _query: stream_core::QueryBuilder<_> = stream! {
        schema Event { type: string, amount: f64 }
        read(json, path = "landing/", schema = Event)
            .filter(amount > 0.0)
            .write(console)
    };
}
