//! A kill loop into Delta: a query process streaming event files into a Delta table with
//! a small log checkpoint interval is killed with SIGKILL at a random moment, cycle after
//! cycle, and started again on the same checkpoint; at the end it runs to the end of its
//! input. What it measures: which log checkpoints were due, which a kill left missing
//! (the ones deltalake's post-commit hook alone would never have written), which the table
//! has at the end, and the sink's batch and restart times at the start and at the end.
//!
//! The child is the same program started with `child` as its first argument (see
//! [`child_main`]); it prints `open <µs>` when the sink has opened the table and
//! `batch <id> <µs>` after each batch the sink took, the time the sink spent.

use std::collections::BTreeSet;
use std::io::{BufRead as _, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use stream_core::{
    DeltaSink, JsonFileSource, MapPipeline, OutputMode, Result, Sink, SinkBatch, SinkContext,
    StreamingQuery, Trigger,
};

/// What a loop does.
#[derive(Clone, Debug)]
pub struct LoopConfig {
    /// Kill cycles.
    pub cycles: usize,
    /// Event files landed before each cycle (one batch each).
    pub files_per_cycle: usize,
    /// Events in each file.
    pub events_per_file: usize,
    /// The table's `delta.checkpointInterval`.
    pub checkpoint_interval: u64,
    /// A cycle's child is killed after a random time below this, or below 1.2 times
    /// the time the last child took to start and take every file landed, if less: so
    /// that the kills fall while the child works (its start, its batches), not while it
    /// waits for files.
    pub max_kill_delay: Duration,
    /// The seed of the kill times.
    pub seed: u64,
}

/// What a loop measured.
#[derive(Clone, Debug, Default)]
pub struct LoopReport {
    /// Kill cycles run.
    pub cycles: usize,
    /// Events landed (and so expected in the table once).
    pub events: usize,
    /// Event files landed: the query's last batch id is one less.
    pub files: usize,
    /// The last batch id the table holds a commit of for the query.
    pub committed_batch: Option<u64>,
    /// The table's version at the end.
    pub table_version: u64,
    /// The versions a log checkpoint was due at (every multiple of the interval).
    pub due: Vec<u64>,
    /// The due versions the table has a log checkpoint of at the end.
    pub present: Vec<u64>,
    /// The due versions a kill left without their checkpoint (found right after a kill):
    /// without the sink's repair they would have stayed missing.
    pub missed_by_kills: BTreeSet<u64>,
    /// The time the sink spent on each batch, in batch order over the whole run, with
    /// the batch id.
    pub batch_micros: Vec<(u64, u64)>,
    /// For each start that got that far: the time from the spawn of the process to the
    /// sink's table being open (the process's start, the checkpoint's recovery, the
    /// table's load and any missed checkpoint written).
    pub restart_micros: Vec<u64>,
    /// Cycles whose kill came before the sink had opened the table.
    pub killed_before_open: usize,
}

impl LoopReport {
    /// The newest due version, if any.
    pub fn newest_due(&self) -> Option<u64> {
        self.due.last().copied()
    }

    /// A summary, one figure per line.
    pub fn figures(&self) -> String {
        let batches: Vec<u64> = self.batch_micros.iter().map(|&(_, us)| us).collect();
        let tenth = (batches.len() / 10).max(1);
        let restarts = &self.restart_micros;
        let rtenth = (restarts.len() / 10).max(1);
        let ms = |us: u64| us as f64 / 1000.0;
        let written_by_hook = self.due.len() - self.missed_by_kills.len();
        [
            format!("cycles                       {}", self.cycles),
            format!("events                       {}", self.events),
            format!(
                "batches                      {} (last committed batch {:?})",
                self.files, self.committed_batch
            ),
            format!("table version                {}", self.table_version),
            format!(
                "log checkpoints due          {} (newest at {:?})",
                self.due.len(),
                self.newest_due()
            ),
            format!("  present at the end         {}", self.present.len()),
            format!(
                "  left missing by a kill     {} (so {} of {} without the repair)",
                self.missed_by_kills.len(),
                written_by_hook,
                self.due.len()
            ),
            format!(
                "batch ms, first / last       {:.1} / {:.1}",
                ms(batches.first().copied().unwrap_or(0)),
                ms(batches.last().copied().unwrap_or(0))
            ),
            format!(
                "batch ms, median of first / last tenth  {:.1} / {:.1} ({} batches each)",
                ms(median(&batches[..tenth.min(batches.len())])),
                ms(median(&batches[batches.len().saturating_sub(tenth)..])),
                tenth
            ),
            format!(
                "restart ms, first / last     {:.1} / {:.1}",
                ms(restarts.first().copied().unwrap_or(0)),
                ms(restarts.last().copied().unwrap_or(0))
            ),
            format!(
                "restart ms, median of first / last tenth  {:.1} / {:.1} ({} starts each)",
                ms(median(&restarts[..rtenth.min(restarts.len())])),
                ms(median(&restarts[restarts.len().saturating_sub(rtenth)..])),
                rtenth
            ),
            format!(
                "kills before the table was open  {}",
                self.killed_before_open
            ),
        ]
        .join("\n")
    }
}

fn median(values: &[u64]) -> u64 {
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    sorted.get(sorted.len() / 2).copied().unwrap_or(0)
}

/// A small xorshift generator: the kill times, reproducible from the seed.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

/// Event `i` of landing file `file`, a JSON line of the `tests` package's event schema.
pub fn event(file: usize, i: usize) -> String {
    let country = ["DE", "US", "JP"][(file + i) % 3];
    format!(
        r#"{{"ts":"2024-01-01T00:{:02}:{:02}.000Z","user":"user_{file}_{i}","page":"/p","amount":{}.5,"country":"{country}"}}"#,
        file % 60,
        i % 60,
        file * 1000 + i
    )
}

/// The folders of a loop under its work folder.
struct Folders {
    landing: PathBuf,
    checkpoint: PathBuf,
    table: PathBuf,
}

impl Folders {
    fn new(work: &Path) -> Folders {
        let folders = Folders {
            landing: work.join("landing"),
            checkpoint: work.join("checkpoint"),
            table: work.join("table"),
        };
        std::fs::create_dir_all(&folders.landing).expect("create the landing folder");
        folders
    }
}

/// Runs the loop in the folder `work` (which it fills), the child being `exe child ..`.
pub fn run(exe: &Path, work: &Path, config: &LoopConfig) -> LoopReport {
    let folders = Folders::new(work);
    let mut rng = Rng(config.seed | 1);
    let mut report = LoopReport::default();
    let mut window = config.max_kill_delay;
    for _ in 0..config.cycles {
        land(&folders.landing, config, &mut report);
        let delay = Duration::from_micros(rng.below(window.as_micros() as u64));
        let mut child = spawn(exe, &folders, config, "continuous");
        let started = Instant::now();
        let reader = read_lines(&mut child, started);
        sleep_until_or_exit(&mut child, started + delay);
        let _ = child.kill(); // SIGKILL on Unix
        let _ = child.wait();
        let lines = reader.join().expect("the child's output reader");
        if let Some(done) = arrival_of_batch(&lines, report.files as u64 - 1) {
            window = (done * 6 / 5).min(config.max_kill_delay);
        }
        if !record(&lines, &mut report) {
            report.killed_before_open += 1;
        }
        if let Some(missed) = missing_due_checkpoint(&folders.table, config.checkpoint_interval) {
            report.missed_by_kills.insert(missed);
        }
        report.cycles += 1;
    }
    let mut child = spawn(exe, &folders, config, "available_now");
    let reader = read_lines(&mut child, Instant::now());
    let status = child.wait().expect("wait for the last run");
    let lines = reader.join().expect("the child's output reader");
    let mut stderr = String::new();
    if let Some(mut err) = child.stderr.take() {
        let _ = std::io::Read::read_to_string(&mut err, &mut stderr);
    }
    assert!(status.success(), "the last run failed ({status}): {stderr}");
    record(&lines, &mut report);
    finish(&folders, config, &mut report);
    report
}

/// Lands the cycle's files, with increasing modification times.
fn land(landing: &Path, config: &LoopConfig, report: &mut LoopReport) {
    for _ in 0..config.files_per_cycle {
        let file = report.files;
        let text: String = (0..config.events_per_file)
            .map(|i| event(file, i) + "\n")
            .collect();
        tests::land_file(
            landing,
            &format!("events-{file:06}.json"),
            &text,
            file as u64,
        );
        report.files += 1;
        report.events += config.events_per_file;
    }
}

fn spawn(exe: &Path, folders: &Folders, config: &LoopConfig, mode: &str) -> Child {
    Command::new(exe)
        .arg("child")
        .args([&folders.landing, &folders.checkpoint, &folders.table])
        .arg(config.checkpoint_interval.to_string())
        .arg(mode)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the child")
}

/// The child's stdout lines with the time each arrived after `started`, read on a
/// thread until the child's end.
fn read_lines(
    child: &mut Child,
    started: Instant,
) -> std::thread::JoinHandle<Vec<(Duration, String)>> {
    let stdout = child.stdout.take().expect("the child's stdout");
    std::thread::spawn(move || {
        BufReader::new(stdout)
            .lines()
            .map_while(|l| l.ok())
            .map(|l| (started.elapsed(), l))
            .collect()
    })
}

/// Waits until `deadline`, or until the child exits (an error: it runs until killed).
fn sleep_until_or_exit(child: &mut Child, deadline: Instant) {
    loop {
        if let Some(status) = child.try_wait().expect("poll the child") {
            let mut stderr = String::new();
            if let Some(mut err) = child.stderr.take() {
                let _ = std::io::Read::read_to_string(&mut err, &mut stderr);
            }
            panic!("the child exited before it was killed ({status}): {stderr}");
        }
        let now = Instant::now();
        if now >= deadline {
            return;
        }
        std::thread::sleep((deadline - now).min(Duration::from_millis(5)));
    }
}

/// When the line of batch `id` arrived, if it did.
fn arrival_of_batch(lines: &[(Duration, String)], id: u64) -> Option<Duration> {
    let prefix = format!("batch {id} ");
    lines
        .iter()
        .find(|(_, line)| line.starts_with(&prefix))
        .map(|&(at, _)| at)
}

/// Adds a start's lines to the report; whether the sink had opened the table.
fn record(lines: &[(Duration, String)], report: &mut LoopReport) -> bool {
    let mut opened = false;
    for (at, line) in lines {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["open", _] => {
                opened = true;
                report.restart_micros.push(at.as_micros() as u64);
            }
            ["batch", id, us] => {
                if let (Ok(id), Ok(us)) = (id.parse(), us.parse()) {
                    report.batch_micros.push((id, us));
                }
            }
            _ => {}
        }
    }
    opened
}

