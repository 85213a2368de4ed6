// Source `rate` with its columns `timestamp` and `value`.
use stream_core::stream;

fn main() {
    let _query: stream_core::QueryBuilder<_> = stream! {
        read(rate, rows_per_second = 10, num_partitions = 2)
            .filter(value % 2 == 0)
            .write(console)
    };
}
