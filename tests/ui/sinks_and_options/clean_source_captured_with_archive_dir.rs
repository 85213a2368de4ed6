// A captured `clean_source` is a whole `CleanSource`, which carries its own archive folder.
use stream_core::{CleanSource, stream};

fn main() {
    let clean = CleanSource::Delete;
    let _query = stream! {
        schema Order { user: string, amount: f64 }
        read(json, path = "landing/", schema = Order, clean_source = {clean},
             source_archive_dir = "archive/")
            .write(console)
    };
}
