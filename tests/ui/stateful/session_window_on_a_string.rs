// A session window needs a timestamp column.
use stream_core::stream;

fn main() {
    let _query = stream! {
        schema Event { ts: string, user: string }
        read(json, path = "landing/", schema = Event)
            .group_by(session_window(ts, "5 minutes"), user)
            .agg(count() as n)
            .write(console)
            .output_mode(complete)
    };
}
