//! The file source's log in the checkpoint (`sources/<i>/`): compacted every
//! `compact_interval` entries into `<n>.compact`, older entries deleted once no batch
//! or cleanup needs them; a checkpoint written before compaction existed (one file per
//! entry) resumes and compacts from then on.
//!
//! **The fixture.** `tests/fixtures/checkpoints/file_source/checkpoint/` is the
//! checkpoint of a query (a JSON file source taking one file a batch, into a memory
//! table) written by the build of the commit named in `fixture.json`, before the log
//! was compacted: 25 files landed, batches 0 to 23 committed, batch 24 planned
//! (`offsets/24`, `sources/0/24`) and run into the sink, and the process died before
//! `commits/24`. The input is made here: file `f<i>.json` holds the rows `{"id": 2i}`
//! and `{"id": 2i + 1}`, with modification time `mtime_ms(i)`. The log records each
//! file by absolute path, so the test copies the checkpoint and puts the landing
//! folder of the copy in place of the generation's (`fixture.json`'s `landing`) in
//! the lines of `sources/0/*`; nothing else is changed. Regenerate only on the code
//! whose format it is to record:
//! `FIXTURE_COMMIT=<commit> cargo test -p tests --test file_source_log -- --ignored regenerate`.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_schema::{DataType, Field, Schema, SchemaRef};
use serde_json::{Value, json};
use stream_core::{
    FaultPoint, FileSource, ManualClock, MapPipeline, MemorySink, QueryBuilder, StreamingQuery,
    StreamingQueryManager, Trigger,
};
use tests::files::{land, mtime_ms};
use tests::{memory_table_rows, runtime};

/// The files the fixture's run had landed when it died.
const FIXTURE_FILES: u64 = 25;
/// The batch the fixture's run left without `commits/N`.
const FIXTURE_UNCOMMITTED: u64 = 24;

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/checkpoints/file_source")
}

fn id_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![Field::new("id", DataType::Int64, true)]))
}

/// Lands file `i` of the input: `{"id": 2i}` and `{"id": 2i + 1}`.
fn land_file(landing: &Path, i: u64) -> PathBuf {
    let text = format!("{{\"id\":{}}}\n{{\"id\":{}}}\n", 2 * i, 2 * i + 1);
    land(landing, &format!("f{i:05}.json"), text, i)
}

/// The rows of files `from..to`, in order.
fn rows_of(files: std::ops::Range<u64>) -> Vec<String> {
    files
        .flat_map(|i| [2 * i, 2 * i + 1])
        .map(|id| format!("{{\"id\":{id}}}"))
        .collect()
}

/// The fixture's query: one file a batch, `available_now`, on a manual clock.
fn fixture_query(landing: &Path, checkpoint: &Path, table: &str) -> QueryBuilder {
    StreamingQuery::builder()
        .manager(&StreamingQueryManager::new())
        .source(FileSource::json(landing, id_schema()).max_files_per_trigger(1))
        .pipeline(MapPipeline::identity(id_schema()))
        .sink(MemorySink::new(table))
        .trigger(Trigger::AvailableNow)
        .clock(ManualClock::new(mtime_ms(1_000)))
        .checkpoint_location(checkpoint)
}

/// Copies `from` into `to`, folder by folder.
fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// The names in the folder `dir`, sorted.
fn names(dir: &Path) -> BTreeSet<String> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

#[test]
#[ignore = "writes the fixture; run only on the code whose format it records"]
fn regenerate_the_file_source_fixture() {
    let commit = std::env::var("FIXTURE_COMMIT").expect("FIXTURE_COMMIT: the commit being run");
    let root = tempfile::tempdir().unwrap();
    let landing = root.path().join("landing");
    let checkpoint = root.path().join("checkpoint");
    for i in 0..FIXTURE_FILES {
        land_file(&landing, i);
    }
    let table = "file_source_log_fixture_generation";
    let rt = runtime();
    let query = fixture_query(&landing, &checkpoint, table)
        .inject_fault(FaultPoint::BeforeCommit, FIXTURE_UNCOMMITTED)
        .start()
        .unwrap();
    assert!(
        rt.block_on(query.await_termination()).is_err(),
        "the fault stops it"
    );
    assert!(
        checkpoint
            .join(format!("offsets/{FIXTURE_UNCOMMITTED}"))
            .exists()
    );
    assert!(
        !checkpoint
            .join(format!("commits/{FIXTURE_UNCOMMITTED}"))
            .exists()
    );
    assert_eq!(memory_table_rows(table), rows_of(0..FIXTURE_FILES));
    let out = fixture_dir();
    if out.exists() {
        fs::remove_dir_all(&out).unwrap();
    }
    copy_dir(&checkpoint, &out.join("checkpoint"));
    let manifest = json!({
        "writtenBy": commit,
        "landing": landing.to_str().unwrap(),
        "filesBeforeStop": FIXTURE_FILES,
        "committedBatches": FIXTURE_UNCOMMITTED,
        "uncommittedBatch": FIXTURE_UNCOMMITTED,
    });
    fs::write(
        out.join("fixture.json"),
        serde_json::to_string_pretty(&manifest).unwrap() + "\n",
    )
    .unwrap();
}

