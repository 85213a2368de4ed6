//! `stream-state`: what a query keeps in its state, read from its checkpoint.
//!
//! ```text
//! stream-state <checkpoint>
//!     the stateful operators at the last committed batch: rows, partitions, bytes
//! stream-state <checkpoint> <operator> [--batch N] [--format table|json|parquet]
//!                                      [--output FILE] [--limit N]
//!     one operator's keys and values (default: the last committed batch, a table of the
//!     first 20 rows); json writes JSON lines, parquet a Parquet file (with --output)
//! ```
//!
//! It reads the checkpoint's state files (`stream_core::state::read`), whichever store
//! wrote them, and writes nothing to the checkpoint; it can run while the query does.

use std::fs::File;
use std::io::Write;
use std::path::PathBuf;

use arrow_array::RecordBatch;
use stream_core::state;

const USAGE: &str = "\
usage: stream-state <checkpoint>
       stream-state <checkpoint> <operator> [--batch N] [--format table|json|parquet]
                                            [--output FILE] [--limit N]

  without an operator: each stateful operator of the checkpoint at its last committed
  batch, with its rows, partitions and the bytes of its state files
  with one: its keys and values at the batch (default the last committed one), as a
  table of the first --limit rows (default 20), JSON lines, or a Parquet file
";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Table,
    Json,
    Parquet,
}

#[derive(Debug)]
struct Args {
    checkpoint: PathBuf,
    operator: Option<String>,
    batch: Option<u64>,
    format: Format,
    output: Option<PathBuf>,
    limit: usize,
}

fn parse(args: Vec<String>) -> Result<Args, String> {
    let mut positional = Vec::new();
    let mut parsed = Args {
        checkpoint: PathBuf::new(),
        operator: None,
        batch: None,
        format: Format::Table,
        output: None,
        limit: 20,
    };
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("`{name}` needs a value"));
        match arg.as_str() {
            "--help" | "-h" => return Err(String::new()),
            "--batch" => {
                let v = value("--batch")?;
                parsed.batch = Some(
                    v.parse()
                        .map_err(|_| format!("`--batch` takes a batch id, not `{v}`"))?,
                );
            }
            "--limit" => {
                let v = value("--limit")?;
                parsed.limit = v
                    .parse()
                    .map_err(|_| format!("`--limit` takes a number of rows, not `{v}`"))?;
            }
            "--format" => {
                parsed.format = match value("--format")?.as_str() {
                    "table" => Format::Table,
                    "json" => Format::Json,
                    "parquet" => Format::Parquet,
                    other => {
                        return Err(format!(
                            "`--format` is table, json or parquet, not `{other}`"
                        ));
                    }
                }
            }
            "--output" => parsed.output = Some(value("--output")?.into()),
            flag if flag.starts_with("--") => return Err(format!("unknown option `{flag}`")),
            _ => positional.push(arg),
        }
    }
    let mut positional = positional.into_iter();
    parsed.checkpoint = positional
        .next()
        .ok_or("no checkpoint folder given")?
        .into();
    parsed.operator = positional.next();
    if let Some(extra) = positional.next() {
        return Err(format!("unexpected argument `{extra}`"));
    }
    if parsed.format == Format::Parquet && parsed.output.is_none() {
        return Err("`--format parquet` needs `--output FILE`".into());
    }
    Ok(parsed)
}

fn timestamp(ms: Option<i64>) -> String {
    ms.and_then(chrono_like)
        .unwrap_or_else(|| "time unknown".to_string())
}

/// `ms` as an RFC 3339 UTC time, through Arrow's own timestamp formatting.
fn chrono_like(ms: i64) -> Option<String> {
    let array = arrow_array::TimestampMillisecondArray::from(vec![ms]).with_timezone("+00:00");
    arrow_cast::display::array_value_to_string(&array, 0).ok()
}

