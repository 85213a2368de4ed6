// `session_window` among the keys of `group_by`, in append and complete mode; the output
// row has the session's bounds (`session_window_start`, `session_window_end`, of the
// time column's
// unit), the other keys and the aggregates.
use stream_core::stream;

fn main() {
    let _append: stream_core::QueryBuilder<_> = stream! {
        schema Event { ts: Option<timestamp_ms>, user: string, amount: Option<f64> }
        read(json, path = "landing/", schema = Event)
            .with_watermark(ts, "10 minutes")
            .group_by(session_window(ts, "5 minutes"), user)
            .agg(count() as n, sum(amount) as total, avg(amount) as mean, min(ts) as first_seen, max(ts) as last_seen)
            .filter(n > 1)
            .write(memory, name = "ui_session_append")
    };
    let _ = || -> stream_core::Result<()> {
        let rows = _append.start()?.rows()?;
        let _: Option<(stream_core::types::TimestampMs, stream_core::types::TimestampMs, &str, i64)> = rows
            .first()
            .map(|r| (r.session_window_start, r.session_window_end, r.user.as_str(), r.n));
        Ok(())
    };
    let _complete: stream_core::QueryBuilder<_> = stream! {
        schema Event { ts: timestamp_us, user: string, page: string }
        read(json, path = "landing/", schema = Event)
            .group_by(user, session_window(ts, "30 seconds"), page)
            .agg(count() as views)
            .write(console)
            .output_mode(complete)
    };
}
