//! Checkpoints written by an older build still load and resume: the guard of the
//! checkpoint format (`metadata`, `offsets/N`, `commits/N`, `sources/`, and the state
//! files `state/<operator>/...` of each stateful operator) and of the plan fingerprint
//! across changes to how stateful operators are generated and run.
//!
//! `tests/fixtures/checkpoints/<name>/` holds, per stateful operator kind (a tumbling
//! window count, `drop_duplicates`, a session window aggregation, a join of two
//! streams):
//!
//! - `checkpoint/`: the checkpoint of a query stopped after a few batches, as the build
//!   of the commit named in `fixture.json` wrote it (never edited by hand);
//! - `input/NNNNN.jsonl`: the whole input, one file per `MemoryStream` batch (each file
//!   is one micro-batch, followed by one without input when it moved the watermark);
//! - `emitted.jsonl`: the rows that run wrote in its committed batches, as canonical JSON
//!   with their batch id (`_batch`);
//! - `fixture.json`: the commit that wrote it, how many input files the run read before
//!   it stopped, how many batches it committed and which batch it left uncommitted.
//!
//! `window_count` and `stream_join` died before the commit of their last batch
//! (`offsets/N` and that batch's state files without `commits/N`): the restart re-runs
//! it. `dedup` and `session_window` were stopped cleanly. `window_count` ran 10
//! committed batches, so that its stores hold a snapshot (`9.snapshot`, the default
//! interval) beside the deltas; the others hold deltas only. Every query runs on 2
//! shuffle partitions, so a change of the partition a key goes to is caught too.
//!
//! Each test copies a fixture's checkpoint into a temp dir, starts the same `stream!`
//! block on it (one function per fixture, used by the generator too), feeds the rest of
//! the input and checks that the rows the fixture's run wrote plus the rows written after
//! the restart are the rows of one uninterrupted run over the same input (run in the test
//! on a fresh checkpoint), in the same batches, with the same progress numbers (rows in
//! the state, rows dropped as late); and against results computed here from the input
//! files without the engine. It also checks that the state was loaded: a group whose rows
//! come both before and after the stop gets its full count, a duplicate of a row read
//! before the stop is dropped, a row read after it meets a row buffered before it; and
//! that the batch ids go on from the fixture's.
//!
//! The exception is `session_window`: its output columns were renamed to Spark's
//! `session_window_start` and `session_window_end` since, so its checkpoint is refused
//! with a message that says so (a sink must not change columns mid-stream); the test
//! checks that message, that the checkpoint is left as it was, and that its state reads.
//!
//! **The source.** The fixtures read a `MemoryStream`: its offset is the number of
//! batches added, a JSON number in `offsets/N`, and it writes nothing under `sources/`,
//! so a fixture copied anywhere resumes if the test adds the same batches again (the
//! input files, in order) before starting the query. The file source would not do: its
//! log (`sources/0/N`) records each file it took by absolute path (and modification
//! time), so a copied checkpoint would re-read its logged batch from the old path and
//! take the files at the new path for new ones. The memory sink records nothing in the
//! checkpoint, hence `emitted.jsonl`.
//!
//! **Determinism.** The input is made by a seeded generator, and the queries run on a
//! [`ManualClock`] (so `batchTimestampMs` in `offsets/N` is fixed) and one task, so a
//! new generation writes the same input, offsets, commits and emitted rows. Two things
//! differ from one generation to the next, and no setting fixes them: the query id in
//! `metadata` (a random UUID), and the order of the rows inside the state files (the
//! stores' hash maps are seeded per process); the rows themselves are the same.
//!
//! **Regenerating.** Only when the format is meant to change, and only on the code whose
//! format the fixtures are to record:
//! `cargo test -p tests --test checkpoint_fixtures -- --ignored regenerate` (see
//! [`regenerate_the_checkpoint_fixtures`]).

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use stream_core::types::{TimestampMs, TypedRow};
use stream_core::{
    FaultPoint, ManualClock, MemorySink, MemoryStream, QueryBuilder, Schema, StreamError,
    StreamingQueryManager, StreamingQueryProgress, TypedQuery, stream,
};
use tests::{emitted, runtime};

/// 2024-01-01T00:00:00Z in ms: every event of the fixtures falls on that day.
const BASE_MS: i64 = 1_704_067_200_000;

/// The manual clock's time: `batchTimestampMs` of every batch.
const CLOCK_MS: i64 = BASE_MS;

/// The shuffle partitions every fixture query runs with (fixed by its checkpoint).
const SHUFFLE_PARTITIONS: usize = 2;

// ---- the queries -------------------------------------------------------------------

#[derive(Schema)]
struct Sale {
    ts: TimestampMs,
    country: String,
}

#[derive(Schema)]
struct Login {
    ts: TimestampMs,
    user: String,
    device: String,
}

#[derive(Schema)]
struct Click {
    ts: TimestampMs,
    user: String,
}

/// Impressions and clicks in one stream, told apart by `kind`; the joined streams are
/// filters of it, so both sides of a step come in one batch (as in `stream_join.rs`).
#[derive(Schema)]
struct AdEvent {
    kind: String,
    ad: i64,
    name: String,
    at: TimestampMs,
}

const WINDOW_DELAY_MS: i64 = 60_000;
const WINDOW_MS: i64 = 60_000;

