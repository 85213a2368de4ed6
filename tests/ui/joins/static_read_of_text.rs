// A static table is read from json, csv or parquet files.
use stream_core::stream;

fn main() {
    let _query = stream! {
        schema Order { user: string, country: string }
        read(json, path = "landing/", schema = Order)
            .join(read(text, path = "regions/"), on = country)
            .write(console)
    };
}
