// The file sinks append only: a committed file is never rewritten.
use stream_core::stream;

fn main() {
    let _query = stream! {
        schema Order { ts: timestamp_ms, country: string, amount: f64 }
        read(json, path = "landing/", schema = Order)
            .with_watermark(ts, "10 minutes")
            .group_by(window(ts, "1 minute"), country)
            .agg(sum(amount) as total)
            .write(parquet, path = "out/totals")
            .checkpoint("checkpoints/q")
            .output_mode(update)
    };
}