/// The `window_count` fixture's query.
fn window_count(input: &MemoryStream, table: &str) -> QueryBuilder<impl TypedRow + use<>> {
    stream! {
        schema Sale = Sale;
        read(memory, stream = {input.clone()}, schema = Sale)
            .with_watermark(ts, "1 minute")
            .group_by(window(ts, "1 minute"), country)
            .agg(count() as n)
            .write(memory, name = {table})
            .output_mode(append)
    }
}

const DEDUP_DELAY_MS: i64 = 60_000;

/// The `dedup` fixture's query.
fn dedup(input: &MemoryStream, table: &str) -> QueryBuilder<impl TypedRow + use<>> {
    stream! {
        schema Login = Login;
        read(memory, stream = {input.clone()}, schema = Login)
            .with_watermark(ts, "1 minute")
            .drop_duplicates(user, ts)
            .write(memory, name = {table})
            .output_mode(append)
    }
}

const SESSION_DELAY_MS: i64 = 120_000;
const SESSION_GAP_MS: i64 = 60_000;

/// The `session_window` fixture's query.
fn session_window(input: &MemoryStream, table: &str) -> QueryBuilder<impl TypedRow + use<>> {
    stream! {
        schema Click = Click;
        read(memory, stream = {input.clone()}, schema = Click)
            .with_watermark(ts, "2 minutes")
            .group_by(session_window(ts, "1 minute"), user)
            .agg(count() as n, min(ts) as first_seen, max(ts) as last_seen)
            .write(memory, name = {table})
            .output_mode(append)
    }
}

const JOIN_DELAY_MS: i64 = 10_000;
const JOIN_WITHIN_MS: i64 = 30_000;

/// The `stream_join` fixture's query.
fn stream_join(input: &MemoryStream, table: &str) -> QueryBuilder<impl TypedRow + use<>> {
    stream! {
        schema AdEvent = AdEvent;
        let events = read(memory, stream = {input.clone()}, schema = AdEvent);
        let clicks = events
            .filter(kind == "click")
            .select(ad, name as clicked, at as clicked_at)
            .with_watermark(clicked_at, "10 seconds");
        events
            .filter(kind == "imp")
            .select(ad, name as shown, at as shown_at)
            .with_watermark(shown_at, "10 seconds")
            .join(clicks, on = ad, within = "30 seconds")
            .write(memory, name = {table})
            .output_mode(append)
    }
}

// ---- running a fixture query -------------------------------------------------------

/// Starts `builder` on `checkpoint` as every fixture run does (manual clock, one task,
/// [`SHUFFLE_PARTITIONS`]), dying before the commit of batch `fail_before_commit`.
fn start<R: TypedRow>(
    builder: QueryBuilder<R>,
    checkpoint: &Path,
    fail_before_commit: Option<u64>,
) -> TypedQuery<R> {
    let mut builder = builder
        .manager(&StreamingQueryManager::new())
        .checkpoint_location(checkpoint)
        .clock(ManualClock::new(CLOCK_MS))
        .parallelism(1)
        .shuffle_partitions(SHUFFLE_PARTITIONS);
    if let Some(batch) = fail_before_commit {
        builder = builder.inject_fault(FaultPoint::BeforeCommit, batch);
    }
    builder.start().expect("the query starts")
}

/// Adds each of `batches` (NDJSON) to `input` as one batch and runs the query until it
/// has processed it (and the batch without input that a moved watermark runs).
fn feed<R>(
    rt: &tokio::runtime::Runtime,
    query: &TypedQuery<R>,
    input: &MemoryStream,
    batches: &[String],
) -> Result<(), std::sync::Arc<StreamError>> {
    for batch in batches {
        input.add_json(batch).expect("the input decodes");
        rt.block_on(query.process_all_available())?;
    }
    Ok(())
}

/// The batch id of a canonical emitted row (see [`tests::emitted`]).
fn batch_of(row: &str) -> u64 {
    serde_json::from_str::<Value>(row).expect("a JSON row")["_batch"]
        .as_u64()
        .expect("a batch id")
}

/// The facts of a batch two runs of one query must agree on: (batch id, input rows,
/// watermark, rows written, per state operator (name, rows in the state, rows dropped as
/// late)).
type Facts = (u64, u64, String, i64, Vec<(String, u64, u64)>);

fn facts(progress: &[StreamingQueryProgress]) -> Vec<Facts> {
    progress
        .iter()
        .map(|p| {
            (
                p.batch_id,
                p.num_input_rows,
                p.event_time.get("watermark").cloned().unwrap_or_default(),
                p.sink.num_output_rows,
                p.state_operators
                    .iter()
                    .map(|s| {
                        (
                            s.operator_name.clone(),
                            s.metrics.num_rows_total,
                            s.metrics.num_rows_dropped_by_watermark,
                        )
                    })
                    .collect(),
            )
        })
        .collect()
}

// ---- the fixture files -------------------------------------------------------------

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/checkpoints")
}

/// What `fixture.json` says.
#[derive(Debug)]
struct Manifest {
    written_by: String,
    input_files_before_stop: usize,
    committed_batches: u64,
    uncommitted_batch: Option<u64>,
}

fn read_manifest(dir: &Path) -> Manifest {
    let path = dir.join("fixture.json");
    let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let v: Value = serde_json::from_str(&text).expect("fixture.json is JSON");
    Manifest {
        written_by: v["writtenBy"].as_str().expect("writtenBy").to_string(),
        input_files_before_stop: v["inputFilesBeforeStop"].as_u64().expect("count") as usize,
        committed_batches: v["committedBatches"].as_u64().expect("committedBatches"),
        uncommitted_batch: v["uncommittedBatch"].as_u64(),
    }
}

