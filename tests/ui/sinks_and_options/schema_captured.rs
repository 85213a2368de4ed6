// A source's schema gives the columns the block is checked against: it cannot be
// captured.
use stream_core::stream;

fn main() {
    let schema = "Order";
    let _query = stream! {
        schema Order { user: string, amount: f64 }
        read(json, path = "landing/", schema = {schema})
            .write(console)
    };
}
