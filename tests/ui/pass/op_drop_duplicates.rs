// `drop_duplicates` with a watermark on a key column, and within the watermark.
use stream_core::stream;

fn main() {
    let _dedup: stream_core::QueryBuilder<_> = stream! {
        schema Event { ts: timestamp_ms, user: string, page: string }
        read(json, path = "landing/", schema = Event)
            .with_watermark(ts, "2 minutes")
            .drop_duplicates(user, ts)
            .select(user, page)
            .write(console)
    };
    let _within: stream_core::QueryBuilder<_> = stream! {
        schema Event { ts: timestamp_ms, user: string, page: string }
        read(json, path = "landing/", schema = Event)
            .with_watermark(ts, "2 minutes")
            .drop_duplicates_within_watermark(user)
            .write(console)
    };
}