/// The fixture's checkpoint copied to `checkpoint`, its log pointed at `landing`, and
/// its input landed there.
fn restore_fixture(landing: &Path, checkpoint: &Path) {
    let manifest: Value =
        serde_json::from_str(&fs::read_to_string(fixture_dir().join("fixture.json")).unwrap())
            .unwrap();
    let old = manifest["landing"].as_str().unwrap();
    assert_eq!(manifest["filesBeforeStop"], json!(FIXTURE_FILES));
    copy_dir(&fixture_dir().join("checkpoint"), checkpoint);
    let log = checkpoint.join("sources/0");
    for name in names(&log) {
        let path = log.join(&name);
        let text = fs::read_to_string(&path).unwrap();
        let moved = text.replace(
            &format!("\"path\":\"{old}/"),
            &format!("\"path\":\"{}/", landing.display()),
        );
        if name != "0" || !text.is_empty() {
            assert_ne!(
                moved, text,
                "{name} names no file of the old landing folder"
            );
        }
        fs::write(&path, moved).unwrap();
    }
    for i in 0..FIXTURE_FILES {
        land_file(landing, i);
    }
}

#[test]
fn a_checkpoint_of_one_file_per_entry_resumes_and_compacts_from_then_on() {
    let root = tempfile::tempdir().unwrap();
    let landing = root.path().join("landing");
    let checkpoint = root.path().join("checkpoint");
    restore_fixture(&landing, &checkpoint);
    let log = checkpoint.join("sources/0");
    let before = names(&log);
    assert_eq!(
        before,
        (0..=FIXTURE_UNCOMMITTED).map(|i| i.to_string()).collect(),
        "the fixture holds one file per entry"
    );
    // 35 more files: the restart re-runs batch 24, then takes one file a batch
    let total = 60;
    for i in FIXTURE_FILES..total {
        land_file(&landing, i);
    }
    let table = "file_source_log_fixture_resume";
    let rt = runtime();
    let query = fixture_query(&landing, &checkpoint, table).start().unwrap();
    rt.block_on(query.await_termination()).unwrap();
    assert_eq!(
        memory_table_rows(table),
        rows_of(FIXTURE_UNCOMMITTED..total),
        "the uncommitted batch once more, then every new file once, in order"
    );
    assert!(checkpoint.join(format!("commits/{}", total - 1)).exists());
    // entries 0..=59 with the default interval of 10: compacts at 29, 39, 49, 59; the
    // newest holds them all and everything before it is gone
    assert_eq!(
        names(&log),
        BTreeSet::from(["59.compact".to_string()]),
        "one compact, every older entry deleted"
    );
    let compact = fs::read_to_string(log.join("59.compact")).unwrap();
    for i in 0..total {
        let file = landing.join(format!("f{i:05}.json"));
        assert!(
            compact.contains(&format!("\"path\":\"{}\"", file.display())),
            "file {i} is in the compact"
        );
    }

    // and a restart after the compaction takes nothing again, then a new file
    land_file(&landing, total);
    let again = "file_source_log_fixture_again";
    let query = fixture_query(&landing, &checkpoint, again).start().unwrap();
    rt.block_on(query.await_termination()).unwrap();
    assert_eq!(memory_table_rows(again), rows_of(total..total + 1));
}

