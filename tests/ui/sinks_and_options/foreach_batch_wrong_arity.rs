// A `foreach_batch` closure that takes one argument instead of two (the batch id and the
// batch): the error is on the closure, not on the whole block.
use stream_core::stream;

fn main() {
    let _query = stream! {
        schema Order { user: string, amount: f64 }
        read(json, path = "landing/", schema = Order)
            .write(foreach_batch, f = {|batches: &[stream_core::__private::arrow_array::RecordBatch]| {
                println!("{}", batches.len());
                Ok::<(), String>(())
            }})
    };
}
