//! `write(kind, options..)`: the sinks.
//!
//! - `write(console)`, `write(console, num_rows = 20, truncate = false)`
//! - `write(memory, name = "table")`
//! - `write(foreach_batch, f = {|batch_id, batches| ..})`

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
