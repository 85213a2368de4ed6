// A join comes before a stateful operator, not after it.
use stream_core::{StaticTable, stream};

fn main() {
    let regions = StaticTable::default();
    let _query = stream! {
        schema Order { user: string, country: string }
        schema Region { country: string, region: string }
        read(json, path = "landing/", schema = Order)
            .group_by(country)
            .agg(count() as n)
            .join({regions}, schema = Region, on = country)
            .write(console)
            .output_mode(complete)
    };
}
