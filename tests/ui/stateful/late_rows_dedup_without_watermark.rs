// `late_rows` after a `drop_duplicates` without a watermark: it never drops a row as late.
use stream_core::stream;

fn main() {
    let _ = stream! {
        schema Event { ts: timestamp_ms, user: string }
        read(json, path = "landing/", schema = Event)
            .drop_duplicates(user)
            .write(console)
            .late_rows(memory, name = "late")
    };
}
