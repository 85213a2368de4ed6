//! Quickstart: a landing folder of JSON event files streamed to the console.
//!
//! It writes three small files of shop events into `target/quickstart/landing` (the
//! embedded defaults: no broker, no setup), then runs a query that keeps the purchases
//! over 50, one file per micro-batch, and prints each batch as Spark's console sink does.
//! Run it twice: the second run finds its checkpoint and has nothing left to do; delete
//! `target/quickstart` to start over, or drop another `.json` file into the folder.
//!
//! ```text
//! cargo run -p examples --example quickstart
//! ```
//!
//! The pipeline is a `stream!` block: checked against the `Event` schema when the example
//! compiles (misspell `amount` and `cargo build` points at it), and compiled into typed
//! code over Arrow record batches that runs on the engine.

use std::path::Path;

use stream_core::stream;

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

    let checkpoint = root.join("checkpoint");
    let query = stream! {
        // the events: `ts`, `user`, `page`, `amount`, `country` (a JSON field may be missing)
        schema Event {
            ts: Option<timestamp_ms>,
            user: Option<string>,
            page: Option<string>,
            amount: Option<f64>,
            country: Option<string>,
        }
        // every new JSON-lines file in the folder, one file per micro-batch
        read(json, path = {&landing}, schema = Event, max_files_per_trigger = 1)
            .filter(amount > 50.0)
            .select(user, amount, country)
            .write(console)
            .output_mode(append)
            .trigger(available_now)
            // offsets/N before each batch, commits/N after: a restart resumes exactly here
            .checkpoint({&checkpoint})
            .query_name("quickstart")
    }
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
