// A limit before an aggregation is not supported yet.
use stream_core::stream;

fn main() {
    let _query = stream! {
        schema Order { user: string, amount: f64 }
        read(json, path = "landing/", schema = Order)
            .limit(100)
            .group_by(user)
            .agg(sum(amount) as total)
            .write(console)
            .output_mode(complete)
    };
}
