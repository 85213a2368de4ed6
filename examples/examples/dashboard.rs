//! Dashboard: a running query and its live page, in one command.
//!
//! A rate source makes 200 rows a second; the query counts them per 10-second window
//! and parity of `value`, with a 5-second watermark, and keeps the counts in a
//! foreach-batch sink that prints one line per batch. Its page is served at
//! `http://127.0.0.1:4040/` (the input and processing rates, batch durations, the
//! watermark, the state, the plan) and its Prometheus metrics at `/metrics`. It runs
//! until stopped with Ctrl-C; the checkpoint under `target/dashboard` keeps the last 100
//! batches for `stream-ui target/dashboard/checkpoint` afterwards.
//!
//! ```text
//! cargo run -p examples --example dashboard --features ui [-- --port 4041]
//! ```

use std::path::Path;

use stream_core::stream;

/// `--port N` from the arguments, else 4040.
fn port() -> Result<u16, String> {
    let mut args = std::env::args().skip(1);
    match (args.next().as_deref(), args.next()) {
        (None, _) => Ok(4040),
        (Some("--port"), Some(port)) => port.parse().map_err(|_| format!("`{port}` is not a port")),
        _ => Err("usage: dashboard [--port N]".into()),
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port = port()?;
    let checkpoint = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/dashboard/checkpoint");
    let query = stream! {
        read(rate, rows_per_second = 200, num_partitions = 2)
            .with_watermark(timestamp, "5 seconds")
            .group_by(window(timestamp, "10 seconds"), value % 2 as parity)
            .agg(count() as rows, max(value) as newest)
            .write(foreach_batch, f = {|batch_id: u64, batches: &[arrow_array::RecordBatch]| {
                let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
                println!("batch {batch_id}: {rows} window counts updated");
                Ok::<(), std::convert::Infallible>(())
            }})
            .output_mode(update)
            .trigger(processing_time("1 second"))
            .query_name("dashboard")
            .checkpoint("target/dashboard/checkpoint")
    }
    .checkpoint_location(&checkpoint)
    .ui(format!("127.0.0.1:{port}"))
    .start()?;
    let streams = stream_core::StreamingQueryManager::global();
    if let Some(address) = streams.ui_address() {
        println!(
            "the query's page: http://{address}/  (metrics: http://{address}/metrics; Ctrl-C stops)"
        );
    }
    tokio::signal::ctrl_c().await?;
    query.stop().await;
    Ok(())
}
