// `schema X = file(..)` reads Spark's schema JSON when the crate compiles; a path that
// does not lead to a file is an error on the path, and the block adds no errors of its own.
use stream_core::stream;

fn main() {
    let _query = stream! {
        schema Event = file("schemas/no_such_schema.json");
        read(json, path = "landing/", schema = Event)
            .filter(amount > 10.0)
            .write(console)
    };
}
