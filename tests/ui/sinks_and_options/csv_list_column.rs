// CSV has no lists: a `collect_list` column cannot be written as csv.
use stream_core::stream;

fn main() {
    let _query = stream! {
        schema Event { ts: timestamp_ms, user: string, tag: Option<string> }
        read(json, path = "landing/", schema = Event)
            .with_watermark(ts, "1 minute")
            .group_by(window(ts, "5 minutes"), user)
            .agg(collect_list(tag) as tags)
            .write(csv, path = "out/tags")
            .checkpoint("checkpoints/q")
            .output_mode(append)
    };
}
