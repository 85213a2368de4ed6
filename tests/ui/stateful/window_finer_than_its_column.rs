// A window over a `timestamp_ms` column cannot end between two milliseconds.
use stream_core::stream;

fn main() {
    let _query = stream! {
        schema Event { ts: timestamp_ms, user: string }
        read(json, path = "landing/", schema = Event)
            .with_watermark(ts, "10 minutes")
            .group_by(window(ts, "1500 microseconds"), user)
            .agg(count() as n)
            .write(console)
    };
}
