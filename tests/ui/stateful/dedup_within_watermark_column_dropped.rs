// The watermarked column dropped before `drop_duplicates_within_watermark`: the
// watermark goes with it, and the error says so (Spark: "Watermark is required").
use stream_core::stream;

fn main() {
    let _dropped = stream! {
        schema Event { ts: timestamp_ms, user: string, id: i64 }
        read(json, path = "landing/", schema = Event)
            .with_watermark(ts, "10 minutes")
            .drop(ts)
            .drop_duplicates_within_watermark(id)
            .write(console)
    };
    let _not_selected = stream! {
        schema Event { ts: timestamp_ms, user: string, id: i64 }
        read(json, path = "landing/", schema = Event)
            .with_watermark(ts, "10 minutes")
            .select(user, id)
            .drop_duplicates_within_watermark(id)
            .write(console)
    };
}
