// The interval of `processing_time` is read when the macro expands.
use stream_core::stream;

fn main() {
    let _query = stream! {
        schema Order { user: string, amount: f64 }
        read(json, path = "landing/", schema = Order)
            .write(console)
            .trigger(processing_time("ten seconds"))
    };
}
