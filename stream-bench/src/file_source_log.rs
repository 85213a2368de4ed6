//! `stream-bench file-source-log [--batches N] [--dir DIR] [--opens K]`: the file
//! source's log in the checkpoint after `N` batches (default 10,000) of one file each,
//! driven through the `Source` calls the engine makes (`latest_offset`, `read`,
//! `commit`), with `clean_source` deleting each file once its batch is committed so
//! that the landing folder stays small and the listing costs the same in every batch.
//!
//! It prints the files and bytes under `sources/0/` and the time to open the source on
//! that checkpoint (the restart cost: the source rebuilds its set of seen files from its
//! log), the median of `K` opens (default 5). With `--dir`, the landing folder and the
//! checkpoint are kept there, and a second run on the same folder opens the checkpoint
//! left by the first (maybe written by another build) before it goes on: so an old
//! checkpoint's first open under a new build is measured too.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use stream_core::{CleanSource, FileSource, ManualClock, Offset, ReadLimit, Source, SourceContext};

use crate::BoxError;

/// The first argument that runs this bench.
pub(crate) const COMMAND: &str = "file-source-log";

const USAGE: &str = "usage: stream-bench file-source-log [--batches N] [--dir DIR] [--opens K]";

/// 2023-11-14T22:13:20Z: the modification time of the first landed file.
const BASE_SECS: u64 = 1_700_000_000;

struct Args {
    batches: u64,
    dir: Option<PathBuf>,
    opens: usize,
}

fn parse(args: Vec<String>) -> Result<Args, BoxError> {
    let mut out = Args {
        batches: 10_000,
        dir: None,
        opens: 5,
    };
    let mut it = args.into_iter();
    while let Some(arg) = it.next() {
        let mut value = || {
            it.next()
                .ok_or_else(|| format!("{arg} needs a value; {USAGE}"))
        };
        match arg.as_str() {
            "--batches" => out.batches = value()?.parse()?,
            "--dir" => out.dir = Some(PathBuf::from(value()?)),
            "--opens" => out.opens = value()?.parse::<usize>()?.max(1),
            _ => return Err(format!("unknown argument `{arg}`; {USAGE}").into()),
        }
    }
    Ok(out)
}

fn source(landing: &Path) -> FileSource {
    FileSource::text(landing)
        .max_files_per_trigger(1)
        .clean_source(CleanSource::Delete)
}

fn open(landing: &Path, checkpoint: &Path) -> Result<(FileSource, Duration), BoxError> {
    let mut source = source(landing);
    let ctx = SourceContext {
        metadata_dir: checkpoint.join("sources/0"),
        clock: Arc::new(ManualClock::new(0)),
        index: 0,
    };
    let started = Instant::now();
    source.open(&ctx)?;
    Ok((source, started.elapsed()))
}

/// Files and bytes under `dir`.
fn folder_size(dir: &Path) -> (u64, u64) {
    let mut files = 0;
    let mut bytes = 0;
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            if let Ok(meta) = entry.metadata() {
                files += 1;
                bytes += meta.len();
            }
        }
    }
    (files, bytes)
}

fn median_ms(mut times: Vec<Duration>) -> f64 {
    times.sort();
    times[times.len() / 2].as_secs_f64() * 1000.0
}

pub(crate) fn main(args: Vec<String>) -> Result<(), BoxError> {
    let args = parse(args)?;
    let temp = match &args.dir {
        Some(_) => None,
        None => {
            Some(std::env::temp_dir().join(format!("stream-bench-fslog-{}", std::process::id())))
        }
    };
    let root = args
        .dir
        .clone()
        .or_else(|| temp.clone())
        .ok_or("no folder")?;
    let landing = root.join("landing");
    let checkpoint = root.join("checkpoint");
    std::fs::create_dir_all(&landing)?;
    let log_dir = checkpoint.join("sources/0");
    // the offset of the last committed batch of an earlier run on the same folder
    let state_file = root.join("last-offset.json");
    let mut start: Option<Offset> = match std::fs::read_to_string(&state_file) {
        Ok(text) => Some(Offset::from_value(&serde_json::from_str::<
            serde_json::Value,
        >(&text)?)?),
        Err(_) => None,
    };
    let first_seq: u64 = match std::fs::read_to_string(root.join("landed")) {
        Ok(text) => text.trim().parse()?,
        Err(_) => 0,
    };
    if start.is_some() {
        let (files, bytes) = folder_size(&log_dir);
        let (_, took) = open(&landing, &checkpoint)?;
        println!(
            "existing checkpoint: {files} files, {bytes} bytes in sources/0; first open {:.2} ms",
            took.as_secs_f64() * 1000.0
        );
    }

    let (mut source, _) = open(&landing, &checkpoint)?;
    let run_started = Instant::now();
    let mut window = Instant::now();
    for i in 0..args.batches {
        let seq = first_seq + i;
        let file = landing.join(format!("f{seq:08}.txt"));
        std::fs::write(&file, format!("line {seq}\n"))?;
        std::fs::File::options()
            .write(true)
            .open(&file)?
            .set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(BASE_SECS + seq))?;
        let end = source
            .latest_offset(start.as_ref(), ReadLimit::MaxFiles(1))?
            .ok_or("no offset")?;
        if Some(&end) == start.as_ref() {
            return Err(format!("batch {i}: the file {} was not taken", file.display()).into());
        }
        let rows: usize = source
            .read(start.as_ref(), &end)?
            .iter()
            .map(|b| b.num_rows())
            .sum();
        if rows != 1 {
            return Err(format!("batch {i}: {rows} rows, expected 1").into());
        }
        source.commit(&end)?;
        start = Some(end);
        if (i + 1) % 2_000 == 0 {
            let (files, _) = folder_size(&log_dir);
            println!(
                "  batch {:>6}: {:.3} ms a batch over the last 2,000; {files} files in sources/0",
                i + 1,
                window.elapsed().as_secs_f64() * 1000.0 / 2_000.0
            );
            window = Instant::now();
        }
    }
    drop(source);
    let run = run_started.elapsed();
    if let Some(end) = &start {
        std::fs::write(&state_file, end.as_json().to_string())?;
    }
    std::fs::write(root.join("landed"), (first_seq + args.batches).to_string())?;

    let (files, bytes) = folder_size(&log_dir);
    let mut opens = Vec::new();
    for _ in 0..args.opens {
        opens.push(open(&landing, &checkpoint)?.1);
    }
    println!(
        "{} batches in {:.1} s ({} batches in the checkpoint)",
        args.batches,
        run.as_secs_f64(),
        first_seq + args.batches
    );
    println!("sources/0: {files} files, {bytes} bytes");
    println!(
        "open (restart cost): median {:.2} ms of {} (min {:.2} ms)",
        median_ms(opens.clone()),
        opens.len(),
        opens.iter().min().map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    );
    if let Some(temp) = temp {
        std::fs::remove_dir_all(temp)?;
    }
    Ok(())
}
