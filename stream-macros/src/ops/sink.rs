//! `write(kind, options..)`: the sinks.
//!
//! - `write(console)`, `write(console, num_rows = 20, truncate = false)`, and
//!   `buffer = {output}` to print into a captured `ConsoleOutput`
//! - `write(memory, name = "table")`
//! - `write(foreach_batch, f = {|batch_id, batches| ..})`
//! - `write(parquet | json | csv | delta, path = .., ..)`: see [`super::file_sink`]
//! - `write(kafka, bootstrap_servers = "host:9092", topic = "out", ..)`: see
//!   [`super::kafka`]

use proc_macro2::Span;

use crate::check::{Checker, option_u64};
use crate::parse::{OptionArg, OptionValue};
use crate::plan::{ModeSetting, OutputMode, Schema, SinkPlan};

const KINDS: &[&str] = &[
    "console",
    "memory",
    "foreach_batch",
    "parquet",
    "json",
    "csv",
    "delta",
    "kafka",
];

/// Checks `write(kind, options..)` against the stream it writes (`schema`; `None` when
/// the stream had errors).
pub(crate) fn check(
    cx: &mut Checker,
    kind: &syn::Ident,
    options: &[OptionArg],
    schema: Option<&Schema>,
) -> Option<SinkPlan> {
    let known: &[&str] = match kind.to_string().as_str() {
        "console" => &["num_rows", "truncate", "buffer"],
        "memory" => &["name"],
        "foreach_batch" => &["f"],
        "kafka" => {
            let options =
                super::options::by_name(cx, "sink", kind, options, super::kafka::SINK_OPTIONS)?;
            return super::kafka::check_sink(cx, kind, &options, schema);
        }
        other if super::file_sink::options_of(other).is_some() => {
            let known = super::file_sink::options_of(other).unwrap_or_default();
            let options = super::options::by_name(cx, "sink", kind, options, known)?;
            return super::file_sink::check(cx, kind, &options, schema);
        }
        other => {
            let help = match crate::diag::did_you_mean(other, KINDS.iter().copied()) {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!("the sinks are: {}", KINDS.join(", ")),
            };
            cx.cx
                .error(kind.span(), format!("unknown sink `{other}`"), help);
            return None;
        }
    };
    let options = super::options::by_name(cx, "sink", kind, options, known)?;
    match kind.to_string().as_str() {
        "console" => {
            // both options are checked before either error stops the sink; a captured
            // value goes to the builder call as it is
            let num_rows = options.get("num_rows").map(|o| {
                super::options::capture(o).or_else(|| {
                    option_u64(&mut cx.cx, o, 0, usize::MAX as u64).map(|n| {
                        let n = n as usize;
                        quote::quote!(#n)
                    })
                })
            });
            let truncate = options.get("truncate").map(|o| match &o.value {
                OptionValue::Lit(syn::Lit::Bool(b)) => Some(quote::quote!(#b)),
                OptionValue::Capture(_) => super::options::capture(o),
                other => {
                    cx.cx.error(
                        other.span(),
                        "`truncate` takes `true` or `false`",
                        "write `truncate = false`",
                    );
                    None
                }
            });
            let buffer = options.get("buffer").map(|o| {
                let value = super::options::capture(o);
                if value.is_none() {
                    cx.cx.error(
                        o.value.span(),
                        "`buffer` takes a `ConsoleOutput` from outside the block",
                        "capture it: `buffer = {output}`",
                    );
                }
                value
            });
            let num_rows = num_rows.map_or(Some(None), |v| v.map(Some));
            let truncate = truncate.map_or(Some(None), |v| v.map(Some));
            let buffer = buffer.map_or(Some(None), |v| v.map(Some));
            let (num_rows, truncate, buffer) = (num_rows?, truncate?, buffer?);
            Some(SinkPlan::Console {
                num_rows,
                truncate,
                buffer,
            })
        }
        "memory" => {
            let name = super::options::require(
                cx,
                kind,
                &options,
                "name",
                "write(memory, name = \"results\")",
            )?;
            if !super::options::text(cx, name, "name = \"results\"") {
                return None;
            }
            Some(SinkPlan::Memory {
                name: name.value.clone(),
            })
        }
        "foreach_batch" => {
            let f = super::options::require(
                cx,
                kind,
                &options,
                "f",
                "write(foreach_batch, f = {|id, batches| Ok::<_, String>(())})",
            )?;
            if !matches!(f.value, OptionValue::Capture(_)) {
                cx.cx.error(
                    f.value.span(),
                    "`f` takes a Rust closure",
                    "capture it: `f = {|batch_id, batches| ..}`",
                );
                return None;
            }
            // a closure written in the block is checked here, on its arguments
            if let OptionValue::Capture(block) = &f.value
                && let [syn::Stmt::Expr(syn::Expr::Closure(closure), None)] =
                    block.block.stmts.as_slice()
                && closure.inputs.len() != 2
            {
                cx.cx.error(
                    closure.or1_token.span,
                    format!(
                        "the `foreach_batch` closure takes {} argument{}, and it is called with two: the batch id and the batch",
                        closure.inputs.len(),
                        if closure.inputs.len() == 1 { "" } else { "s" }
                    ),
                    match closure.inputs.first() {
                        Some(batches) if closure.inputs.len() == 1 => format!(
                            "take the batch id first: `|_batch_id: u64, {}|`",
                            crate::parse::show_tokens(&quote::ToTokens::to_token_stream(batches))
                        ),
                        _ => "take the batch id and the batch: `|batch_id: u64, batches: &[RecordBatch]|`".to_string(),
                    },
                );
                return None;
            }
            Some(SinkPlan::ForeachBatch { f: f.value.clone() })
        }
        _ => None,
    }
}

/// The output modes a sink takes, as Spark's sinks do: console, memory and
/// foreach_batch take all three; the file sinks append only (a file once committed is
/// never rewritten); Delta appends, or overwrites the table per batch in complete mode
/// (an update would need a merge by key, which Spark's Delta sink does not do either);
/// Kafka takes all three, writing the rows of each batch as records, as Spark's.
pub(crate) fn modes(sink: &SinkPlan) -> &'static [OutputMode] {
    use OutputMode::{Append, Complete, Update};
    match sink {
        SinkPlan::Console { .. }
        | SinkPlan::Memory { .. }
        | SinkPlan::ForeachBatch { .. }
        | SinkPlan::Kafka { .. } => &[Append, Update, Complete],
        SinkPlan::Files { .. } => &[Append],
        SinkPlan::Delta { .. } => &[Append, Complete],
    }
}

/// Modes as a diagnostic lists them: `append, update`.
pub(crate) fn mode_list(modes: &[OutputMode]) -> String {
    let names: Vec<&str> = modes.iter().map(|m| m.as_str()).collect();
    names.join(", ")
}

/// The sink's name as written in `write(..)`.
fn kind_name(sink: &SinkPlan) -> &'static str {
    match sink {
        SinkPlan::Console { .. } => "console",
        SinkPlan::Memory { .. } => "memory",
        SinkPlan::ForeachBatch { .. } => "foreach_batch",
        SinkPlan::Files { format, .. } => format.as_str(),
        SinkPlan::Delta { .. } => "delta",
        SinkPlan::Kafka { .. } => "kafka",
    }
}

/// A file, Delta or Kafka sink in a query without `.checkpoint(..)`: an error on the
/// sink. Such a query would run on a new temporary checkpoint each time, start again at
/// batch 0, find that batch already in the sink's own record and skip it, losing the new
/// rows; Spark refuses it when it starts. `console` and `memory` keep nothing between
/// runs, and `foreach_batch` hands batch ids to the user's code, which decides.
pub(crate) fn check_checkpoint(cx: &mut Checker, sink: &SinkPlan, kind: Span) {
    if !matches!(
        sink,
        SinkPlan::Files { .. } | SinkPlan::Delta { .. } | SinkPlan::Kafka { .. }
    ) {
        return;
    }
    cx.cx.error(
        kind,
        format!(
            "a `{}` sink needs a checkpoint location: without one, every run starts again \
             at batch 0 on a temporary checkpoint, finds that batch already written and \
             skips it, and its rows are lost",
            kind_name(sink)
        ),
        "add `.checkpoint(\"checkpoints/my_query\")` after `.write(..)` (a folder kept \
         between runs); only `console` and `memory` run without one",
    );
}

/// A sink that cannot take the query's output mode: an error on the mode (or on the sink
/// when the mode is the default, append).
pub(crate) fn check_mode(cx: &mut Checker, sink: &SinkPlan, kind: Span, mode: Option<ModeSetting>) {
    let name = mode.map(|m| m.mode).unwrap_or_default();
    let takes = modes(sink);
    if takes.contains(&name) {
        return;
    }
    let span = mode.map_or(kind, |m| m.span);
    cx.cx.error(
        span,
        format!("the `{}` sink cannot take `{name}` mode", kind_name(sink)),
        format!(
            "it takes {}: use `.output_mode({})`, or write to a sink that takes `{name}`",
            mode_list(takes),
            takes[0]
        ),
    );
}
