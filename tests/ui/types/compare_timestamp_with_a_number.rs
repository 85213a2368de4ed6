// Timestamps of two units compare (both are Spark's one timestamp type), but a timestamp
// with a number does not.
use stream_core::stream;

fn main() {
    let _query = stream! {
        schema Event { ts: timestamp_ms, at: string, n: i64 }
        read(json, path = "landing/", schema = Event)
            .filter(ts < to_timestamp(at) && ts > n)
            .write(console)
    };
}
