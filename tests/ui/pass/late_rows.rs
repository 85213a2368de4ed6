// `late_rows(kind, ..)` after `write`: the rows a windowed aggregation, a session window
// or a `drop_duplicates` with a watermark drops as late go to a second sink of any kind
// `write` takes (it appends them), typed like the operator's input.
use stream_core::stream;

fn main() {
    let _memory: stream_core::QueryBuilder<_> = stream! {
        schema Event { ts: timestamp_ms, page: string, amount: f64 }
        read(json, path = "landing/", schema = Event)
            .with_watermark(ts, "10 minutes")
            .group_by(window(ts, "1 minute"), page)
            .agg(count() as views, sum(amount) as total)
            .write(memory, name = "ui_late_rows_out")
            .late_rows(memory, name = "ui_late_rows_late")
            .output_mode(update)
    };
    let _files = stream! {
        schema Event { ts: Option<timestamp_us>, user: string }
        read(json, path = "landing/", schema = Event)
            .with_watermark(ts, "1 hour")
            .drop_duplicates(user, ts)
            .write(parquet, path = "out/")
            .late_rows(json, path = "late/")
            .checkpoint("checkpoints/ui_late_rows")
    };
    let late_dir = std::path::PathBuf::from("late_sessions/");
    let _sessions = stream! {
        schema Event { ts: timestamp_ms, user: string }
        read(json, path = "landing/", schema = Event)
            .with_watermark(ts, "10 minutes")
            .group_by(session_window(ts, "5 minutes"), user)
            .agg(count() as n)
            .write(console)
            .late_rows(csv, path = {late_dir})
    };
}
