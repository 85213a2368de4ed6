// Typing against a derived schema: `user` is a `String` field, so a `string` column.
#[derive(stream_core::Schema)]
struct Event {
    user: String,
    qty: i64,
}

fn main() {
    let _query = stream_core::stream! {
        schema Event = Event;
        read(json, path = "landing/", schema = Event)
            .filter(user > qty)
            .write(console)
    };
}
