// An unknown aggregate gets a did-you-mean; one Spark has and this version does not says so.
use stream_core::stream;

fn main() {
    let _query = stream! {
        schema Event { ts: timestamp_ms, country: string, amount: f64 }
        read(json, path = "landing/", schema = Event)
            .group_by(country)
            .agg(summ(amount) as total, stddev(amount) as spread)
            .write(console)
            .output_mode(update)
    };
}
