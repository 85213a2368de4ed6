// A list column (from `collect_set`) cannot take part in arithmetic.
use stream_core::stream;

fn main() {
    let _query = stream! {
        schema Event { ts: timestamp_ms, user: string, score: Option<i64> }
        read(json, path = "landing/", schema = Event)
            .group_by(user)
            .agg(collect_set(score) as scores, count() as n)
            .with_column(bumped, scores + 1)
            .write(console)
            .output_mode(complete)
    };
}
