// Chained aggregations run in append mode only: the second needs each window once, closed.
use stream_core::stream;

fn main() {
    let _query = stream! {
        schema Event { ts: timestamp_ms, country: string }
        read(json, path = "landing/", schema = Event)
            .with_watermark(ts, "2 minutes")
            .group_by(window(ts, "1 minute"), country)
            .agg(count() as n)
            .group_by(window_start, window_end)
            .agg(max(n) as most)
            .write(console)
            .output_mode(update)
    };
}
