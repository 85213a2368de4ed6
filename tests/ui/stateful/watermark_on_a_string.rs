// A watermark needs a timestamp column.
use stream_core::stream;

fn main() {
    let _query = stream! {
        schema Event { ts: string, country: string }
        read(json, path = "landing/", schema = Event)
            .with_watermark(ts, "10 minutes")
            .write(console)
    };
}
