// A whole-number option out of its range: the error names the range the option takes
// (from 1 for a per-trigger limit, from 0 for a row count).
use stream_core::stream;

fn main() {
    let _negative_limit = stream! {
        schema Order { user: string, amount: f64 }
        read(json, path = "landing/", schema = Order, max_files_per_trigger = -1)
            .write(console)
    };
    let _too_large = stream! {
        schema Order { user: string, amount: f64 }
        read(json, path = "landing/", schema = Order, max_files_per_trigger = 99999999999999999999)
            .write(console)
    };
    let _negative_rows = stream! {
        schema Order { user: string, amount: f64 }
        read(json, path = "landing/", schema = Order)
            .write(console, num_rows = -5)
    };
}
