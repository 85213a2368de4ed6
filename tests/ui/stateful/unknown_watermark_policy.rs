// `watermark_policy` is `min` or `max`.
use stream_core::stream;

fn main() {
    let _query = stream! {
        schema Event { ts: timestamp_ms, country: string }
        read(json, path = "landing/", schema = Event)
            .with_watermark(ts, "1 minute")
            .write(console)
            .watermark_policy(slowest)
    };
}
