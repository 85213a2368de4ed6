// `drop_duplicates_within_watermark` keeps a key for the watermark's delay: it needs one.
use stream_core::stream;

fn main() {
    let _query = stream! {
        schema Event { ts: timestamp_ms, user: string }
        read(json, path = "landing/", schema = Event)
            .drop_duplicates_within_watermark(user)
            .write(console)
    };
}
