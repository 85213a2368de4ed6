// A schema path names a struct, without generic arguments.
fn main() {
    let _query = stream_core::stream! {
        schema Event = crate::model::Event<String>;
        read(json, path = "landing/", schema = Event)
            .write(console)
    };
}
