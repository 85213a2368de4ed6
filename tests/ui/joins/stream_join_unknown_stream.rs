// The other side of a join is a stream of the block (a static table is a { .. } block).
use stream_core::stream;

fn main() {
    let _query = stream! {
        schema Impression { ad: i64, shown_at: timestamp_ms, shown: string }
        schema Click { ad: i64, clicked_at: timestamp_ms, clicked: string }
        read(json, path = "impressions/", schema = Impression)
            .join(clickz, on = ad)
            .write(console)
    };
}
