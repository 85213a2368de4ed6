// `late_rows` checks a sink's options as `write` does: a file sink without its `path`,
// and a memory sink with an option it does not take.
use stream_core::stream;

fn main() {
    let _ = stream! {
        schema Event { ts: timestamp_ms, page: string }
        read(json, path = "landing/", schema = Event)
            .with_watermark(ts, "10 minutes")
            .group_by(window(ts, "1 minute"), page)
            .agg(count() as views)
            .write(console)
            .late_rows(json, max_rows_per_file = 10)
    };
    let _ = stream! {
        schema Event { ts: timestamp_ms, page: string }
        read(json, path = "landing/", schema = Event)
            .with_watermark(ts, "10 minutes")
            .drop_duplicates(page, ts)
            .write(console)
            .late_rows(memory, name = "late", path = "late/")
    };
}