/// The newest version of the table's log (`_delta_log/<v>.json`).
fn table_version(table: &Path) -> Option<u64> {
    std::fs::read_dir(table.join("_delta_log"))
        .ok()?
        .filter_map(|e| {
            let name = e.ok()?.file_name().to_string_lossy().into_owned();
            name.strip_suffix(".json")?.parse().ok()
        })
        .max()
}

/// The versions of the table's log checkpoints (`_delta_log/<v>.checkpoint.parquet`).
pub fn log_checkpoints(table: &Path) -> Vec<u64> {
    let Ok(entries) = std::fs::read_dir(table.join("_delta_log")) else {
        return Vec::new();
    };
    let mut versions: Vec<u64> = entries
        .filter_map(|e| {
            let name = e.ok()?.file_name().to_string_lossy().into_owned();
            name.strip_suffix(".checkpoint.parquet")?.parse().ok()
        })
        .collect();
    versions.sort_unstable();
    versions
}

/// The newest version due a checkpoint, if the table has no checkpoint there.
fn missing_due_checkpoint(table: &Path, interval: u64) -> Option<u64> {
    let version = table_version(table)?;
    let due = version - version % interval;
    (due > 0 && !log_checkpoints(table).contains(&due)).then_some(due)
}

fn finish(folders: &Folders, config: &LoopConfig, report: &mut LoopReport) {
    let version = table_version(&folders.table).unwrap_or(0);
    let interval = config.checkpoint_interval;
    report.table_version = version;
    report.due = (1..=version / interval).map(|k| k * interval).collect();
    let checkpoints = log_checkpoints(&folders.table);
    report.present = report
        .due
        .iter()
        .copied()
        .filter(|v| checkpoints.contains(v))
        .collect();
    let id = tests::sigkill::query_id(&folders.checkpoint).expect("the query id");
    report.committed_batch =
        DeltaSink::committed_batch(&folders.table, &id).expect("read the table's txn");
}