/// A query over `landing` taking one file a batch, compacting every `interval` entries.
fn compacting_query(source: FileSource, checkpoint: &Path, table: &str) -> QueryBuilder {
    StreamingQuery::builder()
        .manager(&StreamingQueryManager::new())
        .source(source)
        .pipeline(MapPipeline::identity(id_schema()))
        .sink(MemorySink::new(table))
        .trigger(Trigger::AvailableNow)
        .clock(ManualClock::new(mtime_ms(100_000)))
        .checkpoint_location(checkpoint)
}

/// Runs `query` once; if `fault` is given it stops there and the query is started
/// again without it, as a restarted process would.
fn run_with_fault(query: impl Fn() -> QueryBuilder, fault: Option<(FaultPoint, u64)>) {
    let rt = runtime();
    if let Some((point, batch)) = fault {
        let crashed = query().inject_fault(point, batch).start().unwrap();
        assert!(
            rt.block_on(crashed.await_termination()).is_err(),
            "the fault at {point} in batch {batch} stops the query"
        );
    }
    let resumed = query().start().unwrap();
    rt.block_on(resumed.await_termination()).unwrap();
}

#[test]
fn compaction_across_crashes_and_restarts_reads_every_file_once_and_stays_bounded() {
    let root = tempfile::tempdir().unwrap();
    let landing = root.path().join("landing");
    let checkpoint = root.path().join("checkpoint");
    fs::create_dir_all(&landing).unwrap();
    let interval = 4;
    let table = "file_source_log_crashes";
    let query = || {
        compacting_query(
            FileSource::json(&landing, id_schema())
                .max_files_per_trigger(1)
                .compact_interval(interval),
            &checkpoint,
            table,
        )
    };
    let log = checkpoint.join("sources/0");
    let per_cycle = 5;
    let cycles = 8;
    let mut most_files = 0;
    for cycle in 0..cycles {
        let first = cycle * per_cycle;
        for i in first..first + per_cycle {
            land_file(&landing, i);
        }
        // a crash in the middle of the cycle's batches, at a compaction batch in some
        // cycles (batch ids are the file numbers)
        let fault = match cycle % 4 {
            0 => Some((FaultPoint::BeforeCommit, first + 2)),
            1 => Some((FaultPoint::AfterOffsetsWrite, first + 2)),
            2 => None,
            _ => Some((
                FaultPoint::BeforeCommit,
                (first + 1) / interval * interval + interval - 1,
            )),
        };
        if let Some((_, batch)) = fault {
            assert!(
                batch < first + per_cycle,
                "the fault falls in the cycle's batches"
            );
        }
        run_with_fault(query, fault);
        assert_eq!(
            memory_table_rows(table),
            rows_of(0..first + per_cycle),
            "cycle {cycle}: every file once, in order"
        );
        let names = names(&log);
        most_files = most_files.max(names.len());
        assert!(
            names.len() as u64 <= interval + 1,
            "cycle {cycle}: the log holds {names:?}"
        );
        let compacts: Vec<&String> = names.iter().filter(|n| n.ends_with(".compact")).collect();
        assert_eq!(compacts.len(), 1, "cycle {cycle}: {names:?}");
    }
    let total = cycles * per_cycle;
    assert!(
        checkpoint.join(format!("commits/{}", total - 1)).exists(),
        "one batch a file"
    );
    assert!(most_files >= 2, "entries after the compact were seen too");
}

#[test]
fn files_forgotten_by_max_file_age_stay_old_when_the_age_is_raised_after_a_restart() {
    let root = tempfile::tempdir().unwrap();
    let landing = root.path().join("landing");
    let checkpoint = root.path().join("checkpoint");
    fs::create_dir_all(&landing).unwrap();
    let table = "file_source_log_forgotten";
    let query = |age_secs: u64| {
        compacting_query(
            FileSource::json(&landing, id_schema())
                .max_files_per_trigger(1)
                .max_file_age(std::time::Duration::from_secs(age_secs))
                .compact_interval(5),
            &checkpoint,
            table,
        )
    };
    // files one second apart, ten seconds of age: the compacts forget the older ones
    for i in 0..30 {
        land_file(&landing, i);
    }
    run_with_fault(|| query(10), None);
    assert_eq!(memory_table_rows(table), rows_of(0..30));
    let log = checkpoint.join("sources/0");
    assert_eq!(names(&log), BTreeSet::from(["29.compact".to_string()]));
    let compact = fs::read_to_string(log.join("29.compact")).unwrap();
    let kept = compact.lines().count() - 2;
    assert!(
        (1..30).contains(&kept),
        "the compact keeps the newer files only: {kept}"
    );
    // a larger age after a restart: the forgotten files are still not new
    land_file(&landing, 30);
    let after = "file_source_log_forgotten_after";
    let rt = runtime();
    let resumed = compacting_query(
        FileSource::json(&landing, id_schema())
            .max_files_per_trigger(1)
            .max_file_age(std::time::Duration::from_secs(3_600)),
        &checkpoint,
        after,
    )
    .start()
    .unwrap();
    rt.block_on(resumed.await_termination()).unwrap();
    assert_eq!(memory_table_rows(after), rows_of(30..31));
}

