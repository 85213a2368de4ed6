//! A query process for the SIGKILL test: streams a landing folder of event files into one
//! output file per batch id (`batch-N.jsonl`, rewritten when a batch is replayed).
//!
//! Usage: `crash_child <landing> <checkpoint> <out> <continuous|available_now>`

use std::path::PathBuf;
use std::time::Duration;

use stream_core::{ForeachBatchSink, JsonFileSource, MapPipeline, StreamingQuery, Trigger};
use tests::{batch_rows, event_schema, runtime};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 5 {
        eprintln!("usage: crash_child <landing> <checkpoint> <out> <continuous|available_now>");
        std::process::exit(2);
    }
    let (landing, checkpoint, out) = (
        PathBuf::from(&args[1]),
        PathBuf::from(&args[2]),
        PathBuf::from(&args[3]),
    );
    let trigger = if args[4] == "available_now" {
        Trigger::AvailableNow
    } else {
        Trigger::Default
    };
    let sink = ForeachBatchSink::new(move |batch_id, batches: &[arrow_array::RecordBatch]| {
        let mut text = String::new();
        for row in batches.iter().flat_map(batch_rows) {
            text.push_str(&row);
            text.push('\n');
        }
        // Written in place (not atomically) on purpose: a kill may leave it half
        // written, and the replay of the batch must make it whole.
        std::fs::write(out.join(format!("batch-{batch_id}.jsonl")), text).map_err(|e| e.to_string())
    });
    // Some work per batch, so that the parent's kill lands inside a batch.
    let pipeline = MapPipeline::new("slow_identity", event_schema(), event_schema(), |batch| {
        std::thread::sleep(Duration::from_millis(15));
        Ok(batch.clone())
    });
    let query = StreamingQuery::builder()
        .source(JsonFileSource::new(landing, event_schema()).max_files_per_trigger(1))
        .pipeline(pipeline)
        .sink(sink)
        .trigger(trigger)
        .checkpoint_location(checkpoint)
        .start()
        .unwrap_or_else(|e| {
            eprintln!("crash_child: {e}");
            std::process::exit(1)
        });
    if let Err(e) = runtime().block_on(query.await_termination()) {
        eprintln!("crash_child: {e}");
        std::process::exit(1);
    }
}
