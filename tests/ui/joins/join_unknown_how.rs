// A stream–static join is inner or left outer.
use stream_core::{StaticTable, stream};

fn main() {
    let regions = StaticTable::default();
    let _query = stream! {
        schema Order { user: string, country: string }
        schema Region { country: string, region: string }
        read(json, path = "landing/", schema = Order)
            .join({regions}, schema = Region, on = country, how = full)
            .write(console)
    };
}
