// Complete mode rewrites the whole table every batch, which a file sink cannot do.
use stream_core::stream;

fn main() {
    let _query = stream! {
        schema Order { country: string, amount: f64 }
        read(json, path = "landing/", schema = Order)
            .group_by(country)
            .agg(sum(amount) as total)
            .write(csv, path = "out/totals")
            .checkpoint("checkpoints/q")
            .output_mode(complete)
    };
}
