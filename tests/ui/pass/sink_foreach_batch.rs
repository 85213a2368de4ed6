// Sink `foreach_batch` with a captured closure.
use stream_core::stream;

fn main() {
    let _query: stream_core::QueryBuilder<_> = stream! {
        schema Order { user: string, amount: f64 }
        read(json, path = "landing/", schema = Order)
            .write(foreach_batch, f = {|batch_id: u64, batches: &[stream_core::__private::arrow_array::RecordBatch]| {
                println!("batch {batch_id}: {}", batches.len());
                Ok::<(), String>(())
            }})
    };
}
