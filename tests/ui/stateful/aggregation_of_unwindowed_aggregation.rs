// Only a windowed aggregation closed by a watermark can be aggregated again.
use stream_core::stream;

fn main() {
    let _query = stream! {
        schema Event { ts: timestamp_ms, country: string }
        read(json, path = "landing/", schema = Event)
            .group_by(country)
            .agg(count() as n)
            .group_by(n)
            .agg(count() as countries)
            .write(console)
            .output_mode(complete)
    };
}