/// The input files of a fixture, in order, as NDJSON texts.
fn read_input(dir: &Path) -> Vec<String> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir.join("input"))
        .expect("the fixture's input folder")
        .map(|e| e.expect("an entry").path())
        .collect();
    files.sort();
    files
        .iter()
        .map(|f| fs::read_to_string(f).expect("an input file"))
        .collect()
}

/// The rows of every input file, each with its file's index.
fn input_rows(input: &[String]) -> Vec<(usize, Value)> {
    input
        .iter()
        .enumerate()
        .flat_map(|(i, text)| {
            text.lines()
                .filter(|l| !l.trim().is_empty())
                .map(move |l| (i, serde_json::from_str(l).expect("a JSON input row")))
        })
        .collect()
}

/// The batch ids of a checkpoint's `offsets/` or `commits/` log.
fn log_ids(dir: &Path) -> BTreeSet<u64> {
    fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.expect("an entry").file_name().to_str()?.parse().ok())
        .collect()
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).expect("create the copy");
    for entry in fs::read_dir(from).expect("read the fixture") {
        let entry = entry.expect("an entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("a file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).expect("copy a fixture file");
        }
    }
}

/// `ms` (within 2024-01-01, UTC) as `2024-01-01THH:MM:SS.mmmZ`, the canonical form of
/// emitted timestamps.
fn iso(ms: i64) -> String {
    let d = ms - BASE_MS;
    assert!((0..86_400_000).contains(&d), "{ms} is not on 2024-01-01");
    format!(
        "2024-01-01T{:02}:{:02}:{:02}.{:03}Z",
        d / 3_600_000,
        d / 60_000 % 60,
        d / 1_000 % 60,
        d % 1_000
    )
}

/// The inverse of [`iso`].
fn ms_of(value: &Value) -> i64 {
    let text = value.as_str().expect("a timestamp text");
    let t = text
        .strip_prefix("2024-01-01T")
        .and_then(|t| t.strip_suffix('Z'))
        .unwrap_or_else(|| panic!("{text} is not on 2024-01-01"));
    let (hms, millis) = t.split_once('.').unwrap_or((t, "0"));
    let parts: Vec<i64> = hms
        .split(':')
        .map(|p| p.parse().expect("a number"))
        .collect();
    let millis: i64 = format!("{millis:0<3}")[..3].parse().expect("millis");
    BASE_MS + ((parts[0] * 60 + parts[1]) * 60 + parts[2]) * 1_000 + millis
}

// ---- a resume ----------------------------------------------------------------------

/// What resuming a fixture gave, beside an uninterrupted run of the same query.
struct Resume {
    manifest: Manifest,
    input: Vec<String>,
    /// The rows the fixture's run wrote (`emitted.jsonl`).
    before: Vec<String>,
    /// The rows written after the restart, with their batch ids.
    after: Vec<String>,
    /// The rows of one run over the whole input on a fresh checkpoint.
    uninterrupted: Vec<String>,
    after_progress: Vec<StreamingQueryProgress>,
    uninterrupted_progress: Vec<StreamingQueryProgress>,
}

/// Resumes fixture `name` with the query `make`, and runs the same query over the whole
/// input uninterrupted; checks what every fixture must satisfy.
fn resume<R: TypedRow>(
    name: &str,
    new_input: fn() -> MemoryStream,
    make: fn(&MemoryStream, &str) -> QueryBuilder<R>,
) -> Resume {
    let dir = fixtures_dir().join(name);
    let manifest = read_manifest(&dir);
    let input = read_input(&dir);
    let before: Vec<String> = fs::read_to_string(dir.join("emitted.jsonl"))
        .expect("the fixture's emitted rows")
        .lines()
        .map(str::to_string)
        .collect();
    assert!(
        manifest.input_files_before_stop < input.len(),
        "the fixture must leave input to read after the restart"
    );

    // the checkpoint is what the manifest says: batches 0..committed with their commits,
    // and at most one logged but uncommitted batch after them
    let checkpoint = dir.join("checkpoint");
    let offsets = log_ids(&checkpoint.join("offsets"));
    let commits = log_ids(&checkpoint.join("commits"));
    let committed: BTreeSet<u64> = (0..manifest.committed_batches).collect();
    assert!(manifest.committed_batches >= 2, "{manifest:?}");
    assert_eq!(commits, committed, "{name}: commits/");
    let mut logged = committed.clone();
    logged.extend(manifest.uncommitted_batch);
    assert_eq!(offsets, logged, "{name}: offsets/");
    if let Some(n) = manifest.uncommitted_batch {
        assert_eq!(n, manifest.committed_batches);
    }
    assert!(checkpoint.join("state").is_dir(), "{name}: no state/");
    assert!(
        before
            .iter()
            .all(|r| batch_of(r) < manifest.committed_batches),
        "{name}: emitted.jsonl holds rows of an uncommitted batch"
    );

    let rt = runtime();

    // one run over the whole input, on a fresh checkpoint
    let fresh = tempfile::tempdir().unwrap();
    let whole_table = format!("checkpoint_fixture_{name}_uninterrupted");
    let stream = new_input();
    let query = start(make(&stream, &whole_table), fresh.path(), None);
    feed(&rt, &query, &stream, &input).expect("the uninterrupted run");
    rt.block_on(query.stop());
    let uninterrupted = emitted(&whole_table);
    let uninterrupted_progress = query.recent_progress();
    MemorySink::new(&whole_table).table().clear();

    // the fixture, copied: the input it had read is added again before the start
    let copy = tempfile::tempdir().unwrap();
    copy_dir(&checkpoint, copy.path());
    let table = format!("checkpoint_fixture_{name}_resumed");
    let stream = new_input();
    for batch in &input[..manifest.input_files_before_stop] {
        stream.add_json(batch).expect("the input decodes");
    }
    let query = start(make(&stream, &table), copy.path(), None);
    // a logged batch without its commit runs again first
    rt.block_on(query.process_all_available())
        .expect("the fixture's query resumes");
    feed(
        &rt,
        &query,
        &stream,
        &input[manifest.input_files_before_stop..],
    )
    .expect("the resumed query runs to the end of the input");
    rt.block_on(query.stop());
    let after = emitted(&table);
    let after_progress = query.recent_progress();
    MemorySink::new(&table).table().clear();

    let resume = Resume {
        manifest,
        input,
        before,
        after,
        uninterrupted,
        after_progress,
        uninterrupted_progress,
    };
    resume.check(name);
    resume
}