#[test]
fn clean_source_cleans_the_files_of_a_compaction_batch_rerun_after_a_crash() {
    let root = tempfile::tempdir().unwrap();
    let landing = root.path().join("landing");
    let checkpoint = root.path().join("checkpoint");
    let files: Vec<PathBuf> = (0..6).map(|i| land_file(&landing, i)).collect();
    let table = "file_source_log_clean";
    let query = || {
        compacting_query(
            FileSource::json(&landing, id_schema())
                .max_files_per_trigger(1)
                .compact_interval(2)
                .clean_source(stream_core::CleanSource::Delete),
            &checkpoint,
            table,
        )
    };
    let rt = runtime();
    // batch 3 is a compaction: `sources/0/3.compact`, the sink has the batch, no commit
    let crashed = query()
        .inject_fault(FaultPoint::BeforeCommit, 3)
        .start()
        .unwrap();
    assert!(rt.block_on(crashed.await_termination()).is_err());
    let log = checkpoint.join("sources/0");
    assert!(log.join("3.compact").exists());
    assert!(!log.join("3").exists());
    assert!(!files[2].exists(), "batch 2 was committed and cleaned");
    assert!(files[3].exists(), "batch 3 was not committed");
    let resumed = query().start().unwrap();
    rt.block_on(resumed.await_termination()).unwrap();
    assert_eq!(memory_table_rows(table), rows_of(0..6));
    assert!(
        files.iter().all(|f| !f.exists()),
        "every batch's file cleaned"
    );
    assert_eq!(names(&log), BTreeSet::from(["5.compact".to_string()]));
}

/// Every file under `dir` with its bytes.
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(snapshot(&path));
        } else {
            let bytes = fs::read(&path).unwrap();
            out.push((path, bytes));
        }
    }
    out.sort();
    out
}

#[test]
fn a_damaged_compact_stops_the_start_naming_the_file_and_the_line_and_changes_nothing() {
    let root = tempfile::tempdir().unwrap();
    let landing = root.path().join("landing");
    let checkpoint = root.path().join("checkpoint");
    for i in 0..6 {
        land_file(&landing, i);
    }
    let query = |table: &str| {
        compacting_query(
            FileSource::json(&landing, id_schema())
                .max_files_per_trigger(1)
                .compact_interval(3),
            &checkpoint,
            table,
        )
    };
    run_with_fault(|| query("file_source_log_damaged_first"), None);
    let compact = checkpoint.join("sources/0/5.compact");
    let good = fs::read_to_string(&compact).unwrap();
    land_file(&landing, 6);
    for (damaged, line) in [
        (good.replacen("{\"path\"", "{\"pa", 1), 3),
        (good[..good.len() - 5].to_string(), 8),
    ] {
        fs::write(&compact, &damaged).unwrap();
        let before = snapshot(&checkpoint);
        let rt = runtime();
        let error = match query("file_source_log_damaged_again").start() {
            Err(e) => e.to_string(),
            Ok(q) => rt
                .block_on(q.await_termination())
                .expect_err("a damaged compact")
                .to_string(),
        };
        assert!(error.contains("5.compact"), "{error}");
        assert!(error.contains(&format!("line {line}")), "{error}");
        assert_eq!(snapshot(&checkpoint), before, "{error}");
    }
    fs::write(&compact, &good).unwrap();
    run_with_fault(|| query("file_source_log_damaged_repaired"), None);
    assert_eq!(
        memory_table_rows("file_source_log_damaged_repaired"),
        rows_of(6..7)
    );
}
