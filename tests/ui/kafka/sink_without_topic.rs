// Every record needs a topic: the `topic` option, or a `topic` column.
use stream_core::stream;

fn main() {
    let _query = stream! {
        schema Order { user: string, amount: f64 }
        read(json, path = "landing/", schema = Order)
            .select(user as key, amount as string as value)
            .write(kafka, bootstrap_servers = "127.0.0.1:9092")
            .checkpoint("checkpoints/q")
    };
}
