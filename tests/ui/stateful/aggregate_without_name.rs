// An aggregate's column needs a name.
use stream_core::stream;

fn main() {
    let _query = stream! {
        schema Event { ts: timestamp_ms, country: string, amount: f64 }
        read(json, path = "landing/", schema = Event)
            .group_by(country)
            .agg(sum(amount))
            .write(console)
            .output_mode(update)
    };
}
