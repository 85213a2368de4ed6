// An aggregate function inside a `group_by` key or inside another aggregate's argument:
// the error says why it cannot be there (not that the pipeline is stateless).
use stream_core::stream;

fn main() {
    expression_of_aggregates();
    let _in_a_key = stream! {
        schema Order { ts: timestamp_ms, user: string, amount: f64 }
        read(json, path = "landing/", schema = Order)
            .group_by(user, max(amount))
            .agg(count() as n)
            .write(console)
            .output_mode(update)
    };
    let _nested = stream! {
        schema Order { ts: timestamp_ms, user: string, amount: f64 }
        read(json, path = "landing/", schema = Order)
            .with_watermark(ts, "10 minutes")
            .group_by(window(ts, "1 minute"), user)
            .agg(sum(count()) as n)
            .write(console)
    };
}

// an expression of aggregates (Spark's `agg(sum(x) / count(x))`): not supported yet, and
// the help computes it from the aggregates after `agg` (`ui/pass/help_lines_applied.rs`)
fn expression_of_aggregates() {
    let _mean = stream! {
        schema Order { ts: timestamp_ms, user: string, amount: f64 }
        read(json, path = "landing/", schema = Order)
            .with_watermark(ts, "10 minutes")
            .group_by(window(ts, "1 minute"), user)
            .agg(sum(amount) / count() as mean)
            .write(console)
    };
}