/// A sink that prints the time the Delta sink spends opening the table and on each batch.
struct Timed(DeltaSink);

impl Timed {
    fn print(line: std::fmt::Arguments<'_>) {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    }
}

impl Sink for Timed {
    fn description(&self) -> String {
        self.0.description()
    }

    fn supports(&self, mode: OutputMode) -> bool {
        self.0.supports(mode)
    }

    fn open(&mut self, ctx: &SinkContext) -> Result<()> {
        let start = Instant::now();
        self.0.open(ctx)?;
        Timed::print(format_args!("open {}", start.elapsed().as_micros()));
        Ok(())
    }

    fn add_batch(&mut self, batch: SinkBatch<'_>) -> Result<()> {
        let id = batch.batch_id;
        let start = Instant::now();
        self.0.add_batch(batch)?;
        Timed::print(format_args!("batch {id} {}", start.elapsed().as_micros()));
        Ok(())
    }
}

/// The child: `child <landing> <checkpoint> <table> <checkpoint interval>
/// <continuous|available_now>`; streams the landing folder's files, one per batch, into
/// the table partitioned by country. Exits 2 on bad arguments, 1 when the query fails.
pub fn child_main(args: &[String]) {
    let [landing, checkpoint, table, interval, mode] = args else {
        eprintln!(
            "usage: child <landing> <checkpoint> <table> <checkpoint interval> <continuous|available_now>"
        );
        std::process::exit(2);
    };
    let Ok(interval) = interval.parse::<u64>() else {
        eprintln!("the checkpoint interval is a number of versions, not `{interval}`");
        std::process::exit(2);
    };
    let trigger = match mode.as_str() {
        "available_now" => Trigger::AvailableNow,
        _ => Trigger::Default,
    };
    let schema = tests::event_schema();
    let sink = DeltaSink::new(table)
        .partition_by(["country"])
        .checkpoint_interval(interval);
    let query = StreamingQuery::builder()
        .source(JsonFileSource::new(landing, schema.clone()).max_files_per_trigger(1))
        .pipeline(MapPipeline::identity(schema))
        .trigger(trigger)
        .checkpoint_location(checkpoint)
        .sink(Timed(sink))
        .start()
        .unwrap_or_else(|e| {
            eprintln!("child: {e}");
            std::process::exit(1)
        });
    if let Err(e) = tests::runtime().block_on(query.await_termination()) {
        eprintln!("child: {e}");
        std::process::exit(1);
    }
}
