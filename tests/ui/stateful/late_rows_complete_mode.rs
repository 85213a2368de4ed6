// `late_rows` with a windowed aggregation in complete mode: complete mode keeps every
// row (as Spark does), so there are no late rows to write.
use stream_core::stream;

fn main() {
    let _ = stream! {
        schema Event { ts: timestamp_ms, page: string }
        read(json, path = "landing/", schema = Event)
            .with_watermark(ts, "10 minutes")
            .group_by(window(ts, "1 minute"), page)
            .agg(count() as views)
            .write(console)
            .output_mode(complete)
            .late_rows(memory, name = "late")
    };
}
