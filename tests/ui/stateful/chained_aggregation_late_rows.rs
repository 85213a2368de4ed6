// A late-rows sink takes one stateful operator's late rows: not two aggregations' yet.
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
            .late_rows(console)
    };
}