impl Resume {
    /// The checks every fixture shares.
    fn check(&self, name: &str) {
        // the batch ids go on from the fixture's: its uncommitted batch first, if any
        let first = self
            .after_progress
            .first()
            .expect("batches after the restart");
        assert_eq!(
            first.batch_id, self.manifest.committed_batches,
            "{name}: the first batch after the restart"
        );
        let ids: Vec<u64> = self.after_progress.iter().map(|p| p.batch_id).collect();
        let expected_ids: Vec<u64> = (first.batch_id..first.batch_id + ids.len() as u64).collect();
        assert_eq!(ids, expected_ids, "{name}");
        if let Some(n) = self.manifest.uncommitted_batch {
            // the re-run batch read exactly the input file it had logged
            assert_eq!(first.batch_id, n);
            let logged = &self.input[self.manifest.input_files_before_stop - 1];
            assert_eq!(
                first.num_input_rows,
                logged.lines().count() as u64,
                "{name}: the re-run batch"
            );
        }
        assert!(
            self.after
                .iter()
                .all(|r| batch_of(r) >= self.manifest.committed_batches),
            "{name}: a row of a committed batch was written again"
        );

        // before + after = one uninterrupted run, in the same batches
        let mut joined: Vec<String> = self.before.iter().chain(&self.after).cloned().collect();
        joined.sort();
        assert_eq!(
            joined, self.uninterrupted,
            "{name}: the rows before and after the restart differ from one run's"
        );
        assert!(!self.before.is_empty(), "{name}: the fixture wrote no rows");
        assert!(
            !self.after.is_empty(),
            "{name}: nothing written after the restart"
        );

        // the batches after the restart have the numbers of the same batches of one
        // run: the same rows in the state and dropped as late
        let whole = facts(&self.uninterrupted_progress);
        let tail: Vec<Facts> = whole
            .into_iter()
            .filter(|f| f.0 >= self.manifest.committed_batches)
            .collect();
        assert_eq!(facts(&self.after_progress), tail, "{name}: progress");
    }

    /// The emitted rows before and after the restart, without batch ids.
    fn rows(&self) -> Vec<Value> {
        self.before
            .iter()
            .chain(&self.after)
            .map(|r| without_batch(r))
            .collect()
    }

    /// The rows written after the restart, without batch ids.
    fn rows_after(&self) -> Vec<Value> {
        self.after.iter().map(|r| without_batch(r)).collect()
    }

    /// The input files whose batches the fixture committed: rows in them are in its
    /// state (the file of an uncommitted batch is read again after the restart).
    fn files_in_state(&self) -> usize {
        self.manifest.input_files_before_stop
            - usize::from(self.manifest.uncommitted_batch.is_some())
    }

    /// Rows dropped as late, over the batches after the restart.
    fn dropped_after(&self) -> u64 {
        self.after_progress
            .iter()
            .flat_map(|p| &p.state_operators)
            .map(|s| s.metrics.num_rows_dropped_by_watermark)
            .sum()
    }
}

/// A canonical emitted row without its batch id.
fn without_batch(row: &str) -> Value {
    let mut v: Value = serde_json::from_str(row).expect("a JSON row");
    v.as_object_mut().expect("an object").remove("_batch");
    v
}

/// Per input file, the watermark its rows are dropped against: the newest event time of
/// the files before it minus `delay` (a file's batch runs with the watermark the batches
/// before it left; none before the first event).
fn late_watermarks(rows: &[(usize, i64)], files: usize, delay: i64) -> Vec<i64> {
    (0..files)
        .map(|f| {
            rows.iter()
                .filter(|(i, _)| *i < f)
                .map(|(_, t)| t - delay)
                .max()
                .unwrap_or(i64::MIN)
        })
        .collect()
}

// ---- the tests ---------------------------------------------------------------------

