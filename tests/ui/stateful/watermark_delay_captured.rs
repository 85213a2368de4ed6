// The watermark delay is part of the plan fingerprint: it cannot be captured.
use stream_core::stream;

fn main() {
    let delay = "10 minutes";
    let _query = stream! {
        schema Event { ts: timestamp_ms, country: string }
        read(json, path = "landing/", schema = Event)
            .with_watermark(ts, {delay})
            .write(console)
    };
}
