// The key must be a column of the schema the table is read with.
use stream_core::stream;

fn main() {
    let _query = stream! {
        schema Order { user: string, country: string }
        schema Region { code: string, region: string }
        read(json, path = "landing/", schema = Order)
            .join(read(csv, path = "regions.csv", schema = Region, header = true), on = country)
            .write(console)
    };
}
