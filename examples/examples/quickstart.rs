//! Quickstart: a landing folder of JSON event files streamed to the console.
//!
//! It writes three small files of shop events into `target/quickstart/landing` (the
//! embedded defaults: no broker, no setup), then runs a query that keeps the purchases
//! over 50, one file per micro-batch, and prints each batch as Spark's console sink does.
//! Run it twice: the second run finds its checkpoint and has nothing left to do; delete
//! `target/quickstart` to start over, or drop another `.json` file into the folder.
//!
//! ```text
//! cargo run --example quickstart
//! ```
//!
//! The pipeline is written by hand against the engine's `Pipeline` interface; the
//! `stream!` macro will generate the same code from a few lines of DSL.

use std::path::Path;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::Float64Type;
use arrow_array::{BooleanArray, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use stream_core::{ConsoleSink, JsonFileSource, MapPipeline, OutputMode, StreamingQuery, Trigger};

/// The events: `ts`, `user`, `page`, `amount`, `country`.
fn event_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new(
            "ts",
            DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
            true,
        ),
        Field::new("user", DataType::Utf8, true),
        Field::new("page", DataType::Utf8, true),
        Field::new("amount", DataType::Float64, true),
        Field::new("country", DataType::Utf8, true),
    ]))
}

/// The output: `user`, `amount`, `country` of purchases over 50.
fn output_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("user", DataType::Utf8, true),
        Field::new("amount", DataType::Float64, true),
        Field::new("country", DataType::Utf8, true),
    ]))
}

/// `filter(amount > 50.0).select(user, amount, country)`, by hand.
fn big_purchases(batch: &RecordBatch) -> stream_core::Result<RecordBatch> {
    let amount = batch.column(3).as_primitive::<Float64Type>();
    let keep: BooleanArray = amount.iter().map(|a| a.map(|a| a > 50.0)).collect();
    let kept = arrow_select::filter::filter_record_batch(batch, &keep)?;
    Ok(kept.project(&[1, 3, 4])?)
}

/// Writes the embedded sample files, unless the folder already has them.
fn write_landing_zone(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let countries = ["DE", "FR", "JP", "US"];
    for file in 0..3 {
        let path = dir.join(format!("events-{file:03}.json"));
        if path.exists() {
            continue;
        }
        let lines: Vec<String> = (0..8)
            .map(|i| {
                let n = file * 8 + i;
                format!(
                    r#"{{"ts":"2024-01-01T00:{:02}:{:02}.000Z","user":"user_{:02}","page":"/page/{:02}","amount":{:.2},"country":"{}"}}"#,
                    file,
                    i * 7,
                    n % 5,
                    n % 3,
                    (n * 37 % 120) as f64 + 0.25,
                    countries[n % countries.len()]
                )
            })
            .collect();
        // Written under a hidden name, then renamed: the source never sees half a file.
        let hidden = dir.join(format!(".events-{file:03}.json.tmp"));
        std::fs::write(&hidden, lines.join("\n") + "\n")?;
        std::fs::rename(&hidden, &path)?;
    }
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/quickstart");
    let landing = root.join("landing");
    write_landing_zone(&landing)?;

    let query = StreamingQuery::builder()
        .query_name("quickstart")
        .source(JsonFileSource::new(&landing, event_schema()).max_files_per_trigger(1))
        .pipeline(MapPipeline::new(
            "big_purchases",
            event_schema(),
            output_schema(),
            big_purchases,
        ))
        .sink(ConsoleSink::new())
        .output_mode(OutputMode::Append)
        .trigger(Trigger::AvailableNow)
        .checkpoint_location(root.join("checkpoint"))
        .start()?;
    query.await_termination().await?;

    let batches = query.recent_progress();
    let rows: u64 = batches.iter().map(|p| p.num_input_rows).sum();
    eprintln!(
        "quickstart: {} batch(es), {rows} input row(s); landing folder {}",
        batches.len(),
        landing.display()
    );
    Ok(())
}
