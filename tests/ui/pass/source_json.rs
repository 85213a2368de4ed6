// Source `json` with every option.
use stream_core::stream;

fn main() {
    let _query: stream_core::QueryBuilder<_> = stream! {
        schema Order { user: string, amount: Option<f64> }
        read(json, path = "landing/", schema = Order, max_files_per_trigger = 2)
            .write(console)
    };
}
