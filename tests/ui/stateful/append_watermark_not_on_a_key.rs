// The watermark must be on the window's column: a window over another column is never
// closed by it.
use stream_core::stream;

fn main() {
    let _query = stream! {
        schema Event { ts: timestamp_ms, seen: timestamp_ms, country: string }
        read(json, path = "landing/", schema = Event)
            .with_watermark(seen, "10 minutes")
            .group_by(window(ts, "1 minute"), country)
            .agg(count() as n)
            .write(console)
            .output_mode(append)
    };
}
