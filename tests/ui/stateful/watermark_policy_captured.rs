// The watermark policy cannot be chosen at run time: a checkpoint does not record it.
use stream_core::{WatermarkPolicy, stream};

fn main() {
    let policy = WatermarkPolicy::Max;
    let _query = stream! {
        schema Event { ts: timestamp_ms, country: string }
        read(json, path = "landing/", schema = Event)
            .with_watermark(ts, "1 minute")
            .write(console)
            .watermark_policy({policy})
    };
}
