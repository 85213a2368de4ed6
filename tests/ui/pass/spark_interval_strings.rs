// Spark's interval strings wherever the block takes a duration: units in any case,
// singular or plural, compound intervals, a leading `interval`, weeks and days, a
// fraction of seconds, and microseconds in a window over a `timestamp_us` column.
use stream_core::stream;

fn main() {
    let _windowed: stream_core::QueryBuilder<_> = stream! {
        schema Event { ts: timestamp_ms, user: string }
        read(json, path = "landing/", schema = Event, max_file_age = "2 Weeks 3 Days")
            .with_watermark(ts, "INTERVAL 1 Minute 30 Seconds")
            .group_by(window(ts, "1 week", "1 Day", "interval 12 hours"), user)
            .agg(count() as n)
            .write(memory, name = "ui_spark_interval_windows")
            .trigger(processing_time("1.5 Seconds"))
    };
    let _sessions: stream_core::QueryBuilder<_> = stream! {
        schema Event { ts: timestamp_us, user: string }
        read(json, path = "landing/", schema = Event)
            .with_watermark(ts, "1 HOUR")
            .group_by(session_window(ts, "2 minutes 1500 microseconds"), user)
            .agg(count() as n)
            .write(memory, name = "ui_spark_interval_sessions")
    };
    let _joined: stream_core::QueryBuilder<_> = stream! {
        schema Event { ad: string, at: timestamp_ms, kind: string }
        let events = read(json, path = "landing/", schema = Event);
        let clicks = events
            .filter(kind == "click")
            .select(ad, at as clicked_at)
            .with_watermark(clicked_at, "10 Seconds");
        events
            .filter(kind == "imp")
            .select(ad, at as shown_at)
            .with_watermark(shown_at, "10 seconds")
            .join(clicks, on = ad, within = "1 Minute 30 Seconds")
            .write(memory, name = "ui_spark_interval_join")
    };
}
