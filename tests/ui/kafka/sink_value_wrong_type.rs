// A Kafka record's value is bytes: a string or binary column, not a number.
use stream_core::stream;

fn main() {
    let _query = stream! {
        schema Order { user: string, amount: f64 }
        read(json, path = "landing/", schema = Order)
            .select(user as key, amount as value)
            .write(kafka, bootstrap_servers = "127.0.0.1:9092", topic = "orders")
            .checkpoint("checkpoints/q")
    };
}
