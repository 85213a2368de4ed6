// The key of a join must be a column of the stream and of the table.
use stream_core::{StaticTable, stream};

fn main() {
    let regions = StaticTable::default();
    let _query = stream! {
        schema Order { user: string, country: string }
        schema Region { code: string, region: string }
        read(json, path = "landing/", schema = Order)
            .join({regions}, schema = Region, on = country)
            .write(console)
    };
}
