// `collect_list` collects one expression: a second argument is an error on the name.
use stream_core::stream;

fn main() {
    let _query = stream! {
        schema Event { ts: timestamp_ms, user: string, tag: Option<string>, score: i64 }
        read(json, path = "landing/", schema = Event)
            .group_by(user)
            .agg(collect_list(lower(tag), score) as tags)
            .write(console)
            .output_mode(complete)
    };
}
