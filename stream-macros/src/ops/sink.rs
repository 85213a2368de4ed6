//! `write(kind, options..)`: the sinks.
//!
//! - `write(console)`, `write(console, num_rows = 20, truncate = false)`
//! - `write(memory, name = "table")`
//! - `write(foreach_batch, f = {|batch_id, batches| ..})`

use proc_macro2::Span;

use crate::check::{Checker, SinkPlan, option_u64};
use crate::parse::{OptionArg, OptionValue};

const KINDS: &[&str] = &["console", "memory", "foreach_batch"];

pub(crate) fn check(
    cx: &mut Checker,
    kind: &syn::Ident,
    options: &[OptionArg],
) -> Option<SinkPlan> {
    let known: &[&str] = match kind.to_string().as_str() {
        "console" => &["num_rows", "truncate"],
        "memory" => &["name"],
        "foreach_batch" => &["f"],
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
            // both options are checked before either error stops the sink
            let num_rows = options.get("num_rows").map(|o| option_u64(&mut cx.cx, o));
            let truncate = options.get("truncate").map(|o| match &o.value {
                OptionValue::Lit(syn::Lit::Bool(b)) => Some(b.value),
                other => {
                    cx.cx.error(
                        other.span(),
                        "`truncate` takes `true` or `false`",
                        "write `truncate = false`",
                    );
                    None
                }
            });
            let num_rows = num_rows.map_or(Some(None), |v| v.map(Some));
            let truncate = truncate.map_or(Some(None), |v| v.map(Some));
            let (num_rows, truncate) = (num_rows?, truncate?);
            Some(SinkPlan::Console { num_rows, truncate })
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
        _ => {
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
            Some(SinkPlan::ForeachBatch { f: f.value.clone() })
        }
    }
}

/// The output modes a sink takes, as Spark's sinks do: console, memory and
/// foreach_batch take all three.
pub(crate) fn modes(sink: &SinkPlan) -> &'static [&'static str] {
    match sink {
        SinkPlan::Console { .. } | SinkPlan::Memory { .. } | SinkPlan::ForeachBatch { .. } => {
            &["append", "update", "complete"]
        }
    }
}

/// The sink's name as written in `write(..)`.
fn kind_name(sink: &SinkPlan) -> &'static str {
    match sink {
        SinkPlan::Console { .. } => "console",
        SinkPlan::Memory { .. } => "memory",
        SinkPlan::ForeachBatch { .. } => "foreach_batch",
    }
}

/// A sink that cannot take the query's output mode: an error on the mode (or on the sink
/// when the mode is the default, append).
pub(crate) fn check_mode(cx: &mut Checker, sink: &SinkPlan, kind: Span, mode: Option<&syn::Ident>) {
    let name = mode.map_or_else(|| "append".to_string(), ToString::to_string);
    let takes = modes(sink);
    if takes.contains(&name.as_str()) {
        return;
    }
    let span = mode.map_or(kind, syn::Ident::span);
    cx.cx.error(
        span,
        format!("the `{}` sink cannot take `{name}` mode", kind_name(sink)),
        format!(
            "it takes {}: use `.output_mode({})`, or write to a sink that takes `{name}`",
            takes.join(", "),
            takes[0]
        ),
    );
}
