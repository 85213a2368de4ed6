// `late_rows` is a setting of the query: it follows `write`.
use stream_core::stream;

fn main() {
    let _ = stream! {
        schema Event { ts: timestamp_ms, page: string }
        read(json, path = "landing/", schema = Event)
            .with_watermark(ts, "10 minutes")
            .group_by(window(ts, "1 minute"), page)
            .agg(count() as views)
            .late_rows(memory, name = "late")
            .write(console)
    };
}
