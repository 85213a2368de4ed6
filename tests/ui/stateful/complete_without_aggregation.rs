// Complete mode writes the whole result table every batch: it needs an aggregation.
use stream_core::stream;

fn main() {
    let _query = stream! {
        schema Event { ts: timestamp_ms, country: string }
        read(json, path = "landing/", schema = Event)
            .filter(country == "DE")
            .write(console)
            .output_mode(complete)
    };
}
