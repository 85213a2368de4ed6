//! A query process for the Delta sink's SIGKILL test: streams a landing folder of event
//! files into a Delta table partitioned by country.
//!
//! Usage: `delta_child <landing> <checkpoint> <out> <continuous|available_now> delta`

use stream_core::DeltaSink;

fn main() {
    tests::sigkill::child_main("delta_child", "delta", |out| {
        DeltaSink::new(out).partition_by(["country"])
    });
}
