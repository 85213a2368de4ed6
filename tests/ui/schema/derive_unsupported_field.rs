// Every field type the derive cannot map is an error on that type, with help; the block
// that names the struct adds no errors of its own.
#[derive(stream_core::Schema)]
struct Event {
    user: String,
    tags: Vec<String>,
    count: u32,
    name: &'static str,
    amount: Option<Option<f64>>,
    at: std::time::SystemTime,
}

fn main() {
    let _query = stream_core::stream! {
        schema Event = Event;
        read(json, path = "landing/", schema = Event)
            .filter(count > 1)
            .write(console)
    };
}