#[test]
fn a_tumbling_window_count_resumes_from_a_checkpoint_of_an_older_build() {
    let r = resume("window_count", MemoryStream::of::<Sale>, window_count);
    let rows = input_rows(&r.input);
    let times: Vec<(usize, i64)> = rows.iter().map(|(i, v)| (*i, ms_of(&v["ts"]))).collect();
    let late = late_watermarks(&times, r.input.len(), WINDOW_DELAY_MS);
    let stop = r.manifest.input_files_before_stop;
    let in_state = r.files_in_state();

    // counts per (window start, country), of the rows that are not late
    let mut counts: BTreeMap<(i64, String), (i64, BTreeSet<usize>)> = BTreeMap::new();
    let mut dropped_after = 0;
    for ((file, v), (_, t)) in rows.iter().zip(&times) {
        if *t <= late[*file] {
            assert!(
                *file >= stop,
                "the fixtures drop late rows after the restart"
            );
            dropped_after += 1;
            continue;
        }
        let start = t.div_euclid(WINDOW_MS) * WINDOW_MS;
        let key = (start, v["country"].as_str().unwrap().to_string());
        let entry = counts.entry(key).or_default();
        entry.0 += 1;
        entry.1.insert(*file);
    }
    // append mode writes the windows the last watermark closed, each once
    let watermark = times.iter().map(|t| t.1).max().unwrap() - WINDOW_DELAY_MS;
    let expected: Vec<(i64, String, i64)> = counts
        .iter()
        .filter(|((start, _), _)| start + WINDOW_MS <= watermark)
        .map(|((start, country), (n, _))| (*start, country.clone(), *n))
        .collect();
    let window = |v: &Value| {
        let start = ms_of(&v["window_start"]);
        assert_eq!(ms_of(&v["window_end"]), start + WINDOW_MS);
        (
            start,
            v["country"].as_str().unwrap().to_string(),
            v["n"].as_i64().unwrap(),
        )
    };
    let mut written: Vec<(i64, String, i64)> = r.rows().iter().map(window).collect();
    written.sort();
    assert_eq!(written, expected);
    assert!(expected.len() >= 10, "{} windows", expected.len());

    // the state was loaded: windows with rows before and after the stop have their
    // full count, written after the restart
    let spanning: Vec<&(i64, String)> = counts
        .iter()
        .filter(|(_, (_, files))| {
            files.iter().any(|&f| f < in_state) && files.iter().any(|&f| f >= in_state)
        })
        .map(|(k, _)| k)
        .collect();
    assert!(!spanning.is_empty(), "no window spans the stop");
    let after: Vec<(i64, String, i64)> = r.rows_after().iter().map(window).collect();
    for key in spanning {
        let n = counts[key].0;
        assert!(
            after.contains(&(key.0, key.1.clone(), n)),
            "window {key:?} after the restart: want count {n}, got {after:?}"
        );
    }
    // and the watermark: the late row after the stop was dropped
    assert!(dropped_after >= 1);
    assert_eq!(r.dropped_after(), dropped_after);
}

#[test]
fn a_drop_duplicates_resumes_from_a_checkpoint_of_an_older_build() {
    let r = resume("dedup", MemoryStream::of::<Login>, dedup);
    let rows = input_rows(&r.input);
    let times: Vec<(usize, i64)> = rows.iter().map(|(i, v)| (*i, ms_of(&v["ts"]))).collect();
    let late = late_watermarks(&times, r.input.len(), DEDUP_DELAY_MS);
    let stop = r.manifest.input_files_before_stop;
    let in_state = r.files_in_state();

    // each (user, ts) once, the first time it comes; late rows not at all
    let mut seen: BTreeMap<(String, i64), usize> = BTreeMap::new();
    let mut expected: Vec<Value> = Vec::new();
    let mut duplicates_of_rows_before_the_stop = 0;
    let mut dropped_after = 0;
    for ((file, v), (_, t)) in rows.iter().zip(&times) {
        if *t <= late[*file] {
            assert!(*file >= stop);
            dropped_after += 1;
            continue;
        }
        let key = (v["user"].as_str().unwrap().to_string(), *t);
        match seen.get(&key) {
            Some(&first) => {
                if first < in_state && *file >= in_state {
                    duplicates_of_rows_before_the_stop += 1;
                }
            }
            None => {
                seen.insert(key, *file);
                expected.push(v.clone());
            }
        }
    }
    let canonical = |v: &Value| tests::canonical_json(&v.to_string());
    let mut expected: Vec<String> = expected.iter().map(canonical).collect();
    expected.sort();
    let mut written: Vec<String> = r.rows().iter().map(canonical).collect();
    written.sort();
    assert_eq!(written, expected, "each key once");
    assert!(expected.len() >= 20, "{} rows", expected.len());

    // the state was loaded: rows read again after the restart that the fixture's run
    // had passed are dropped as duplicates
    assert!(duplicates_of_rows_before_the_stop >= 2);
    for v in r.rows_after() {
        let key = (v["user"].as_str().unwrap().to_string(), ms_of(&v["ts"]));
        assert!(seen[&key] >= in_state, "{v} was passed before the stop too");
    }
    assert!(dropped_after >= 1);
    assert_eq!(r.dropped_after(), dropped_after);
}

