// `assign` is Spark's JSON object of topics to partition lists, checked when the crate
// compiles.
use stream_core::stream;

fn main() {
    let _query = stream! {
        read(kafka, bootstrap_servers = "127.0.0.1:9092", assign = r#"{"orders":0}"#)
            .write(console)
    };
}
