//! `stream-bench`: the engine's benchmark. It prints figures and asserts nothing about
//! time.
//!
//! ```text
//! cargo run --release -p stream-bench                       # everything, default sizes
//! cargo run --release -p stream-bench -- --input DIR        # on an existing dataset
//! cargo run --release -p stream-bench -- --help
//! cargo run --release -p stream-bench -- file-source-log    # the file source's log after 10,000 batches
//! ```
//!
//! Three parts:
//! - **file runs**: each workload (`stream!`, `available_now`, a sink that keeps only a
//!   digest) over the NDJSON and the Parquet files, with `max_files_per_trigger` unset and
//!   1, each in a child process of its own so that its peak resident memory and its
//!   start-up (process start to first batch committed) are its own;
//! - **engine versus baseline**: each workload over the same already-decoded Arrow
//!   batches, on the engine (one task) and hand-written (one thread), with the ratio and
//!   a check that both produced the same rows;
//! - **Nexmark**: q0, q1, q2, q5, q7, q8 over the `nexmark` crate's events, generated into
//!   Arrow batches before the clock starts.

mod args;
mod baseline;
mod child;
mod dataset;
mod engine_run;
mod file_source_log;
mod large_state;
mod measure;
mod nexmark_bench;
mod report;
mod rng;
mod workloads;

// The engine's typed rows allocate a `String` per string value of a row; mimalloc's
// thread-local free lists make that cheaper than glibc's malloc (see the book's
// "Performance" chapter). A user's binary chooses its allocator the same way.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The benchmark's error type: every failure is reported as text.
pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn main() {
    let mut argv = std::env::args().skip(1).peekable();
    let result = if argv.peek().map(String::as_str) == Some(child::COMMAND) {
        child::main(argv.skip(1).collect())
    } else if argv.peek().map(String::as_str) == Some(file_source_log::COMMAND) {
        file_source_log::main(argv.skip(1).collect())
    } else {
        match args::parse(argv) {
            Ok(Some(args)) => match args.large_state {
                Some(keys) => large_state::main(large_state::LargeState {
                    keys,
                    rows_per_batch: args.rows_per_batch,
                    store: args.state_store,
                    memory_mb: args.state_memory_mb,
                }),
                None => report::main(args),
            },
            Ok(None) => {
                print!("{}", args::USAGE);
                Ok(())
            }
            Err(e) => Err(e),
        }
    };
    if let Err(e) = result {
        eprintln!("stream-bench: {e}");
        std::process::exit(1);
    }
}
