// The schema of a table read in `join` is the `schema` of its `read`.
use stream_core::stream;

fn main() {
    let _query = stream! {
        schema Order { user: string, country: string }
        schema Region { country: string, region: string }
        read(json, path = "landing/", schema = Order)
            .join(read(parquet, path = "regions/", schema = Region), schema = Region, on = country)
            .write(console)
    };
}
