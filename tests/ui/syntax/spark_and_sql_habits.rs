// What a Spark or SQL user writes first, and what a `stream!` block writes instead: each
// error is on the habit, and its help line is the call rewritten, which compiles.
use stream_core::stream;

fn main() {
    // `where` is a Rust keyword
    let _where = stream! {
        schema Order { user: string, amount: f64 }
        read(json, path = "landing/", schema = Order)
            .where(amount > 10.0)
            .write(console)
    };
    let _and = stream! {
        schema Order { user: string, amount: f64 }
        read(json, path = "landing/", schema = Order)
            .filter(amount > 10.0 and user != "bot" or amount > 100.0)
            .write(console)
    };
    let _equals = stream! {
        schema Order { user: string, amount: f64 }
        read(json, path = "landing/", schema = Order)
            .filter(user = "alice")
            .write(console)
    };
    let _count_star = stream! {
        schema Order { ts: timestamp_ms, user: string, amount: f64 }
        read(json, path = "landing/", schema = Order)
            .with_watermark(ts, "10 minutes")
            .group_by(window(ts, "1 minute"), user)
            .agg(count(*) as n)
            .write(console)
    };
    let _col = stream! {
        schema Order { user: string, amount: f64 }
        read(json, path = "landing/", schema = Order)
            .filter(col("amount") > lit(10.0))
            .write(console)
    };
    let _alias = stream! {
        schema Order { user: string, amount: f64 }
        read(json, path = "landing/", schema = Order)
            .select(user, (amount * 2.0).alias("doubled"))
            .write(console)
    };
}
