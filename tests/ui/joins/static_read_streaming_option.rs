// A static table is read once: the file source's streaming options do not apply to it.
use stream_core::stream;

fn main() {
    let _query = stream! {
        schema Order { user: string, country: string }
        schema Region { country: string, region: string }
        read(json, path = "landing/", schema = Order)
            .join(read(parquet, path = "regions/", schema = Region, max_files_per_trigger = 1), on = country)
            .write(console)
    };
}
