// A list column (from `collect_list`) cannot be compared: expressions take no lists.
use stream_core::stream;

fn main() {
    let _query = stream! {
        schema Event { ts: timestamp_ms, user: string, tag: Option<string> }
        read(json, path = "landing/", schema = Event)
            .group_by(user)
            .agg(collect_list(tag) as tags)
            .filter(tags == "sale")
            .write(console)
            .output_mode(complete)
    };
}
