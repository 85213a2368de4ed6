// The key columns of a join have one type on both sides.
use stream_core::{StaticTable, stream};

fn main() {
    let regions = StaticTable::default();
    let _query = stream! {
        schema Order { user: string, country: i64 }
        schema Region { country: string, region: string }
        read(json, path = "landing/", schema = Order)
            .join({regions}, schema = Region, on = country)
            .write(console)
    };
}
