// A window of months or years: their length varies, and Spark refuses them too.
use stream_core::stream;

fn main() {
    let _query = stream! {
        schema Event { ts: timestamp_ms, user: string }
        read(json, path = "landing/", schema = Event)
            .with_watermark(ts, "10 minutes")
            .group_by(window(ts, "1 month"), user)
            .agg(count() as n)
            .write(console)
    };
}
