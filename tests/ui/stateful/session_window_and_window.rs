// A `group_by` takes one window: a session window and a time window together are
// refused on the second.
use stream_core::stream;

fn main() {
    let _query = stream! {
        schema Event { ts: timestamp_ms, user: string }
        read(json, path = "landing/", schema = Event)
            .with_watermark(ts, "10 minutes")
            .group_by(session_window(ts, "5 minutes"), window(ts, "1 hour"), user)
            .agg(count() as n)
            .write(console)
    };
}
