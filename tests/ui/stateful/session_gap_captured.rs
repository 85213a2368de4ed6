// A session gap decides the sessions and is part of the plan fingerprint: it cannot be
// captured.
use stream_core::stream;

fn main() {
    let gap = "5 minutes";
    let _query = stream! {
        schema Event { ts: timestamp_ms, user: string }
        read(json, path = "landing/", schema = Event)
            .with_watermark(ts, "1 minute")
            .group_by(session_window(ts, {gap}), user)
            .agg(count() as n)
            .write(console)
    };
}
