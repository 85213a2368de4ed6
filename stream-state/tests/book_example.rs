//! The example of the book's "Checkpointing and state" chapter, run: the chapter's
//! pipeline writes a checkpoint, `stream-state` is run on it as the chapter shows, and
//! what it prints must be the chapter's text (with the checkpoint's folder written
//! `<checkpoint>`). Then each output format is read back and compared with the rows put
//! in, on both stores.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use stream_core::state::StateStoreKind;
use stream_core::{ManualClock, MemoryStream, Schema, StreamingQueryManager, stream};

#[derive(Schema, Clone)]
struct Click {
    user: String,
}

/// The chapter's query: clicks counted per user, over two batches.
fn write_checkpoint(checkpoint: &Path, store: StateStoreKind) {
    let clicks = MemoryStream::of::<Click>();
    let clock = ManualClock::new(1_704_067_200_000); // 2024-01-01T00:00:00Z
    let query = stream! {
        schema Click = Click;
        read(memory, stream = {clicks.clone()}, schema = Click)
            .group_by(user)
            .agg(count() as clicks)
            .write(memory, name = "book_stream_state")
            .output_mode(complete)
    }
    .clock(clock)
    .manager(&StreamingQueryManager::new())
    .checkpoint_location(checkpoint)
    .state_store(store)
    .start()
    .unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let click = |user: &str| Click { user: user.into() };
    clicks
        .add_rows(&[click("ann"), click("bob"), click("ann")])
        .unwrap();
    rt.block_on(query.process_all_available()).unwrap();
    clicks.add_rows(&[click("cid"), click("ann")]).unwrap();
    rt.block_on(query.process_all_available()).unwrap();
    rt.block_on(query.stop());
}

fn stream_state(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_stream-state"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "stream-state {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The chapter's `text` block that follows the line `<!-- stream-state output -->`.
fn chapter_output() -> String {
    let chapter = include_str!("../../book/src/state.md");
    let (_, after) = chapter
        .split_once("<!-- stream-state output -->\n```text\n")
        .expect("the chapter shows stream-state's output");
    after.split_once("```").unwrap().0.to_string()
}

#[test]
fn the_books_commands_print_what_the_book_shows() {
    let checkpoint = tempfile::tempdir().unwrap();
    write_checkpoint(checkpoint.path(), StateStoreKind::Memory);
    let dir = checkpoint.path().to_str().unwrap();
    let mut printed = String::new();
    for args in [vec![dir], vec![dir, "0"]] {
        let shown: Vec<&str> = args
            .iter()
            .map(|a| if *a == dir { "<checkpoint>" } else { a })
            .collect();
        printed.push_str(&format!("$ stream-state {}\n", shown.join(" ")));
        printed.push_str(&stream_state(&args).replace(dir, "<checkpoint>"));
    }
    assert_eq!(printed, chapter_output());
}

#[test]
fn every_format_gives_the_counts_of_the_rows_put_in_on_both_stores() {
    let expected = BTreeMap::from([
        ("ann".to_string(), 3),
        ("bob".to_string(), 1),
        ("cid".to_string(), 1),
    ]);
    for store in [StateStoreKind::Memory, StateStoreKind::Disk] {
        let checkpoint = tempfile::tempdir().unwrap();
        write_checkpoint(checkpoint.path(), store);
        let dir = checkpoint.path().to_str().unwrap();
        let json = stream_state(&[dir, "0", "--format", "json"]);
        let found: BTreeMap<String, i64> = json
            .lines()
            .map(|line| {
                let row: serde_json::Value = serde_json::from_str(line).unwrap();
                (
                    row["key"]["user"].as_str().unwrap().to_string(),
                    row["value"]["__acc0"].as_i64().unwrap(),
                )
            })
            .collect();
        assert_eq!(found, expected, "{store:?}");
        let parquet = checkpoint.path().join("state.parquet");
        stream_state(&[
            dir,
            "0",
            "--format",
            "parquet",
            "--output",
            parquet.to_str().unwrap(),
        ]);
        let file = std::fs::File::open(&parquet).unwrap();
        let reader =
            parquet::arrow::arrow_reader::ParquetRecordBatchReader::try_new(file, 1024).unwrap();
        let rows: usize = reader.map(|b| b.unwrap().num_rows()).sum();
        assert_eq!(rows, 3, "{store:?}");
        // the first batch's state: ann 2, bob 1
        let first = stream_state(&[dir, "0", "--batch", "0", "--format", "json"]);
        assert_eq!(first.lines().count(), 2, "{store:?}: {first}");
    }
}

#[test]
fn mistakes_are_refused_with_what_to_do() {
    let out = Command::new(env!("CARGO_BIN_EXE_stream-state"))
        .args(["/no/such/checkpoint"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("`/no/such/checkpoint` has no committed batch"),
        "{err}"
    );
    let out = Command::new(env!("CARGO_BIN_EXE_stream-state"))
        .args(["x", "0", "--format", "parquet"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("`--format parquet` needs `--output FILE`")
    );
}
