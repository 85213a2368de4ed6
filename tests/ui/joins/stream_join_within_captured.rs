// The time bound of a join of two streams is part of the plan fingerprint: it cannot be
// captured.
use stream_core::stream;

fn main() {
    let bound = "1 hour";
    let _query = stream! {
        schema Impression { ad: i64, shown_at: timestamp_ms, shown: string }
        schema Click { ad: i64, clicked_at: timestamp_ms, clicked: string }
        let clicks = read(json, path = "clicks/", schema = Click).with_watermark(clicked_at, "10 seconds");
        read(json, path = "impressions/", schema = Impression)
            .with_watermark(shown_at, "10 seconds")
            .join(clicks, on = ad, within = {bound})
            .write(console)
    };
}
