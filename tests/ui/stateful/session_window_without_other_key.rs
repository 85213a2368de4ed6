// Spark refuses a streaming session window without another grouping key ("global
// aggregation with session window"): sessions are per user, device, ...
use stream_core::stream;

fn main() {
    let _query = stream! {
        schema Event { ts: timestamp_ms, user: string }
        read(json, path = "landing/", schema = Event)
            .with_watermark(ts, "10 minutes")
            .group_by(session_window(ts, "5 minutes"))
            .agg(count() as n)
            .write(console)
    };
}
