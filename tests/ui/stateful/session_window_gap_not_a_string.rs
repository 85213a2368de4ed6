// A session gap is an interval string; a gap computed per row (Spark's dynamic gap) is
// not supported.
use stream_core::stream;

fn main() {
    let _query = stream! {
        schema Event { ts: timestamp_ms, user: string }
        read(json, path = "landing/", schema = Event)
            .with_watermark(ts, "10 minutes")
            .group_by(session_window(ts, 300), user)
            .agg(count() as n)
            .write(console)
    };
}
