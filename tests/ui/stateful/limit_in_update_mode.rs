// Spark refuses a limit in update mode.
use stream_core::stream;

fn main() {
    let _query = stream! {
        schema Order { user: string, amount: f64 }
        read(json, path = "landing/", schema = Order)
            .group_by(user)
            .agg(sum(amount) as total)
            .limit(10)
            .write(console)
            .output_mode(update)
    };
}
