// `with_watermark`, `group_by(window(..))` and `agg` in each output mode; the output row
// has the window's bounds, the keys and the aggregates.
use stream_core::stream;

fn main() {
    let _append: stream_core::QueryBuilder<_> = stream! {
        schema Event { ts: timestamp_ms, country: Option<string>, amount: Option<f64> }
        read(json, path = "landing/", schema = Event)
            .with_watermark(ts, "2 minutes")
            .group_by(window(ts, "1 minute"), country)
            .agg(count() as n, sum(amount) as total, avg(amount) as mean, min(amount) as low, max(ts) as last_seen)
            .filter(n > 1)
            .write(memory, name = "ui_window_append")
    };
    let _ = || -> stream_core::Result<()> {
        let rows = _append.start()?.rows()?;
        let _: Option<(i64, Option<f64>, Option<f64>)> = rows.first().map(|r| (r.n, r.total, r.mean));
        Ok(())
    };
    let _update: stream_core::QueryBuilder<_> = stream! {
        schema Event { ts: timestamp_us, page: string }
        read(json, path = "landing/", schema = Event)
            .with_watermark(ts, "10 minutes")
            .group_by(window(ts, "10 minutes", "5 minutes"), page)
            .agg(count() as views)
            .write(console)
            .output_mode(update)
    };
    let _complete: stream_core::QueryBuilder<_> = stream! {
        schema Event { ts: timestamp_ms, page: string }
        read(json, path = "landing/", schema = Event)
            .group_by(page)
            .agg(count() as views)
            .write(console)
            .output_mode(complete)
    };
}
