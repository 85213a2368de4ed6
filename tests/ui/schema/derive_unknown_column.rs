// An unknown column of a derived schema: the error is on the DSL token, with the
// struct's fields as suggestions.
mod model {
    #[derive(stream_core::Schema)]
    pub struct Event {
        pub user: String,
        pub amount: Option<f64>,
    }
}

fn main() {
    let _query = stream_core::stream! {
        schema Event = crate::model::Event;
        read(json, path = "landing/", schema = Event)
            .filter(amout > 50.0)
            .write(console)
    };
}
