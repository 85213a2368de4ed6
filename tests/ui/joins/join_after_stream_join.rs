// A join with a static table comes before a join of two streams, not after it.
use stream_core::{StaticTable, stream};

fn main() {
    let regions = StaticTable::default();
    let _query = stream! {
        schema Impression { ad: i64, shown_at: timestamp_ms, country: string }
        schema Click { ad: i64, clicked_at: timestamp_ms }
        schema Region { country: string, region: string }
        let clicks = read(json, path = "clicks/", schema = Click).with_watermark(clicked_at, "10 seconds");
        read(json, path = "impressions/", schema = Impression)
            .with_watermark(shown_at, "10 seconds")
            .join(clicks, on = ad, within = "1 hour")
            .join({regions}, schema = Region, on = country)
            .write(console)
    };
}
