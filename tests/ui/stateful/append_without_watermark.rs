// Append mode writes a group once, when the watermark closes it: without a watermark on
// a grouping key no group is ever closed (the default mode is append).
use stream_core::stream;

fn main() {
    let _query = stream! {
        schema Event { ts: timestamp_ms, country: string }
        read(json, path = "landing/", schema = Event)
            .group_by(window(ts, "1 minute"), country)
            .agg(count() as n)
            .write(console)
    };
}
