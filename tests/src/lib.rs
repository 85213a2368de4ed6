//! Fixtures shared by the end-to-end tests: the event schema of the Spark golden input,
//! landing folders with controlled modification times, and row comparison helpers.

pub mod files;
pub mod http;
pub mod sigkill;

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use arrow_array::RecordBatch;
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};

/// The schema of the events in `shared/spark-golden/input`.
pub fn event_schema() -> SchemaRef {
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

/// A set of Spark's golden outputs: a folder with `input/` and the files Spark wrote.
#[derive(Clone, Copy, Debug)]
pub struct GoldenSet(&'static str);

impl GoldenSet {
    /// `../shared/spark-golden`: one late event per late group.
    pub const FIRST: GoldenSet = GoldenSet("spark-golden");
    /// `../shared/spark-golden-late`: heavy lateness, groups of several late events.
    pub const LATE: GoldenSet = GoldenSet("spark-golden-late");

    /// The set's name, its folder's (`spark-golden`, `spark-golden-late`).
    pub fn name(self) -> &'static str {
        self.0
    }

    /// The set's folder (a copy of the shared one, small, so that the tests run
    /// without `../shared`).
    pub fn dir(self) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures")
            .join(self.0)
    }

    /// The input files, in name order.
    pub fn input_files(self) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = fs::read_dir(self.dir().join("input"))
            .expect("the golden fixture's input folder")
            .map(|e| e.expect("readable entry").path())
            .collect();
        files.sort();
        files
    }

    /// Copies the input files in `range` into `dir` with increasing modification
    /// times, as the golden README asks.
    pub fn land(self, dir: &Path, range: std::ops::Range<usize>) {
        let files = self.input_files();
        for i in range {
            let text = fs::read_to_string(&files[i]).expect("read golden file");
            let name = files[i]
                .file_name()
                .expect("file name")
                .to_string_lossy()
                .into_owned();
            land_file(dir, &name, &text, i as u64);
        }
    }

    /// The golden file `name`, as lines.
    pub fn lines(self, name: &str) -> Vec<String> {
        std::fs::read_to_string(self.dir().join(name))
            .unwrap_or_else(|e| panic!("read {}/{name}: {e}", self.0))
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// The golden rows of `name`, canonical and sorted as [`emitted`] gives ours.
    pub fn rows(self, name: &str) -> Vec<String> {
        let mut rows: Vec<String> = self.lines(name).iter().map(|l| canonical_json(l)).collect();
        rows.sort();
        rows
    }
}

/// The folder of Spark's golden input files (`events-0000N.json`, 40 events each).
pub fn golden_input_dir() -> PathBuf {
    GoldenSet::FIRST.dir().join("input")
}

/// The golden input files, in name order.
pub fn golden_files() -> Vec<PathBuf> {
    GoldenSet::FIRST.input_files()
}

/// Writes `text` to `dir/name` with modification time `base + seq` seconds, so that a
/// landing folder's order is fixed whatever the file system's timestamp resolution.
pub fn land_file(dir: &Path, name: &str, text: &str, seq: u64) -> PathBuf {
    let path = dir.join(name);
    fs::write(&path, text).expect("write landing file");
    let mtime = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000 + seq);
    fs::File::options()
        .write(true)
        .open(&path)
        .and_then(|f| f.set_modified(mtime))
        .expect("set mtime");
    path
}

/// Copies the first `n` golden files into `dir` with increasing modification times
/// (starting at `first_seq`), as the golden README asks.
pub fn land_golden(dir: &Path, range: std::ops::Range<usize>) {
    GoldenSet::FIRST.land(dir, range);
}

/// All input lines of the golden files in `range`, as canonical JSON rows.
pub fn golden_rows(range: std::ops::Range<usize>) -> Vec<String> {
    let files = golden_files();
    let mut rows: Vec<String> = files[range]
        .iter()
        .flat_map(|f| {
            fs::read_to_string(f)
                .expect("read golden file")
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(canonical_json)
                .collect::<Vec<_>>()
        })
        .collect();
    rows.sort();
    rows
}

