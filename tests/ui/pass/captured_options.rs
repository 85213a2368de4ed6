// Every source, sink and setting option that takes a capture, given one of the type its
// builder call takes: settings chosen at run time, one block for all of them.
use std::time::Duration;

use stream_core::{CleanSource, ParquetCompression, ParseMode, Trigger, stream};

fn main() {
    let landing = std::path::PathBuf::from("landing");
    let files: usize = 2;
    let bytes: u64 = 1 << 20;
    let newest_first = true;
    let age = Duration::from_secs(3600);
    let clean = CleanSource::Archive { dir: "archive/".into() };
    let by_name = false;
    let mode = ParseMode::DropMalformed;
    let header = true;
    let (delimiter, quote, escape) = (';', '\'', '\\');
    let null = "NA";
    let _csv: stream_core::QueryBuilder<_> = stream! {
        schema Order { user: string, amount: f64, country: string }
        read(csv, path = {landing.join("csv")}, schema = Order, max_files_per_trigger = {files},
             latest_first = {newest_first}, max_file_age = {age}, clean_source = {clean},
             file_name_only = {by_name}, mode = {mode}, header = {header},
             delimiter = {delimiter}, quote = {quote}, escape = {escape}, null_value = {null})
            .write(parquet, path = "out/orders", compression = {ParquetCompression::Zstd},
                   max_rows_per_file = {100_000usize}, target_file_size = {bytes},
                   compact_interval = {10u64}, retention = {Duration::from_secs(86_400)})
            .checkpoint("checkpoints/q")
    };
    let _json: stream_core::QueryBuilder<_> = stream! {
        schema Order { user: string, amount: f64, country: string }
        read(json, path = "landing/", schema = Order, max_bytes_per_trigger = {bytes},
             column_name_of_corrupt_record = {"bad"})
            .write(console, num_rows = {5usize}, truncate = {false})
            .trigger({Trigger::AvailableNow})
    };
    let rows: u64 = 100;
    let partitions: usize = 4;
    let _rate: stream_core::QueryBuilder<_> = stream! {
        read(rate, rows_per_second = {rows}, num_partitions = {partitions})
            .write(json, path = "out/rate", max_rows_per_file = {files})
            .checkpoint("checkpoints/q")
            .trigger(processing_time({Duration::from_secs(1)}))
    };
}
