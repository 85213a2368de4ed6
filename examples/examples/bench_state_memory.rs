//! How much memory the state of an aggregation takes per key: one million distinct keys
//! (a `String` user id and a 1-minute window) counted in update mode, in batches of
//! 100,000 rows; prints the progress record's state figures after each batch.
//!
//! ```text
//! cargo run --release --example bench_state_memory [keys]
//! ```

use std::time::Instant;

use stream_core::types::TimestampMs;
use stream_core::{MemoryStream, Schema, stream};

#[derive(Schema, Clone)]
struct Visit {
    ts: TimestampMs,
    user: String,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let keys: usize = std::env::args()
        .nth(1)
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(1_000_000);
    let visits = MemoryStream::of::<Visit>();
    let checkpoint = tempfile_dir()?;
    let query = stream! {
        schema Visit = Visit;
        read(memory, stream = {visits.clone()}, schema = Visit)
            .with_watermark(ts, "1 hour")
            .group_by(window(ts, "1 minute"), user)
            .agg(count() as visits)
            .write(foreach_batch, f = {|_: u64, _: &[arrow_array::RecordBatch]| Ok::<(), std::convert::Infallible>(())})
            .output_mode(update)
            .checkpoint({checkpoint.clone()})
    }
    .start()?;
    let started = Instant::now();
    let per_batch = 100_000;
    let mut next = 0usize;
    println!(
        "{:>10} {:>12} {:>16} {:>14} {:>10}",
        "batch", "state rows", "memory bytes", "bytes per key", "ms"
    );
    while next < keys {
        let end = (next + per_batch).min(keys);
        let rows: Vec<Visit> = (next..end)
            .map(|i| Visit {
                ts: TimestampMs(1_700_000_000_000),
                user: format!("user-{i:08}"),
            })
            .collect();
        visits.add_rows(&rows)?;
        let t = Instant::now();
        query
            .process_all_available()
            .await
            .map_err(|e| e.to_string())?;
        let p = query.last_progress().expect("a batch ran");
        let s = &p.state_operators[0].metrics;
        println!(
            "{:>10} {:>12} {:>16} {:>14.1} {:>10}",
            p.batch_id,
            s.num_rows_total,
            s.memory_used_bytes,
            s.memory_used_bytes as f64 / s.num_rows_total.max(1) as f64,
            t.elapsed().as_millis()
        );
        next = end;
    }
    println!("{keys} keys in {:.1} s", started.elapsed().as_secs_f64());
    query.stop().await;
    std::fs::remove_dir_all(&checkpoint).ok();
    Ok(())
}

fn tempfile_dir() -> std::io::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("bench-state-memory-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
