// A table column with the name of a stream column would give the output two of them.
use stream_core::{StaticTable, stream};

fn main() {
    let regions = StaticTable::default();
    let _query = stream! {
        schema Order { user: string, country: string, region: string }
        schema Region { country: string, region: string }
        read(json, path = "landing/", schema = Order)
            .join({regions}, schema = Region, on = country)
            .write(console)
    };
}
