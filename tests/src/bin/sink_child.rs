//! A query process for the file sink's SIGKILL test: streams a landing folder of event
//! files into a file sink (Parquet, partitioned by country).
//!
//! Usage: `sink_child <landing> <checkpoint> <out> <continuous|available_now> file`

use stream_core::FileSink;

fn main() {
    tests::sigkill::child_main("sink_child", "file", |out| {
        FileSink::new(out)
            .partition_by(["country"])
            .compact_interval(5)
    });
}
