// Trigger `processing_time` with a captured `Duration`.
use std::time::Duration;

use stream_core::stream;

fn main() {
    let every = Duration::from_millis(250);
    let _query: stream_core::QueryBuilder<_> = stream! {
        schema Order { user: string, amount: f64 }
        read(json, path = "landing/", schema = Order)
            .write(console)
            .trigger(processing_time({every}))
    };
}
