// The Delta sink appends or overwrites (complete); it does not merge updates.
use stream_core::stream;

fn main() {
    let _query = stream! {
        schema Order { country: string, amount: f64 }
        read(json, path = "landing/", schema = Order)
            .group_by(country)
            .agg(sum(amount) as total)
            .write(delta, path = "tables/totals")
            .checkpoint("checkpoints/q")
            .output_mode(update)
    };
}
