// A negative delay, window, gap, bound or trigger interval: the error says it is
// negative (rather than that it cannot be read).
use stream_core::stream;

fn main() {
    let _delay = stream! {
        schema Event { ts: timestamp_ms, user: string }
        read(json, path = "landing/", schema = Event)
            .with_watermark(ts, "-10 minutes")
            .group_by(window(ts, "1 minute"), user)
            .agg(count() as n)
            .write(console)
    };
    let _window = stream! {
        schema Event { ts: timestamp_ms, user: string }
        read(json, path = "landing/", schema = Event)
            .with_watermark(ts, "10 minutes")
            .group_by(window(ts, "-1 minute"), user)
            .agg(count() as n)
            .write(console)
    };
    let _trigger = stream! {
        schema Event { ts: timestamp_ms, user: string }
        read(json, path = "landing/", schema = Event)
            .write(console)
            .trigger(processing_time("-5 seconds"))
    };
}
