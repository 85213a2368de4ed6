// The path must lead to the module the struct is declared in; a `use` of the struct
// alone does not bring its callback macro along.
mod model {
    #[derive(stream_core::Schema)]
    pub struct Event {
        pub user: String,
    }
}

mod jobs {
    use crate::model::Event;

    pub fn job() -> stream_core::QueryBuilder<impl stream_core::OutputRow> {
        let _ = std::mem::size_of::<Event>();
        stream_core::stream! {
            schema Event = crate::jobs::Event;
            read(json, path = "landing/", schema = Event)
                .write(console)
        }
    }
}

fn main() {
    let _ = jobs::job();
}
