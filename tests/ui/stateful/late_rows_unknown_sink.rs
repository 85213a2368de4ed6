// `late_rows` takes the sinks `write` takes: an unknown kind is an error on it, with a
// suggestion.
use stream_core::stream;

fn main() {
    let _ = stream! {
        schema Event { ts: timestamp_ms, page: string }
        read(json, path = "landing/", schema = Event)
            .with_watermark(ts, "10 minutes")
            .group_by(window(ts, "1 minute"), page)
            .agg(count() as views)
            .write(console)
            .late_rows(parquett, path = "late/")
    };
}
