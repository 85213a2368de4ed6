// Option values that can never work: an empty path, memory-sink name, Delta app id or
// checkpoint folder is an error on the value (a captured value is checked when the query
// starts).
use stream_core::stream;

fn main() {
    let _empty_source_path = stream! {
        schema Order { user: string, amount: f64 }
        read(json, path = "", schema = Order)
            .write(console)
    };
    let _empty_sink_path = stream! {
        schema Order { user: string, amount: f64 }
        read(json, path = "landing/", schema = Order)
            .write(parquet, path = "  ")
            .checkpoint("checkpoints/orders")
    };
    let _empty_memory_name = stream! {
        schema Order { user: string, amount: f64 }
        read(json, path = "landing/", schema = Order)
            .write(memory, name = "")
    };
    let _empty_checkpoint = stream! {
        schema Order { user: string, amount: f64 }
        read(json, path = "landing/", schema = Order)
            .write(console)
            .checkpoint("")
    };
}
