// `group_by` is followed by `agg`.
use stream_core::stream;

fn main() {
    let _query = stream! {
        schema Event { ts: timestamp_ms, country: string }
        read(json, path = "landing/", schema = Event)
            .group_by(country)
            .select(country)
            .write(console)
            .output_mode(update)
    };
}
