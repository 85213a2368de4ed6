// Keys are compared as they are: both sides must have the same type.
use stream_core::stream;

fn main() {
    let _query = stream! {
        schema Impression { ad: i64, shown_at: timestamp_ms, shown: string }
        schema Click { ad: i64, clicked_at: timestamp_ms, clicked: string }
        let clicks = read(json, path = "clicks/", schema = Click)
            .with_watermark(clicked_at, "10 seconds")
            .with_column(ad, cast(ad as string));
        read(json, path = "impressions/", schema = Impression)
            .with_watermark(shown_at, "10 seconds")
            .join(clicks, on = ad, within = "1 hour")
            .write(console)
    };
}
