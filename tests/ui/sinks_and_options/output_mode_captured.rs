// The output mode cannot be chosen at run time: the block's checks depend on it.
use stream_core::stream;

fn main() {
    let mode = "update";
    let _query = stream! {
        schema Order { user: string, amount: f64 }
        read(json, path = "landing/", schema = Order)
            .write(console)
            .output_mode({mode})
    };
}