fn list(args: &Args, out: &mut dyn Write) -> Result<(), String> {
    let Some(batch) = state::last_committed(&args.checkpoint).map_err(|e| e.to_string())? else {
        return Err(format!(
            "`{}` has no committed batch: not a checkpoint, or its query has not committed one",
            args.checkpoint.display()
        ));
    };
    let operators = state::operators(&args.checkpoint).map_err(|e| e.to_string())?;
    let w = |e: std::io::Error| e.to_string();
    writeln!(
        out,
        "checkpoint {}: last committed batch {} ({})",
        args.checkpoint.display(),
        batch.id,
        timestamp(batch.timestamp_ms)
    )
    .map_err(w)?;
    if operators.is_empty() {
        writeln!(out, "no stateful operator").map_err(w)?;
        return Ok(());
    }
    writeln!(
        out,
        "{:<10} {:>10} {:>12} {:>16}",
        "operator", "partitions", "rows", "checkpoint bytes"
    )
    .map_err(w)?;
    for op in operators {
        let rows = state::read(
            &args.checkpoint,
            &op.operator,
            args.batch.unwrap_or(batch.id),
        )
        .map(|b| b.num_rows().to_string())
        .unwrap_or_else(|e| format!("({e})"));
        writeln!(
            out,
            "{:<10} {:>10} {:>12} {:>16}",
            op.operator, op.partitions, rows, op.checkpoint_bytes
        )
        .map_err(w)?;
    }
    Ok(())
}

fn show(args: &Args, operator: &str, out: &mut dyn Write) -> Result<(), String> {
    let batch = match args.batch {
        Some(b) => b,
        None => {
            state::last_committed(&args.checkpoint)
                .map_err(|e| e.to_string())?
                .ok_or_else(|| format!("`{}` has no committed batch", args.checkpoint.display()))?
                .id
        }
    };
    let table = state::read(&args.checkpoint, operator, batch).map_err(|e| e.to_string())?;
    let mut sink: Box<dyn Write + '_> = match &args.output {
        Some(path) => Box::new(
            File::create(path)
                .map_err(|e| format!("`{}` cannot be written: {e}", path.display()))?,
        ),
        None => Box::new(&mut *out),
    };
    match args.format {
        Format::Table => {
            let shown = table.slice(0, table.num_rows().min(args.limit));
            let text =
                arrow_cast::pretty::pretty_format_batches(&[shown]).map_err(|e| e.to_string())?;
            writeln!(
                sink,
                "operator {operator} after batch {batch}: {} rows",
                table.num_rows()
            )
            .and_then(|()| writeln!(sink, "{text}"))
            .map_err(|e| e.to_string())?;
            if table.num_rows() > args.limit {
                writeln!(
                    sink,
                    "({} more rows; --limit N shows more)",
                    table.num_rows() - args.limit
                )
                .map_err(|e| e.to_string())?;
            }
        }
        Format::Json => write_json(&table, &mut sink)?,
        Format::Parquet => write_parquet(&table, sink)?,
    }
    Ok(())
}

fn write_json(table: &RecordBatch, sink: &mut dyn Write) -> Result<(), String> {
    let mut writer = arrow_json::LineDelimitedWriter::new(sink);
    writer.write(table).map_err(|e| e.to_string())?;
    writer.finish().map_err(|e| e.to_string())
}

fn write_parquet(table: &RecordBatch, mut sink: Box<dyn Write + '_>) -> Result<(), String> {
    let mut writer = parquet::arrow::ArrowWriter::try_new(Vec::new(), table.schema(), None)
        .map_err(|e| e.to_string())?;
    writer.write(table).map_err(|e| e.to_string())?;
    let bytes = writer.into_inner().map_err(|e| e.to_string())?;
    sink.write_all(&bytes).map_err(|e| e.to_string())
}

fn main() {
    let args = match parse(std::env::args().skip(1).collect()) {
        Ok(args) => args,
        Err(message) if message.is_empty() => {
            print!("{USAGE}");
            return;
        }
        Err(message) => {
            eprintln!("stream-state: {message}\n\n{USAGE}");
            std::process::exit(2);
        }
    };
    let mut stdout = std::io::stdout().lock();
    let result = match &args.operator {
        None => list(&args, &mut stdout),
        Some(operator) => show(&args, operator, &mut stdout),
    };
    if let Err(message) = result {
        eprintln!("stream-state: {message}");
        std::process::exit(1);
    }
}
