// The help lines of `ui/syntax/spark_and_sql_habits.rs`, applied as written, compile.
use stream_core::stream;

fn main() {
    let _where = stream! {
        schema Order { user: string, amount: f64 }
        read(json, path = "landing/", schema = Order)
            .filter(amount > 10.0)
            .write(console)
    };
    let _and = stream! {
        schema Order { user: string, amount: f64 }
        read(json, path = "landing/", schema = Order)
            .filter(amount > 10.0 && user != "bot" || amount > 100.0)
            .write(console)
    };
    let _equals = stream! {
        schema Order { user: string, amount: f64 }
        read(json, path = "landing/", schema = Order)
            .filter(user == "alice")
            .write(console)
    };
    let _count_star = stream! {
        schema Order { ts: timestamp_ms, user: string, amount: f64 }
        read(json, path = "landing/", schema = Order)
            .with_watermark(ts, "10 minutes")
            .group_by(window(ts, "1 minute"), user)
            .agg(count() as n)
            .write(console)
    };
    let _col = stream! {
        schema Order { user: string, amount: f64 }
        read(json, path = "landing/", schema = Order)
            .filter(amount > 10.0)
            .write(console)
    };
    let _alias = stream! {
        schema Order { user: string, amount: f64 }
        read(json, path = "landing/", schema = Order)
            .select(user, (amount * 2.0) as doubled)
            .write(console)
    };
}
