// `sum` and `avg` take numbers.
use stream_core::stream;

fn main() {
    let _query = stream! {
        schema Event { ts: timestamp_ms, country: string }
        read(json, path = "landing/", schema = Event)
            .group_by(window(ts, "1 minute"))
            .agg(sum(country) as total)
            .write(console)
            .output_mode(update)
    };
}