/// A JSON object re-serialised with sorted keys, timestamps (`ts` and the window and
/// session window bounds) normalised to `yyyy-MM-ddTHH:mm:ss.SSSZ`.
pub fn canonical_json(line: &str) -> String {
    let mut value: serde_json::Value = serde_json::from_str(line).expect("valid JSON row");
    for key in [
        "ts",
        "window_start",
        "window_end",
        "session_window_start",
        "session_window_end",
    ] {
        if let Some(ts) = value.get_mut(key)
            && let Some(text) = ts.as_str()
        {
            *ts = serde_json::Value::String(normalise_ts(text));
        }
    }
    // serde_json's Map is a BTreeMap here (no preserve_order), so keys come out sorted.
    value.to_string()
}

fn normalise_ts(text: &str) -> String {
    // arrow-json writes `2024-01-01T00:00:02.428Z`; the input has the same form, but
    // whole seconds may be written without millis by either side.
    let t = text.trim_end_matches('Z');
    match t.split_once('.') {
        Some((secs, frac)) => format!("{secs}.{:0<3}Z", &frac[..frac.len().min(3)]),
        None => format!("{t}.000Z"),
    }
}

/// The rows of `batches` as canonical JSON strings, sorted.
pub fn rows_of(batches: &[RecordBatch]) -> Vec<String> {
    let mut rows: Vec<String> = batches.iter().flat_map(batch_rows).collect();
    rows.sort();
    rows
}

/// The rows of one batch as canonical JSON strings, in order.
pub fn batch_rows(batch: &RecordBatch) -> Vec<String> {
    let mut buf = Vec::new();
    {
        let mut writer = arrow_json::LineDelimitedWriter::new(&mut buf);
        writer.write(batch).expect("batch to JSON");
        writer.finish().expect("finish JSON");
    }
    String::from_utf8(buf)
        .expect("utf8 JSON")
        .lines()
        .map(canonical_json)
        .collect()
}

/// The golden file `name` of the golden folder, as lines.
pub fn golden(name: &str) -> Vec<String> {
    GoldenSet::FIRST.lines(name)
}

/// Every row of the memory table `table` with its batch id, as the golden files write
/// them: canonical JSON with `_batch`, sorted.
pub fn emitted(table: &str) -> Vec<String> {
    let table = stream_core::MemorySink::new(table).table();
    let mut rows = Vec::new();
    for id in table.batch_ids() {
        for batch in table.batch(id).unwrap_or_default() {
            for row in batch_rows(&batch) {
                let mut v: serde_json::Value = serde_json::from_str(&row).unwrap();
                v["_batch"] = serde_json::json!(id);
                rows.push(v.to_string());
            }
        }
    }
    rows.sort();
    rows
}

/// The golden rows, in the same canonical form.
pub fn expected_rows(name: &str) -> Vec<String> {
    GoldenSet::FIRST.rows(name)
}

/// A tokio runtime for tests that drive queries from sync code.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// The rows of the memory table `name`, in batch order, as canonical JSON strings.
pub fn memory_table_rows(name: &str) -> Vec<String> {
    stream_core::MemorySink::new(name)
        .table()
        .batches()
        .iter()
        .flat_map(batch_rows)
        .collect()
}

/// One batch of a stateful query with one stateful operator, as the rule tests read it:
/// (batch id, input rows, watermark in seconds, rows written, rows dropped as late, rows
/// in the state).
pub type BatchFacts = (u64, u64, i64, i64, u64, u64);

/// The [`BatchFacts`] of each progress record (watermarks within the epoch's first hour).
pub fn batch_facts(progress: &[stream_core::StreamingQueryProgress]) -> Vec<BatchFacts> {
    progress
        .iter()
        .map(|p| {
            let s = &p.state_operators[0].metrics;
            (
                p.batch_id,
                p.num_input_rows,
                watermark_seconds(&p.event_time["watermark"]),
                p.sink.num_output_rows,
                s.num_rows_dropped_by_watermark,
                s.num_rows_total,
            )
        })
        .collect()
}

/// Seconds since the epoch of a watermark `1970-01-01T00:MM:SS.000Z`.
pub fn watermark_seconds(text: &str) -> i64 {
    assert!(text.starts_with("1970-01-01T00:"), "{text}");
    let m: i64 = text[14..16].parse().unwrap();
    let s: i64 = text[17..19].parse().unwrap();
    m * 60 + s
}