/// The builds that wrote this fixture named a session window's columns `session_start`
/// and `session_end`; this one writes Spark's `session_window_start` and
/// `session_window_end`. A sink must not get rows with other columns in the middle of a
/// stream, so the checkpoint is refused, with a message that names the rename and what
/// to do, and nothing in it is changed; its state still reads.
#[test]
fn a_session_window_checkpoint_of_an_older_build_is_refused_for_its_renamed_columns() {
    let dir = fixtures_dir().join("session_window");
    let manifest = read_manifest(&dir);
    let copy = tempfile::tempdir().unwrap();
    copy_dir(&dir.join("checkpoint"), copy.path());
    let before = tests::files_under(copy.path());
    let input = MemoryStream::of::<Click>();
    let started = session_window(&input, "checkpoint_fixture_session_window_refused")
        .manager(&StreamingQueryManager::new())
        .checkpoint_location(copy.path())
        .start();
    let Err(err) = started else {
        panic!("an old session window checkpoint is refused");
    };
    let message = err.to_string();
    for part in [
        "session_start",
        "session_window_start",
        "as Spark names them",
        "a new checkpoint and a new output location",
    ] {
        assert!(message.contains(part), "{part:?} not in {message}");
    }
    assert_eq!(
        tests::files_under(copy.path()),
        before,
        "the refused checkpoint is unchanged"
    );

    // the state of its last committed batch reads, with the key it was written with
    let state = stream_core::state::read(copy.path(), "0", manifest.committed_batches - 1)
        .expect("the old session state reads");
    assert!(state.num_rows() > 0);
    let key = arrow_array::cast::AsArray::as_struct(state.column(0));
    let names: Vec<&str> = key.fields().iter().map(|f| f.name().as_str()).collect();
    assert!(names.contains(&"session_start"), "{names:?}");
}

#[test]
fn a_join_of_two_streams_resumes_from_a_checkpoint_of_an_older_build() {
    let r = resume("stream_join", MemoryStream::of::<AdEvent>, stream_join);
    let rows = input_rows(&r.input);
    let stop = r.manifest.input_files_before_stop;
    let in_state = r.files_in_state();
    // per side: (file, ms) of its rows; the join's watermark is the smaller of the two
    let side = |kind: &str| -> Vec<(usize, i64)> {
        rows.iter()
            .filter(|(_, v)| v["kind"] == kind)
            .map(|(i, v)| (*i, ms_of(&v["at"])))
            .collect()
    };
    let files = r.input.len();
    let imp_late = late_watermarks(&side("imp"), files, JOIN_DELAY_MS);
    let click_late = late_watermarks(&side("click"), files, JOIN_DELAY_MS);
    let late: Vec<i64> = (0..files).map(|f| imp_late[f].min(click_late[f])).collect();

    // the inner join of the rows that are not late: equal ads, at most 30 s apart
    type Row = (usize, i64, i64, String); // file, ad, ms, name
    let (mut imps, mut clicks): (Vec<Row>, Vec<Row>) = (Vec::new(), Vec::new());
    let mut dropped_after = 0;
    for (file, v) in &rows {
        let t = ms_of(&v["at"]);
        if t <= late[*file] {
            assert!(*file >= stop);
            dropped_after += 1;
            continue;
        }
        let row = (
            *file,
            v["ad"].as_i64().unwrap(),
            t,
            v["name"].as_str().unwrap().to_string(),
        );
        match v["kind"].as_str().unwrap() {
            "imp" => imps.push(row),
            _ => clicks.push(row),
        }
    }
    let mut pairs = Vec::new();
    let mut spanning = Vec::new();
    for i in &imps {
        for c in &clicks {
            if i.1 == c.1 && (i.2 - c.2).abs() <= JOIN_WITHIN_MS {
                pairs.push((i.3.clone(), c.3.clone()));
                if (i.0 < in_state) != (c.0 < in_state) {
                    spanning.push((i.3.clone(), c.3.clone()));
                }
            }
        }
    }
    pairs.sort();
    let pair = |v: &Value| {
        (
            v["shown"].as_str().unwrap().to_string(),
            v["clicked"].as_str().unwrap().to_string(),
        )
    };
    let mut written: Vec<(String, String)> = r.rows().iter().map(pair).collect();
    written.sort();
    assert_eq!(written, pairs, "each pair once");
    assert!(pairs.len() >= 10, "{} pairs", pairs.len());

    // the state was loaded: rows read after the restart meet rows buffered before it
    assert!(spanning.len() >= 2, "{spanning:?}");
    let after: Vec<(String, String)> = r.rows_after().iter().map(pair).collect();
    for p in &spanning {
        assert!(after.contains(p), "{p:?} after the restart: {after:?}");
    }
    assert!(dropped_after >= 1);
    assert_eq!(r.dropped_after(), dropped_after);
}

#[test]
fn the_fixtures_name_the_one_commit_that_wrote_them() {
    let mut commits = HashSet::new();
    for name in ["window_count", "dedup", "session_window", "stream_join"] {
        let manifest = read_manifest(&fixtures_dir().join(name));
        assert_eq!(manifest.written_by.len(), 40, "{name}: {manifest:?}");
        assert!(manifest.written_by.chars().all(|c| c.is_ascii_hexdigit()));
        commits.insert(manifest.written_by);
    }
    assert_eq!(commits.len(), 1, "{commits:?}");
}

// ---- the generator -----------------------------------------------------------------

/// A small xorshift generator: the fixtures' input is the same on every run.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> i64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n) as i64
    }
}

/// `files` files of `per_file` nearly ordered event times: each step moves the newest
/// time on by up to `step_s` seconds; an event is up to `back_s` seconds (less than the
/// query's delay) behind the newest, so none is late. Times are whole milliseconds.
fn timeline(
    rng: &mut Rng,
    files: usize,
    per_file: usize,
    step_s: u64,
    back_s: u64,
) -> Vec<Vec<i64>> {
    let mut now = BASE_MS + 30_000;
    (0..files)
        .map(|_| {
            (0..per_file)
                .map(|_| {
                    now += rng.below(step_s * 1_000);
                    (now - rng.below(back_s * 1_000)).max(BASE_MS + 1_000)
                })
                .collect()
        })
        .collect()
}

fn ndjson(rows: &[Value]) -> String {
    rows.iter().map(|r| format!("{r}\n")).collect()
}

