// An aggregation of a windowed aggregation groups by its window (`window_end` carries the event time on).
use stream_core::stream;

fn main() {
    let _query = stream! {
        schema Event { ts: timestamp_ms, country: string }
        read(json, path = "landing/", schema = Event)
            .with_watermark(ts, "2 minutes")
            .group_by(window(ts, "1 minute"), country)
            .agg(count() as n)
            .group_by(country)
            .agg(sum(n) as total)
            .write(console)
            .output_mode(update)
    };
}
