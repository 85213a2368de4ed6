// An aggregation without a watermark in update mode is accepted, as Spark accepts it, but
// its state can only grow: a warning says so (an error here, with `deny`).
#![deny(deprecated)]
use stream_core::stream;

fn main() {
    let _query = stream! {
        schema Event { ts: timestamp_ms, country: string }
        read(json, path = "landing/", schema = Event)
            .group_by(country)
            .agg(count() as n)
            .write(console)
            .output_mode(update)
    };
}
