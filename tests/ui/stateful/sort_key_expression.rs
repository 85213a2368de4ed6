// A sort key is a column: a computed key is made a column first.
use stream_core::stream;

fn main() {
    let _query = stream! {
        schema Order { user: string, amount: f64 }
        read(json, path = "landing/", schema = Order)
            .group_by(user)
            .agg(sum(amount) as total)
            .order_by(total * 2.0)
            .write(console)
            .output_mode(complete)
    };
}
