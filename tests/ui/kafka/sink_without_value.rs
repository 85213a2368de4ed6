// A Kafka record's value comes from the `value` column.
use stream_core::stream;

fn main() {
    let _query = stream! {
        schema Order { user: string, amount: f64 }
        read(json, path = "landing/", schema = Order)
            .select(user as key, amount)
            .write(kafka, bootstrap_servers = "127.0.0.1:9092", topic = "orders")
            .checkpoint("checkpoints/q")
    };
}
