// Spark's `col("total").desc()`: the DSL writes the direction as a function.
use stream_core::stream;

fn main() {
    let _query = stream! {
        schema Order { user: string, amount: f64 }
        read(json, path = "landing/", schema = Order)
            .group_by(user)
            .agg(sum(amount) as total)
            .order_by(total.desc())
            .write(console)
            .output_mode(complete)
    };
}
