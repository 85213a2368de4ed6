// Sinks `parquet`, `json`, `csv` with their options (append mode, the only one they take).
use stream_core::stream;

fn main() {
    let dir = std::path::PathBuf::from("out");
    let _parquet: stream_core::QueryBuilder<_> = stream! {
        schema Order { user: string, amount: f64, country: string }
        read(json, path = "landing/", schema = Order)
            .write(
                parquet,
                path = "out/orders",
                partition_by = [country],
                compression = zstd,
                max_rows_per_file = 100000,
                target_file_size = 134217728,
                compact_interval = 10,
                retention = "7 days",
            )
            .checkpoint("checkpoints/q")
    };
    let _json: stream_core::QueryBuilder<_> = stream! {
        schema Order { user: string, amount: f64, country: string }
        read(json, path = "landing/", schema = Order)
            .write(json, path = {dir.join("json")}, partition_by = country)
            .checkpoint("checkpoints/q")
            .output_mode(append)
    };
    let _csv: stream_core::QueryBuilder<_> = stream! {
        schema Order { user: string, amount: f64, country: string }
        read(json, path = "landing/", schema = Order)
            .write(csv, path = "out/csv")
            .checkpoint("checkpoints/q")
    };
}
