// An aggregation without keys (`agg` alone, or after `group_by()`) in complete and
// update mode, and an append-mode aggregation grouped by the watermarked column itself:
// accepted as Spark accepts them, and without the warning that state grows (the state of
// the first is one row; the second's groups close by the watermark).
#![deny(deprecated)]
use stream_core::stream;

fn main() {
    let _complete: stream_core::QueryBuilder<_> = stream! {
        schema Sale { page: string, amount: f64 }
        read(json, path = "landing/", schema = Sale)
            .agg(count() as n, sum(amount) as total)
            .write(memory, name = "ui_global_complete")
            .output_mode(complete)
    };
    let _update: stream_core::QueryBuilder<_> = stream! {
        schema Sale { page: string, amount: f64 }
        read(json, path = "landing/", schema = Sale)
            .group_by()
            .agg(max(amount) as top)
            .write(memory, name = "ui_global_update")
            .output_mode(update)
    };
    let _by_time: stream_core::QueryBuilder<_> = stream! {
        schema Click { ts: timestamp_ms, page: string }
        read(json, path = "landing/", schema = Click)
            .with_watermark(ts, "10 seconds")
            .group_by(ts, page)
            .agg(count() as views)
            .write(memory, name = "ui_by_event_time")
            .output_mode(append)
    };
    let _ = || -> stream_core::Result<()> {
        let rows = _complete.start()?.rows()?;
        let _: Option<(i64, Option<f64>)> = rows.first().map(|r| (r.n, r.total));
        Ok(())
    };
}
