// A union of the same columns in another order: one error on `union`, whose help puts the
// other stream's columns in this side's order (a union is by position, as Spark's
// `union`), and no follow-on error from rustc where the rows are read.
use stream_core::stream;

fn main() {
    let query = stream! {
        schema Order { user: string, amount: f64 }
        schema Refund { amount: f64, user: string }
        let refunds = read(json, path = "refunds/", schema = Refund);
        read(json, path = "orders/", schema = Order)
            .union(refunds)
            .write(memory, name = "all")
    };
    let handle = query.start().unwrap();
    let _rows = handle.rows();
}