/// Starts `builder` on a fresh checkpoint and its own manager, and waits until it ends
/// (for `available_now` / `once` queries); panics if it fails. Returns the ended query
/// (a `TypedQuery` for a `stream!` block, whose `rows()` reads a memory sink).
pub fn run_to_end<R: stream_core::OutputRow>(builder: stream_core::QueryBuilder<R>) -> R::Query {
    let checkpoint = tempfile::tempdir().expect("temp checkpoint");
    let query = builder
        .manager(&stream_core::StreamingQueryManager::new())
        .checkpoint_location(checkpoint.path())
        .start()
        .expect("query starts");
    runtime()
        .block_on(query.as_ref().await_termination())
        .expect("query succeeds");
    query
}

/// The python of the venv with the independent readers (`deltalake`, `pyarrow`), from
/// `STREAM_PYTHON` (`scripts/install-python-readers.sh` makes it; `.ci/run` sets it).
///
/// Without it: under CI (`CI=true`) the test fails; elsewhere a loud skip message goes
/// straight to the terminal (past the test harness's capture) and `None` comes back, so
/// the caller skips only the comparison with the independent reader.
pub fn python_readers(test: &str) -> Option<PathBuf> {
    match std::env::var_os("STREAM_PYTHON") {
        Some(python) if !python.is_empty() => Some(PathBuf::from(python)),
        _ if std::env::var("CI").as_deref() == Ok("true") => panic!(
            "{test}: STREAM_PYTHON is not set under CI; run \
             `export STREAM_PYTHON=\"$(scripts/install-python-readers.sh | tail -n 1)\"` first"
        ),
        _ => {
            use std::io::Write as _;
            let _ = writeln!(
                std::io::stderr(),
                "\n!!!!!!!! SKIPPED: {test}: the independent Python readers were not run, \
                 STREAM_PYTHON is not set; run \
                 `export STREAM_PYTHON=\"$(scripts/install-python-readers.sh | tail -n 1)\"` !!!!!!!!\n"
            );
            None
        }
    }
}

/// What an independent reader saw: the rows as canonical JSON strings (sorted), and for
/// Delta with an app id, the table's `txn` version of that app id.
#[derive(Debug)]
pub struct PythonRead {
    /// Every row, canonical JSON, sorted.
    pub rows: Vec<String>,
    /// `DeltaTable.transaction_version(app_id)`, when asked for.
    pub txn_version: Option<i64>,
}

/// Reads a sink's output with `tests/python/read_output.py` (`kind` is `delta` or
/// `files`); panics with the reader's error output if it fails.
pub fn python_read(python: &Path, kind: &str, path: &Path, app_id: Option<&str>) -> PythonRead {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("python/read_output.py");
    let mut command = std::process::Command::new(python);
    command.arg(&script).arg(kind).arg(path);
    if let Some(app_id) = app_id {
        command.arg(app_id);
    }
    let output = command.output().expect("run the python reader");
    assert!(
        output.status.success(),
        "the python reader failed on `{}`: {}",
        path.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    let mut rows = Vec::new();
    let mut txn_version = None;
    for line in String::from_utf8(output.stdout).expect("utf8").lines() {
        let value: serde_json::Value = serde_json::from_str(line).expect("a JSON line");
        match value.get("txnVersion") {
            Some(version) if value.as_object().is_some_and(|o| o.len() == 1) => {
                txn_version = version.as_i64();
            }
            _ => rows.push(canonical_json(line)),
        }
    }
    rows.sort();
    PythonRead { rows, txn_version }
}

/// Every file under `dir` (and its subfolders) with its bytes: what a test compares to
/// show that a refused start wrote nothing. The disk state store's working copy
/// (`state/_disk`, a cache of the checkpoint's state files that its database may still be
/// closing) is left out.
pub fn files_under(dir: &Path) -> std::collections::BTreeMap<PathBuf, Vec<u8>> {
    fn walk(dir: &Path, out: &mut std::collections::BTreeMap<PathBuf, Vec<u8>>) {
        for entry in fs::read_dir(dir).expect("read the folder") {
            let path = entry.expect("a folder entry").path();
            if path.ends_with("state/_disk") {
                continue;
            }
            if path.is_dir() {
                walk(&path, out);
            } else {
                out.insert(path.clone(), fs::read(&path).expect("read the file"));
            }
        }
    }
    let mut out = std::collections::BTreeMap::new();
    walk(dir, &mut out);
    out
}
