//! The kill loop into Delta ([`delta_tests::kill_loop`]): a query writing a Delta table
//! is killed with SIGKILL at random moments, `--cycles` times, then run to the end of its
//! input; prints which log checkpoints were due, which kills left missing and which the
//! table has, and the sink's first and last batch and restart times. Exits 1 if the
//! table lacks a due log checkpoint or a batch.
//!
//! `delta_kill_loop [--cycles 300] [--interval 10] [--files-per-cycle 2]
//! [--events-per-file 50] [--max-delay-ms 600] [--seed N] [--dir PATH]`
//! (`--dir` keeps the table and the checkpoint there; by default they are in a
//! temporary folder, removed at the end). `delta_kill_loop child ..` is the query.

use std::path::PathBuf;
use std::time::Duration;

use delta_tests::kill_loop::{LoopConfig, child_main, run};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("child") {
        child_main(&args[1..]);
        return;
    }
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64);
    let mut config = LoopConfig {
        cycles: 300,
        files_per_cycle: 2,
        events_per_file: 50,
        checkpoint_interval: 10,
        max_kill_delay: Duration::from_millis(600),
        seed,
    };
    let mut dir: Option<PathBuf> = None;
    let mut words = args.iter();
    while let Some(flag) = words.next() {
        let value = words
            .next()
            .unwrap_or_else(|| usage(&format!("{flag} needs a value")));
        let number = || {
            value
                .parse::<u64>()
                .unwrap_or_else(|_| usage(&format!("{flag} takes a number, not `{value}`")))
        };
        match flag.as_str() {
            "--cycles" => config.cycles = number() as usize,
            "--interval" => config.checkpoint_interval = number().max(1),
            "--files-per-cycle" => config.files_per_cycle = number() as usize,
            "--events-per-file" => config.events_per_file = number() as usize,
            "--max-delay-ms" => config.max_kill_delay = Duration::from_millis(number()),
            "--seed" => config.seed = number(),
            "--dir" => dir = Some(PathBuf::from(value)),
            _ => usage(&format!("unknown option {flag}")),
        }
    }
    let temporary = match &dir {
        Some(_) => None,
        None => Some(tempfile_dir()),
    };
    let work = dir.unwrap_or_else(|| temporary.clone().unwrap_or_default());
    let exe = std::env::current_exe().expect("the program's path");
    println!("{config:?}");
    let report = run(&exe, &work, &config);
    println!("{}", report.figures());
    if let Some(folder) = temporary {
        let _ = std::fs::remove_dir_all(folder);
    }
    let missing: Vec<u64> = report
        .due
        .iter()
        .copied()
        .filter(|v| !report.present.contains(v))
        .collect();
    let last_batch = (report.files as u64).checked_sub(1);
    if !missing.is_empty() || report.committed_batch != last_batch {
        eprintln!(
            "FAILED: due log checkpoints missing at {missing:?}; last committed batch {:?}, expected {last_batch:?}",
            report.committed_batch
        );
        std::process::exit(1);
    }
}

/// A new folder under the system's temporary folder.
fn tempfile_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("delta-kill-loop-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create the work folder");
    dir
}

fn usage(message: &str) -> ! {
    eprintln!("delta_kill_loop: {message}");
    eprintln!(
        "usage: delta_kill_loop [--cycles N] [--interval N] [--files-per-cycle N] [--events-per-file N] [--max-delay-ms N] [--seed N] [--dir PATH]"
    );
    std::process::exit(2);
}
