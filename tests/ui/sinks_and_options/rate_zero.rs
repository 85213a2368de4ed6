// Spark's rate source needs at least one row per second and one partition.
use stream_core::stream;

fn main() {
    let _query = stream! {
        read(rate, rows_per_second = 0, num_partitions = 0)
            .write(console)
    };
}
