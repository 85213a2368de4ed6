// `file(..)` takes the path as a string literal.
use stream_core::stream;

fn main() {
    let _query = stream! {
        schema Event = file(schemas/event);
        read(json, path = "landing/", schema = Event)
            .write(console)
    };
}
