// A struct without `#[derive(Schema)]` named as a schema.
mod model {
    pub struct Event {
        pub user: String,
    }
}

fn main() {
    let _query = stream_core::stream! {
        schema Event = crate::model::Event;
        read(json, path = "landing/", schema = Event)
            .write(console)
    };
}
