// A union widens a column's type only as Spark does (numbers to the wider number,
// timestamps to microseconds); a string and a number stay two types.
use stream_core::stream;

fn main() {
    let _query = stream! {
        schema Order { id: i64, amount: f64 }
        schema Legacy { id: string, amount: Option<f32> }
        let legacy = read(json, path = "legacy/", schema = Legacy);
        read(json, path = "orders/", schema = Order)
            .union(legacy)
            .write(console)
    };
}
