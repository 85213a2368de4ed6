// Spark refuses update mode for session windows: a session can still grow and merge
// until the watermark passes its end. The error is on the mode.
use stream_core::stream;

fn main() {
    let _query = stream! {
        schema Event { ts: timestamp_ms, user: string }
        read(json, path = "landing/", schema = Event)
            .with_watermark(ts, "10 minutes")
            .group_by(session_window(ts, "5 minutes"), user)
            .agg(count() as n)
            .write(console)
            .output_mode(update)
    };
}
