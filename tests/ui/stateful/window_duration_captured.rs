// A window's size decides its groups and is part of the plan fingerprint: it cannot be
// captured.
use stream_core::stream;

fn main() {
    let size = "1 minute";
    let _query = stream! {
        schema Event { ts: timestamp_ms, country: string }
        read(json, path = "landing/", schema = Event)
            .with_watermark(ts, "1 minute")
            .group_by(window(ts, {size}), country)
            .agg(count() as n)
            .write(console)
    };
}
