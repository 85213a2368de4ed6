// On an error the macro still expands to a query builder, so the code around it
// type-checks: the only error shown is the macro's own.
use stream_core::stream;

fn main() {
    let query = stream! {
        schema Order { user: string, amount: f64 }
        read(json, path = "landing/", schema = Order)
            .filter(amount > "ten")
            .write(console)
    };
    let _handle: stream_core::Result<stream_core::StreamingQuery> = query.start();
}
