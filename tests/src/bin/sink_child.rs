//! A query process for the sinks' SIGKILL test: streams a landing folder of event files
//! into a file sink (Parquet, partitioned by country).
//!
//! Usage: `sink_child <landing> <checkpoint> <out> <continuous|available_now> file`

use std::path::PathBuf;
use std::time::Duration;

use stream_core::{FileSink, JsonFileSource, MapPipeline, QueryBuilder, StreamingQuery, Trigger};
use tests::{event_schema, runtime};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 6 {
        eprintln!("usage: sink_child <landing> <checkpoint> <out> <continuous|available_now> file");
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
    // Some work per batch, so that the parent's kill lands inside a batch.
    let pipeline = MapPipeline::new("slow_identity", event_schema(), event_schema(), |batch| {
        std::thread::sleep(Duration::from_millis(10));
        Ok(batch.clone())
    });
    let builder: QueryBuilder = StreamingQuery::builder()
        .source(JsonFileSource::new(landing, event_schema()).max_files_per_trigger(1))
        .pipeline(pipeline)
        .trigger(trigger)
        .checkpoint_location(checkpoint);
    let builder = match args[5].as_str() {
        "file" => builder.sink(
            FileSink::new(out)
                .partition_by(["country"])
                .compact_interval(5),
        ),
        other => {
            eprintln!("sink_child: unknown sink `{other}`");
            std::process::exit(2);
        }
    };
    let query = builder.start().unwrap_or_else(|e| {
        eprintln!("sink_child: {e}");
        std::process::exit(1)
    });
    if let Err(e) = runtime().block_on(query.await_termination()) {
        eprintln!("sink_child: {e}");
        std::process::exit(1);
    }
}