/// The newest time of `files[..n]`.
fn newest(files: &[Vec<i64>], n: usize) -> i64 {
    files[..n].iter().flatten().copied().max().unwrap()
}

/// Sales in 8 files; file `stop` also holds a sale 5 s into the first window, long
/// closed by then (late).
fn window_count_input(stop: usize) -> Vec<String> {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let times = timeline(&mut rng, 8, 12, 10, 40);
    assert!(BASE_MS + 5_000 + WINDOW_MS <= newest(&times, stop) - WINDOW_DELAY_MS);
    times
        .iter()
        .enumerate()
        .map(|(i, file)| {
            let mut rows: Vec<Value> = file
                .iter()
                .map(|&t| json!({"ts": iso(t), "country": (["DE", "FR", "US"][rng.below(3) as usize])}))
                .collect();
            if i == stop {
                rows.insert(2, json!({"ts": iso(BASE_MS + 5_000), "country": "DE"}));
            }
            ndjson(&rows)
        })
        .collect()
}

/// Logins in 6 files, each with some of the previous file's logins again (and one of its
/// own); file `stop` also holds a new login long before the watermark (late).
fn dedup_input(stop: usize) -> Vec<String> {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let times = timeline(&mut rng, 6, 8, 10, 20);
    assert!(BASE_MS + 2_000 + 30_000 <= newest(&times, stop) - DEDUP_DELAY_MS);
    let mut keys = HashSet::new();
    let mut previous: Vec<Value> = Vec::new();
    let mut files = Vec::new();
    for (i, file) in times.iter().enumerate() {
        let mut rows: Vec<Value> = Vec::new();
        for &t in file {
            let user = format!("u{}", rng.below(4));
            if keys.insert((user.clone(), t)) {
                rows.push(
                    json!({"ts": iso(t), "user": user, "device": format!("d{}", rng.below(3))}),
                );
            }
        }
        let own = rows[rng.below(rows.len() as u64) as usize].clone();
        // again, from the previous file: only rows the watermark has not passed
        let newest = newest(&times, i + 1);
        let candidates: Vec<&Value> = previous
            .iter()
            .filter(|v| ms_of(&v["ts"]) > newest - DEDUP_DELAY_MS + 5_000)
            .collect();
        for _ in 0..3.min(candidates.len()) {
            rows.push(candidates[rng.below(candidates.len() as u64) as usize].clone());
        }
        rows.push(own);
        if i == stop {
            rows.insert(
                1,
                json!({"ts": iso(BASE_MS + 2_000), "user": "u9", "device": "d0"}),
            );
        }
        previous = rows.clone();
        files.push(ndjson(&rows));
    }
    files
}

/// Clicks of 3 users in 8 files; file `stop` also holds a click long before the
/// watermark (late).
fn session_window_input(stop: usize) -> Vec<String> {
    let mut rng = Rng(0xd1b5_4a32_d192_ed03);
    let times = timeline(&mut rng, 8, 10, 20, 40);
    assert!(BASE_MS + 3_000 + SESSION_GAP_MS <= newest(&times, stop) - SESSION_DELAY_MS);
    times
        .iter()
        .enumerate()
        .map(|(i, file)| {
            let mut rows: Vec<Value> = file
                .iter()
                .map(|&t| json!({"ts": iso(t), "user": format!("u{}", rng.below(3))}))
                .collect();
            if i == stop {
                rows.insert(3, json!({"ts": iso(BASE_MS + 3_000), "user": "u1"}));
            }
            ndjson(&rows)
        })
        .collect()
}

/// Impressions of 5 ads and clicks on one of the last 4 ads shown, in 6 files; file
/// `stop` also holds a click long before the watermark (late).
fn stream_join_input(stop: usize) -> Vec<String> {
    let mut rng = Rng(0x94d0_49bb_1331_11eb);
    let times = timeline(&mut rng, 6, 12, 6, 5);
    assert!(BASE_MS + 1_000 + JOIN_WITHIN_MS <= newest(&times, stop) - JOIN_DELAY_MS);
    let mut shown: Vec<i64> = Vec::new();
    let mut clicks = 0;
    times
        .iter()
        .enumerate()
        .map(|(i, file)| {
            let mut rows: Vec<Value> = file
                .iter()
                .map(|&t| {
                    // the first row is an impression, so both sides start in batch 0
                    if shown.is_empty() || rng.below(2) == 0 {
                        shown.push(1 + rng.below(5));
                        json!({"kind": "imp", "ad": shown[shown.len() - 1], "name": format!("i{}", shown.len()), "at": iso(t)})
                    } else {
                        clicks += 1;
                        let back = rng.below(shown.len().min(4) as u64) as usize;
                        let ad = shown[shown.len() - 1 - back];
                        json!({"kind": "click", "ad": ad, "name": format!("c{clicks}"), "at": iso(t)})
                    }
                })
                .collect();
            if i == stop {
                rows.insert(
                    2,
                    json!({"kind": "click", "ad": 1, "name": "c_late", "at": iso(BASE_MS + 1_000)}),
                );
            }
            ndjson(&rows)
        })
        .collect()
}

