//! The event dataset: generated into NDJSON and Parquet files, or read from a folder of
//! such files, and decoded into Arrow batches for the hand-written baselines.
//!
//! A dataset folder holds `json/events-NNNN.json` and `parquet/events-NNNN.parquet`, the
//! same events in both, with the columns `ts` (timestamp, ms, UTC; ISO-8601 text in
//! JSON), `user`, `page`, `amount` and `country`.

use std::fs;
use std::io::{BufWriter, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::builder::{Float64Builder, StringBuilder, TimestampMillisecondBuilder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

use crate::BoxError;
use crate::rng::{Rng, Zipf};

/// The first event's time: 2024-01-01T00:00:00Z.
const START_MS: i64 = 1_704_067_200_000;
/// Event time advances one millisecond per event (1,000 events per second of event
/// time), so 10 M events span 2.8 hours: 167 one-minute windows.
const STEP_MS: i64 = 1;
/// How late a late event is at most: 4 minutes.
const MAX_LATENESS_MS: u64 = 240_000;
/// The share of late events, in percent.
const LATE_PERCENT: u64 = 5;
/// Rows per Arrow batch, generated and decoded.
pub(crate) const BATCH_ROWS: usize = 8192;

/// The 20 country codes, drawn uniformly.
pub(crate) const COUNTRIES: [&str; 20] = [
    "DE", "FR", "US", "JP", "GB", "IT", "ES", "NL", "BE", "AT", "CH", "SE", "NO", "DK", "FI", "PL",
    "PT", "IE", "CA", "BR",
];

/// The static table of the `stream_static_join` workload: the region of each country
/// code, one row per code.
pub(crate) fn regions() -> RecordBatch {
    let region = |code: &str| match code {
        "US" | "CA" | "BR" => "AMER",
        "JP" => "APAC",
        "NO" | "CH" => "EFTA",
        "GB" => "UK",
        _ => "EU",
    };
    let codes: Vec<&str> = COUNTRIES.to_vec();
    let regions: Vec<&str> = COUNTRIES.iter().map(|c| region(c)).collect();
    RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            Field::new("country", DataType::Utf8, false),
            Field::new("region", DataType::Utf8, false),
        ])),
        vec![
            Arc::new(arrow_array::StringArray::from(codes)) as ArrayRef,
            Arc::new(arrow_array::StringArray::from(regions)) as ArrayRef,
        ],
    )
    .expect("two columns of 20 strings")
}

/// How many files of how many events.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct DatasetSize {
    pub(crate) files: usize,
    pub(crate) events_per_file: usize,
}

impl DatasetSize {
    pub(crate) fn events(self) -> usize {
        self.files * self.events_per_file
    }
}

/// The dataset's Arrow schema (what a `stream!` `timestamp_ms` column reads as).
pub(crate) fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new(
            "ts",
            DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
            false,
        ),
        Field::new("user", DataType::Utf8, false),
        Field::new("page", DataType::Utf8, false),
        Field::new("amount", DataType::Float64, false),
        Field::new("country", DataType::Utf8, false),
    ]))
}

/// The folder of the NDJSON files.
pub(crate) fn json_dir(root: &Path) -> PathBuf {
    root.join("json")
}

/// The folder of the Parquet files.
pub(crate) fn parquet_dir(root: &Path) -> PathBuf {
    root.join("parquet")
}

/// The marker that says a generated dataset is complete, and of which size.
fn marker(root: &Path) -> PathBuf {
    root.join("dataset.json")
}

/// Generates the dataset into `root` unless a complete one of this size is there.
/// Returns whether it generated.
pub(crate) fn ensure(root: &Path, size: DatasetSize) -> Result<bool, BoxError> {
    let wanted = serde_json::json!({
        "files": size.files, "eventsPerFile": size.events_per_file, "generator": 1
    });
    if let Ok(text) = fs::read_to_string(marker(root))
        && serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .as_ref()
            == Some(&wanted)
    {
        return Ok(false);
    }
    for dir in [json_dir(root), parquet_dir(root)] {
        if dir.exists() {
            fs::remove_dir_all(&dir)?;
        }
        fs::create_dir_all(&dir)?;
    }
    let mut events = EventGenerator::new();
    for file in 0..size.files {
        let batches = events.batches(size.events_per_file)?;
        write_ndjson(
            &json_dir(root).join(format!("events-{file:04}.json")),
            &batches,
        )?;
        write_parquet(
            &parquet_dir(root).join(format!("events-{file:04}.parquet")),
            &batches,
        )?;
    }
    fs::write(marker(root), wanted.to_string())?;
    Ok(true)
}

/// The dataset's events, in order: `ts` one millisecond apart, 5 % of them moved back
/// by up to 4 minutes; `user` (1,000) and `page` (50) Zipf-distributed; `amount` a
/// multiple of 0.25 in [0, 200]; `country` uniform over 20 codes.
pub(crate) struct EventGenerator {
    rng: Rng,
    users: Vec<String>,
    pages: Vec<String>,
    user_zipf: Zipf,
    page_zipf: Zipf,
    next: i64,
}

