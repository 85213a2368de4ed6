// `late_rows` on a pipeline without a stateful operator: nothing is ever dropped as late,
// so the setting is an error on the `late_rows` token.
use stream_core::stream;

fn main() {
    let _ = stream! {
        schema Event { ts: timestamp_ms, user: string }
        read(json, path = "landing/", schema = Event)
            .with_watermark(ts, "10 minutes")
            .filter(user != "bot")
            .write(console)
            .late_rows(memory, name = "late")
    };
}