/// The commit of the code being run; refuses to go on if the engine or the macro have
/// changes not committed (the fixtures must record a commit's format).
fn code_commit() -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let git = |args: &[&str]| {
        let out = std::process::Command::new("git")
            .arg("-C")
            .arg(&root)
            .args(args)
            .output()
            .expect("run git");
        assert!(out.status.success(), "git {args:?} failed");
        String::from_utf8(out.stdout)
            .expect("utf8")
            .trim()
            .to_string()
    };
    let dirty = git(&[
        "status",
        "--porcelain",
        "--",
        "stream-core",
        "stream-macros",
        "Cargo.lock",
    ]);
    assert!(
        dirty.is_empty(),
        "the fixtures must be written by committed code; uncommitted changes:\n{dirty}"
    );
    git(&["rev-parse", "HEAD"])
}

/// How a fixture's run ends.
#[derive(Clone, Copy)]
enum Stop {
    /// `stop()` after its last input file's batches.
    Clean,
    /// It dies before the commit of its last input file's batch.
    BeforeCommit,
}

/// Writes fixture `name`: its input (all of it), then the checkpoint of `make` run over
/// the first `before_stop` input files and stopped as `stop` says, the rows it wrote in
/// committed batches, and `fixture.json`.
fn generate<R: TypedRow>(
    name: &str,
    new_input: fn() -> MemoryStream,
    make: fn(&MemoryStream, &str) -> QueryBuilder<R>,
    input: Vec<String>,
    before_stop: usize,
    stop: Stop,
    commit: &str,
) {
    let dir = fixtures_dir().join(name);
    if dir.exists() {
        fs::remove_dir_all(&dir).expect("remove the old fixture");
    }
    fs::create_dir_all(dir.join("input")).expect("create the fixture");
    for (i, text) in input.iter().enumerate() {
        fs::write(dir.join(format!("input/{i:05}.jsonl")), text).expect("write the input");
    }
    let rt = runtime();
    let table = format!("checkpoint_fixture_{name}_generated");
    let stream = new_input();
    let checkpoint = dir.join("checkpoint");
    let uncommitted = match stop {
        Stop::Clean => {
            let query = start(make(&stream, &table), &checkpoint, None);
            feed(&rt, &query, &stream, &input[..before_stop]).expect("the fixture's run");
            rt.block_on(query.stop());
            None
        }
        Stop::BeforeCommit => {
            // the id of the last file's batch: after the batches of the files before it
            let probe = tempfile::tempdir().unwrap();
            let probe_table = format!("checkpoint_fixture_{name}_probe");
            let probe_stream = new_input();
            let query = start(make(&probe_stream, &probe_table), probe.path(), None);
            feed(&rt, &query, &probe_stream, &input[..before_stop - 1]).expect("the probe");
            rt.block_on(query.stop());
            let batch = query.last_progress().map_or(0, |p| p.batch_id + 1);
            MemorySink::new(&probe_table).table().clear();

            let query = start(make(&stream, &table), &checkpoint, Some(batch));
            feed(&rt, &query, &stream, &input[..before_stop - 1]).expect("the fixture's run");
            let error = feed(&rt, &query, &stream, &input[before_stop - 1..before_stop])
                .expect_err("the injected fault");
            assert!(error.to_string().contains("injected"), "{error}");
            Some(batch)
        }
    };
    let commits = log_ids(&checkpoint.join("commits"));
    let committed = commits.last().map_or(0, |c| c + 1);
    assert_eq!(commits, (0..committed).collect());
    assert_eq!(uncommitted.unwrap_or(committed), committed);
    let rows: Vec<String> = emitted(&table)
        .into_iter()
        .filter(|r| batch_of(r) < committed)
        .collect();
    MemorySink::new(&table).table().clear();
    fs::write(
        dir.join("emitted.jsonl"),
        rows.iter().map(|r| format!("{r}\n")).collect::<String>(),
    )
    .expect("write emitted.jsonl");
    let manifest = json!({
        "writtenBy": commit,
        "inputFilesBeforeStop": before_stop,
        "committedBatches": committed,
        "uncommittedBatch": uncommitted,
    });
    fs::write(
        dir.join("fixture.json"),
        serde_json::to_string_pretty(&manifest).unwrap() + "\n",
    )
    .expect("write fixture.json");
}

/// Rewrites `tests/fixtures/checkpoints/` (input, checkpoint, emitted rows, manifest).
///
/// Run it only on the code version whose checkpoint format the fixtures are to record,
/// never to make the tests above pass after a change: then they no longer guard
/// anything. It refuses to run with uncommitted changes in `stream-core`,
/// `stream-macros` or `Cargo.lock`, and records the commit in each `fixture.json`. The
/// fixtures in the repository were written at commit
/// `f3d8651abf775f7137f8bb1ce0fdb52120026d63`.
///
/// `cargo test -p tests --test checkpoint_fixtures -- --ignored regenerate`
#[test]
#[ignore = "rewrites the committed fixtures; run only on the code whose format they record"]
fn regenerate_the_checkpoint_fixtures() {
    let commit = code_commit();
    generate(
        "window_count",
        MemoryStream::of::<Sale>,
        window_count,
        window_count_input(6),
        6,
        Stop::BeforeCommit,
        &commit,
    );
    generate(
        "dedup",
        MemoryStream::of::<Login>,
        dedup,
        dedup_input(2),
        2,
        Stop::Clean,
        &commit,
    );
    generate(
        "session_window",
        MemoryStream::of::<Click>,
        session_window,
        session_window_input(3),
        3,
        Stop::Clean,
        &commit,
    );
    generate(
        "stream_join",
        MemoryStream::of::<AdEvent>,
        stream_join,
        stream_join_input(3),
        3,
        Stop::BeforeCommit,
        &commit,
    );
}