impl EventGenerator {
    pub(crate) fn new() -> Self {
        EventGenerator {
            rng: Rng::new(0x5EED_2026),
            users: (0..1000).map(|i| format!("user_{i:04}")).collect(),
            pages: (0..50).map(|i| format!("/page/{i:02}")).collect(),
            user_zipf: Zipf::new(1000, 1.0),
            page_zipf: Zipf::new(50, 1.0),
            next: 0,
        }
    }

    /// The next `events` events, in batches of [`BATCH_ROWS`].
    pub(crate) fn batches(&mut self, events: usize) -> Result<Vec<RecordBatch>, BoxError> {
        let mut out = Vec::with_capacity(events.div_ceil(BATCH_ROWS));
        let mut left = events;
        while left > 0 {
            let n = left.min(BATCH_ROWS);
            let mut ts = TimestampMillisecondBuilder::with_capacity(n).with_timezone("UTC");
            let mut user = StringBuilder::with_capacity(n, n * 9);
            let mut page = StringBuilder::with_capacity(n, n * 8);
            let mut amount = Float64Builder::with_capacity(n);
            let mut country = StringBuilder::with_capacity(n, n * 2);
            for _ in 0..n {
                let mut t = START_MS + self.next * STEP_MS;
                self.next += 1;
                if self.rng.below(100) < LATE_PERCENT {
                    t -= 1 + self.rng.below(MAX_LATENESS_MS) as i64;
                }
                ts.append_value(t);
                user.append_value(&self.users[self.user_zipf.sample(&mut self.rng)]);
                page.append_value(&self.pages[self.page_zipf.sample(&mut self.rng)]);
                amount.append_value(self.rng.below(801) as f64 * 0.25);
                country.append_value(COUNTRIES[self.rng.below(20) as usize]);
            }
            let columns: Vec<ArrayRef> = vec![
                Arc::new(ts.finish()),
                Arc::new(user.finish()),
                Arc::new(page.finish()),
                Arc::new(amount.finish()),
                Arc::new(country.finish()),
            ];
            out.push(RecordBatch::try_new(schema(), columns)?);
            left -= n;
        }
        Ok(out)
    }
}

fn write_ndjson(path: &Path, batches: &[RecordBatch]) -> Result<(), BoxError> {
    use arrow_array::cast::AsArray;
    use arrow_array::types::{Float64Type, TimestampMillisecondType};

    let tmp = path.with_extension("json.tmp");
    let mut out = BufWriter::with_capacity(1 << 20, fs::File::create(&tmp)?);
    for batch in batches {
        let ts = batch.column(0).as_primitive::<TimestampMillisecondType>();
        let user = batch.column(1).as_string::<i32>();
        let page = batch.column(2).as_string::<i32>();
        let amount = batch.column(3).as_primitive::<Float64Type>();
        let country = batch.column(4).as_string::<i32>();
        for i in 0..batch.num_rows() {
            let time = chrono::DateTime::from_timestamp_millis(ts.value(i))
                .ok_or("a timestamp out of range")?;
            writeln!(
                out,
                r#"{{"ts":"{}","user":"{}","page":"{}","amount":{:?},"country":"{}"}}"#,
                time.format("%Y-%m-%dT%H:%M:%S%.3fZ"),
                user.value(i),
                page.value(i),
                amount.value(i),
                country.value(i)
            )?;
        }
    }
    out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    // renamed into place complete, so a reader of the folder never sees half a file
    fs::rename(&tmp, path)?;
    Ok(())
}

fn write_parquet(path: &Path, batches: &[RecordBatch]) -> Result<(), BoxError> {
    let tmp = path.with_extension("parquet.tmp");
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .build();
    let mut writer = ArrowWriter::try_new(fs::File::create(&tmp)?, schema(), Some(props))?;
    for batch in batches {
        writer.write(batch)?;
    }
    writer.close()?;
    fs::rename(&tmp, path)?;
    Ok(())
}

/// The files of a dataset folder with this extension, sorted by name.
pub(crate) fn files(dir: &Path, extension: &str) -> Result<Vec<PathBuf>, BoxError> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == extension))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(format!("{}: no .{extension} files", dir.display()).into());
    }
    Ok(files)
}

/// Decodes every Parquet file of the dataset into batches of [`BATCH_ROWS`] rows: the
/// already-decoded input of the baselines and of the in-memory engine runs.
pub(crate) fn decode(root: &Path) -> Result<Vec<RecordBatch>, BoxError> {
    let mut batches = Vec::new();
    for path in files(&parquet_dir(root), "parquet")? {
        let reader = ParquetRecordBatchReaderBuilder::try_new(fs::File::open(&path)?)?
            .with_batch_size(BATCH_ROWS)
            .build()?;
        for batch in reader {
            let batch = batch.map_err(|e| format!("{}: {e}", path.display()))?;
            // the engine's schema, whatever metadata the file's writer added
            batches.push(RecordBatch::try_new(schema(), batch.columns().to_vec())?);
        }
    }
    Ok(batches)
}
