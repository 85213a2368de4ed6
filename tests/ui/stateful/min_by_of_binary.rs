// `min_by` orders its rows by the second argument: a binary column has no order.
use stream_core::stream;

fn main() {
    let _query = stream! {
        schema Event { ts: timestamp_ms, user: string, payload: binary }
        read(json, path = "landing/", schema = Event)
            .group_by(user)
            .agg(min_by(ts, payload) as first_seen)
            .write(console)
            .output_mode(complete)
    };
}
