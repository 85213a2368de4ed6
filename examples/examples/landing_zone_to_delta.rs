//! Landing zone → Delta Lake: the pipeline most users run first.
//!
//! IoT gateways drop JSON-lines files of sensor readings into a landing folder. The query
//! reads each new file once, drops the lines that are not valid records (counted in the
//! progress), keeps the readings with a temperature, adds the reading's day, and appends
//! them to a Delta table partitioned by site: one Delta commit per micro-batch, carrying
//! the batch id, so that a restart after a crash never writes a batch twice. Processed
//! files are moved to an archive folder.
//!
//! ```text
//! cargo run -p examples --example landing_zone_to_delta --features delta
//! cargo run -p examples --example landing_zone_to_delta --features delta -- <landing> <table> <checkpoint>
//! ```
//!
//! Without arguments it writes three sample files into
//! `target/landing_zone_to_delta/landing` (the embedded defaults) and the table into
//! `target/landing_zone_to_delta/table`. Run it again: it finds its checkpoint and has
//! nothing left to do. The table reads with any Delta reader, for example
//! `python -c "import deltalake; print(deltalake.DeltaTable('target/landing_zone_to_delta/table').to_pyarrow_table())"`.

use std::path::{Path, PathBuf};

use stream_core::{StreamError, StreamingQueryProgress, stream};

/// Streams every file in `landing` into the Delta table at `table`, until the folder is
/// drained (`available_now`), and returns the progress of each micro-batch. Processed
/// files move to `landing/../archive`, under their whole path (as Spark archives them).
pub fn landing_zone_to_delta(
    landing: &Path,
    table: &Path,
    checkpoint: &Path,
) -> Result<Vec<StreamingQueryProgress>, StreamError> {
    let archive = landing.parent().unwrap_or(Path::new(".")).join("archive");
    let query = stream! {
        schema Reading {
            ts: timestamp_ms,
            device: string,
            site: string,
            temperature: Option<f64>,
        }
        read(json, path = {landing}, schema = Reading,
             // a line that is not a reading is dropped and counted, the rest of its file kept
             mode = drop_malformed,
             max_files_per_trigger = 2,
             clean_source = archive, source_archive_dir = {&archive})
            .filter(is_not_null(temperature))
            .with_column(day, to_date(ts))
            .write(delta, path = {table}, partition_by = [site])
            .output_mode(append)
            .trigger(available_now)
            .checkpoint({checkpoint})
            .query_name("landing_zone_to_delta")
    }
    .start()?;
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| StreamError::InvalidQuery(format!("cannot start a tokio runtime: {e}")))?
        .block_on(query.await_termination())?;
    Ok(query.recent_progress())
}

/// Writes the embedded sample files (4 readings each, one of them without a temperature
/// and, in the second file, one line that is not JSON), unless the folder has them.
pub fn write_samples(landing: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(landing)?;
    let sites = ["berlin", "lyon"];
    for file in 0..3 {
        let path = landing.join(format!("gateway-{file:03}.json"));
        if path.exists() {
            continue;
        }
        let mut lines: Vec<String> = (0..4)
            .map(|i| {
                let temperature = if i == 3 {
                    "null".to_string()
                } else {
                    format!("{:.1}", 18.0 + f64::from(file * 4 + i) * 0.5)
                };
                format!(
                    r#"{{"ts":"2024-05-0{}T12:{:02}:00.000Z","device":"sensor-{i}","site":"{}","temperature":{temperature}}}"#,
                    1 + file,
                    i * 5,
                    sites[(i % 2) as usize],
                )
            })
            .collect();
        if file == 1 {
            lines.insert(2, "{\"ts\": \"garbled".to_string());
        }
        // written under a hidden name, then renamed: the source never reads half a file
        let hidden = landing.join(format!(".gateway-{file:03}.json.tmp"));
        std::fs::write(&hidden, lines.join("\n") + "\n")?;
        std::fs::rename(&hidden, &path)?;
    }
    Ok(())
}

#[allow(dead_code)] // the tests include this file for `landing_zone_to_delta` only
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    let (landing, table, checkpoint) = match args.as_slice() {
        [landing, table, checkpoint] => (landing.clone(), table.clone(), checkpoint.clone()),
        [] => {
            let root =
                Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/landing_zone_to_delta");
            let landing = root.join("landing");
            write_samples(&landing)?;
            (landing, root.join("table"), root.join("checkpoint"))
        }
        _ => return Err("usage: landing_zone_to_delta [<landing> <table> <checkpoint>]".into()),
    };
    let progress = landing_zone_to_delta(&landing, &table, &checkpoint)?;
    let read: u64 = progress.iter().map(|p| p.num_input_rows).sum();
    let dropped: u64 = progress
        .iter()
        .flat_map(|p| &p.sources)
        .filter_map(|s| s.metrics.get("numMalformedRowsDropped"))
        .filter_map(|v| v.parse::<u64>().ok())
        .sum();
    eprintln!(
        "landing_zone_to_delta: {} batch(es), {read} reading(s) read, {dropped} malformed line(s) dropped; table {}",
        progress.len(),
        table.display()
    );
    Ok(())
}
