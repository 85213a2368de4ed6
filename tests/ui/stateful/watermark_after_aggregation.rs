// The watermark decides which input of an aggregation is late: it comes before it.
use stream_core::stream;

fn main() {
    let _query = stream! {
        schema Event { ts: timestamp_ms, country: string }
        read(json, path = "landing/", schema = Event)
            .group_by(window(ts, "1 minute"), country)
            .agg(count() as n)
            .with_watermark(window_end, "1 minute")
            .write(console)
            .output_mode(update)
    };
}
