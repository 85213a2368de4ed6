// On an error the macro still expands to a query builder, so the code around it
// type-checks: the only error shown is the macro's own.
use stream_core::stream;

fn main() {
    let query = stream! {
        schema Order { user: string, amount: f64 }
        read(json, path = "landing/", schema = Order)
            .filter(amount > "ten")
            .write(memory, name = "orders")
    };
    let handle: stream_core::Result<stream_core::TypedQuery<_>> = query.start();
    let _rows = handle.and_then(|q| q.rows());
}
