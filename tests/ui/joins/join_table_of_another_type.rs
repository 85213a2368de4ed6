// The table of a join is a `StaticTable` (or converts into one): rustc says so on it.
use stream_core::stream;

fn main() {
    let regions = vec![1, 2, 3];
    let _query = stream! {
        schema Order { user: string, country: string }
        schema Region { country: string, region: string }
        read(json, path = "landing/", schema = Order)
            .join({regions}, schema = Region, on = country)
            .write(console)
    };
}
