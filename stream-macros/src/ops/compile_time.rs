//! The values a `stream!` block must know when the crate compiles: its checks, its
//! generated code or the plan fingerprint its checkpoint is checked against depend on
//! them. A `{ .. }` capture of one is an error on the capture whose help says why and
//! what to write; every other option value may be captured (the book's "Your first
//! pipeline" lists them).

use proc_macro2::Span;

use crate::check::Checker;
use crate::parse::{Expr, OptionArg, OptionValue, SelectItem};

/// The error on a capture of `what` (a name in backticks): `why` it must be known, then
/// `fix`, what to write instead.
pub(crate) fn refuse(cx: &mut Checker, span: Span, what: &str, why: &str, fix: &str) {
    cx.cx.error(
        span,
        format!("{what} cannot be captured: it must be known when the crate compiles"),
        format!("{why}; {fix}"),
    );
}

/// Why option `name` of source or sink `kind` must be written in the block, and what to
/// write; `None` for the options that take a capture.
pub(crate) fn option(kind: &str, name: &str) -> Option<(&'static str, &'static str)> {
    Some(match (kind, name) {
        (_, "schema") => (
            "the schema gives the columns and types the block is checked against",
            "name a schema of the block: `schema = Event`",
        ),
        ("kafka", "value_schema") => (
            "the value schema gives the columns and types the block is checked against",
            "name a schema of the block: `value_schema = Event`",
        ),
        ("kafka", "include_headers") => (
            "it decides whether the source has a `headers` column, which the block is checked against",
            "write `include_headers = true` or `include_headers = false`",
        ),
        ("kafka", "mode") => (
            "permissive mode makes the columns of a malformed value null, which the value schema's nullability is checked against",
            "write `mode = permissive`, `drop_malformed` or `fail_fast`",
        ),
        ("kafka", "value_json") => (
            "it decides which columns make a record, which the written stream is checked against",
            "write `value_json = true` or `value_json = false`",
        ),
        (_, "partition_by") => (
            "the partition columns are checked against the columns of the written stream",
            "write `partition_by = [country, day]`",
        ),
        _ => return None,
    })
}

/// `.output_mode({..})`.
pub(crate) fn output_mode(cx: &mut Checker, value: &OptionValue) {
    refuse(
        cx,
        value.span(),
        "the output mode",
        "the block's checks depend on it: what an aggregation may write and when, which modes the sink takes, whether rows are dropped as late",
        "write `.output_mode(append)`, `update` or `complete`; to choose the mode at run time, write a `stream!` block for each mode",
    );
}

/// `.watermark_policy({..})`.
pub(crate) fn watermark_policy(cx: &mut Checker, value: &OptionValue) {
    refuse(
        cx,
        value.span(),
        "the watermark policy",
        "it decides which rows are late and when windows close, and a checkpoint does not record it, so a value that changes between two runs on one checkpoint would change the results",
        "write `.watermark_policy(min)` or `.watermark_policy(max)`",
    );
}

/// `with_watermark(ts, {..})`.
pub(crate) fn watermark_delay(cx: &mut Checker, column: &syn::Ident, value: &OptionValue) {
    refuse(
        cx,
        value.span(),
        "the watermark delay",
        "it decides which rows are late and when state is evicted, and it is part of the plan fingerprint a checkpoint is checked against",
        &format!("write it as a string: `with_watermark({column}, \"10 minutes\")`"),
    );
}

/// A captured duration of `window(..)` or `session_window(..)` in a `group_by`: an
/// error on each; `false` if there was one.
pub(crate) fn window_durations(cx: &mut Checker, keys: &[SelectItem]) -> bool {
    let mut ok = true;
    for key in keys {
        let Expr::Call { name, args } = &key.expr else {
            continue;
        };
        let (what, why, example) = match name.to_string().as_str() {
            "window" => (
                "a window duration",
                "a window's size, slide and start decide its groups and when their state is evicted, and they are part of the plan fingerprint a checkpoint is checked against",
                "window(ts, \"10 minutes\")",
            ),
            "session_window" => (
                "a session gap",
                "the gap decides the sessions and when their state is evicted, and it is part of the plan fingerprint a checkpoint is checked against",
                "session_window(ts, \"5 minutes\")",
            ),
            _ => continue,
        };
        for arg in args.iter().skip(1) {
            if let Expr::Capture(block) = arg {
                refuse(
                    cx,
                    block.block.brace_token.span.join(),
                    what,
                    why,
                    &format!("write it as a string: `{example}`"),
                );
                ok = false;
            }
        }
    }
    ok
}

/// A captured `within` of a join of two streams: an error; `false` if there was one.
pub(crate) fn join_within(cx: &mut Checker, options: &[OptionArg]) -> bool {
    let mut ok = true;
    for o in options {
        if o.name == "within" && matches!(o.value, OptionValue::Capture(_)) {
            refuse(
                cx,
                o.value.span(),
                "`within`",
                "the time bound decides which rows meet and when state is evicted, and it is part of the plan fingerprint a checkpoint is checked against",
                "write it as a string: `within = \"10 minutes\"`",
            );
            ok = false;
        }
    }
    ok
}
