// `value_json` decides which columns make a record: it cannot be captured.
use stream_core::stream;

fn main() {
    let json = true;
    let _query = stream! {
        schema Order { user: string, amount: f64 }
        read(json, path = "landing/", schema = Order)
            .write(kafka, bootstrap_servers = "127.0.0.1:9092", topic = "out",
                   value_json = {json})
            .checkpoint("checkpoints/q")
    };
}
