// The gap must read as a number above 0 and a unit.
use stream_core::stream;

fn main() {
    let _query = stream! {
        schema Event { ts: timestamp_ms, user: string }
        read(json, path = "landing/", schema = Event)
            .with_watermark(ts, "10 minutes")
            .group_by(session_window(ts, "5 minuets"), user)
            .agg(count() as n)
            .write(console)
    };
}
