// In update mode a batch writes only the groups that changed: Spark refuses to sort them.
use stream_core::stream;

fn main() {
    let _query = stream! {
        schema Order { user: string, amount: f64 }
        read(json, path = "landing/", schema = Order)
            .group_by(user)
            .agg(sum(amount) as total)
            .order_by(desc(total))
            .write(console)
            .output_mode(update)
    };
}
