//! The command line.

use std::path::PathBuf;

use crate::BoxError;
use crate::dataset::DatasetSize;
use crate::workloads::{Input, Workload};

/// The usage text, printed by `--help` and on a bad argument.
pub(crate) const USAGE: &str = "\
stream-bench: the streaming engine's benchmark (figures only, nothing asserted)

usage: stream-bench [options]

  --data DIR             where the dataset is generated (default target/stream-bench-data);
                         kept between runs, regenerated when its size changes
  --input DIR            read an existing dataset instead (DIR/json/*.json and
                         DIR/parquet/*.parquet); nothing is generated
  --files N              files in the generated dataset (default 20)
  --events-per-file N    events per file (default 500000)
  --workloads A,B        filter_project, tumbling_count, sliding_avg, dedup,
                         stream_static_join (default all)
  --inputs A,B           json, parquet (default both) for the file runs
  --runs N               timed runs per in-memory case, best counts (default 3)
  --nexmark-events N     Nexmark events generated (default 10000000; 0 skips Nexmark)
  --nexmark-queries A,B  q0, q1, q2, q5, q7, q8 (default all)
  --skip-files           no file runs
  --skip-memory          no in-memory engine-versus-baseline runs
  --check                also fail unless every engine run's rows match the baseline's
  --state-store KIND     memory (default) or disk: the store of the stateful workloads
  --state-memory-mb N    the disk store's memory budget in MiB (default 256)
  --large-state N        only a deduplication whose state grows to N distinct keys
                         (rate source, manual clock), on --state-store; prints its
                         peak resident memory and checks that every key was written
  --rows-per-batch N     new keys a batch for --large-state (default 1000000)
";

/// What to run.
#[derive(Clone, Debug)]
pub(crate) struct Args {
    pub(crate) data: PathBuf,
    pub(crate) input: Option<PathBuf>,
    pub(crate) size: DatasetSize,
    pub(crate) workloads: Vec<Workload>,
    pub(crate) inputs: Vec<Input>,
    pub(crate) runs: usize,
    pub(crate) nexmark_events: usize,
    /// The Nexmark queries to run, by name.
    pub(crate) nexmark_queries: Vec<&'static str>,
    pub(crate) skip_files: bool,
    pub(crate) skip_memory: bool,
    pub(crate) check: bool,
    pub(crate) state_store: stream_core::state::StateStoreKind,
    pub(crate) state_memory_mb: u64,
    pub(crate) large_state: Option<u64>,
    pub(crate) rows_per_batch: u64,
}

impl Default for Args {
    fn default() -> Self {
        Args {
            data: PathBuf::from("target/stream-bench-data"),
            input: None,
            size: DatasetSize {
                files: 20,
                events_per_file: 500_000,
            },
            workloads: Workload::ALL.to_vec(),
            inputs: vec![Input::Json, Input::Parquet],
            runs: 3,
            nexmark_events: 10_000_000,
            nexmark_queries: crate::nexmark_bench::QUERY_NAMES.to_vec(),
            skip_files: false,
            skip_memory: false,
            check: false,
            state_store: stream_core::state::StateStoreKind::Memory,
            state_memory_mb: 256,
            large_state: None,
            rows_per_batch: 1_000_000,
        }
    }
}

/// Parses the arguments after the program name; `Ok(None)` for `--help`.
pub(crate) fn parse(args: impl IntoIterator<Item = String>) -> Result<Option<Args>, BoxError> {
    let mut parsed = Args::default();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let mut value = |name: &str| {
            args.next()
                .ok_or_else(|| format!("`{name}` needs a value\n\n{USAGE}"))
        };
        match arg.as_str() {
            "--help" | "-h" => return Ok(None),
            "--data" => parsed.data = value("--data")?.into(),
            "--input" => parsed.input = Some(value("--input")?.into()),
            "--files" => parsed.size.files = number("--files", &value("--files")?)?,
            "--events-per-file" => {
                parsed.size.events_per_file =
                    number("--events-per-file", &value("--events-per-file")?)?
            }
            "--workloads" => {
                parsed.workloads = list("--workloads", &value("--workloads")?, Workload::from_name)?
            }
            "--inputs" => {
                parsed.inputs = list("--inputs", &value("--inputs")?, |name| {
                    Input::from_name(name).filter(|i| *i != Input::Memory)
                })?
            }
            "--runs" => parsed.runs = number("--runs", &value("--runs")?)?.max(1),
            "--nexmark-events" => {
                parsed.nexmark_events = number("--nexmark-events", &value("--nexmark-events")?)?
            }
            "--nexmark-queries" => {
                parsed.nexmark_queries =
                    list("--nexmark-queries", &value("--nexmark-queries")?, |q| {
                        crate::nexmark_bench::QUERY_NAMES
                            .iter()
                            .copied()
                            .find(|n| *n == q)
                    })?
            }
            "--skip-files" => parsed.skip_files = true,
            "--skip-memory" => parsed.skip_memory = true,
            "--check" => parsed.check = true,
            "--state-store" => {
                let name = value("--state-store")?;
                parsed.state_store = stream_core::state::StateStoreKind::from_name(&name)
                    .ok_or_else(|| format!("`--state-store`: unknown `{name}`\n\n{USAGE}"))?
            }
            "--state-memory-mb" => {
                parsed.state_memory_mb =
                    number("--state-memory-mb", &value("--state-memory-mb")?)? as u64
            }
            "--large-state" => {
                parsed.large_state = Some(number("--large-state", &value("--large-state")?)? as u64)
            }
            "--rows-per-batch" => {
                parsed.rows_per_batch =
                    (number("--rows-per-batch", &value("--rows-per-batch")?)? as u64).max(1)
            }
            other => return Err(format!("unknown argument `{other}`\n\n{USAGE}").into()),
        }
    }
    if parsed.size.files == 0 || parsed.size.events_per_file == 0 {
        return Err("--files and --events-per-file must be at least 1".into());
    }
    Ok(Some(parsed))
}

fn number(name: &str, text: &str) -> Result<usize, BoxError> {
    text.replace('_', "")
        .parse()
        .map_err(|_| format!("`{name}` takes a whole number, not `{text}`").into())
}

fn list<T>(name: &str, text: &str, each: impl Fn(&str) -> Option<T>) -> Result<Vec<T>, BoxError> {
    text.split(',')
        .map(|item| {
            each(item.trim()).ok_or_else(|| format!("`{name}`: unknown `{item}`\n\n{USAGE}").into())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_all(args: &[&str]) -> Result<Option<Args>, BoxError> {
        parse(args.iter().map(|a| a.to_string()))
    }

    #[test]
    fn options_are_read() {
        let args = parse_all(&[
            "--files",
            "2",
            "--events-per-file",
            "1_000",
            "--workloads",
            "dedup,filter_project",
            "--inputs",
            "parquet",
            "--nexmark-events",
            "0",
            "--nexmark-queries",
            "q8,q5",
            "--check",
        ])
        .unwrap()
        .unwrap();
        assert_eq!(args.size.events(), 2000);
        assert_eq!(args.workloads, [Workload::Dedup, Workload::FilterProject]);
        assert_eq!(args.inputs, [Input::Parquet]);
        assert_eq!(args.nexmark_events, 0);
        assert_eq!(args.nexmark_queries, ["q8", "q5"]);
        assert!(args.check);
    }

    #[test]
    fn bad_arguments_say_what_is_wrong() {
        let err = |args: &[&str]| parse_all(args).unwrap_err().to_string();
        assert!(err(&["--workloads", "joins"]).starts_with("`--workloads`: unknown `joins`"));
        assert!(err(&["--files"]).starts_with("`--files` needs a value"));
        assert!(err(&["--files", "many"]).starts_with("`--files` takes a whole number"));
        assert!(err(&["--inputs", "memory"]).starts_with("`--inputs`: unknown `memory`"));
        assert!(err(&["--nexmark-queries", "q3"]).starts_with("`--nexmark-queries`: unknown `q3`"));
        assert!(err(&["--fast"]).starts_with("unknown argument `--fast`"));
        assert!(parse_all(&["--help"]).unwrap().is_none());
    }
}
