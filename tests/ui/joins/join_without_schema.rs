// A join names the schema of its table and its key columns.
use stream_core::{StaticTable, stream};

fn main() {
    let regions = StaticTable::default();
    let _query = stream! {
        schema Order { user: string, country: string }
        read(json, path = "landing/", schema = Order)
            .join({regions}, on = country)
            .write(console)
    };
}
