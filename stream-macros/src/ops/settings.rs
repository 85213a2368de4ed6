//! `.output_mode(..)`, `.trigger(..)`: checked names; `checkpoint` and `query_name` are
//! taken as given.

use proc_macro2::Span;

use crate::check::{Checker, StatefulKind, StatefulSeen, StreamState};
use crate::parse::{OptionValue, TriggerSpec};
use crate::plan::{
    LateRowsPlan, ModeSetting, OutputMode, Schema, Settings, Trigger, WatermarkPolicy,
};

/// `.output_mode(append | update | complete)`: a name, never a capture (the checks
/// depend on the mode).
pub(crate) fn output_mode(cx: &mut Checker, value: &OptionValue, settings: &mut Settings) {
    match value {
        OptionValue::Name(name) => match OutputMode::from_name(&name.to_string()) {
            Some(mode) => {
                settings.output_mode = Some(ModeSetting {
                    mode,
                    span: name.span(),
                });
            }
            None => cx.cx.error(
                name.span(),
                format!("unknown output mode `{name}`"),
                "use `append`, `update` or `complete`",
            ),
        },
        OptionValue::Capture(_) => super::compile_time::output_mode(cx, value),
        other => cx.cx.error(
            other.span(),
            "`output_mode` takes the name of a mode",
            "write `.output_mode(append)`, `update` or `complete`, without quotes",
        ),
    }
}

/// `.watermark_policy(min | max)`: a name, never a capture.
pub(crate) fn watermark_policy(cx: &mut Checker, value: &OptionValue, settings: &mut Settings) {
    match value {
        OptionValue::Name(name) => match WatermarkPolicy::from_name(&name.to_string()) {
            Some(policy) => settings.watermark_policy = Some(policy),
            None => cx.cx.error(
                name.span(),
                format!("unknown watermark policy `{name}`"),
                "use `min` (the slowest input decides, the default) or `max` (the fastest)",
            ),
        },
        OptionValue::Capture(_) => super::compile_time::watermark_policy(cx, value),
        other => cx.cx.error(
            other.span(),
            "`watermark_policy` takes the name of a policy",
            "write `.watermark_policy(min)` or `.watermark_policy(max)`, without quotes",
        ),
    }
}

/// `.trigger(..)`: a trigger by name, `processing_time` with an interval string or a
/// captured `Duration`, or a whole captured `Trigger` (no check depends on the
/// trigger, so it may be chosen at run time).
pub(crate) fn trigger(cx: &mut Checker, trigger: &TriggerSpec, settings: &mut Settings) {
    let checked = match trigger {
        TriggerSpec::Default => Trigger::Default,
        TriggerSpec::Once => Trigger::Once,
        TriggerSpec::AvailableNow => Trigger::AvailableNow,
        TriggerSpec::ProcessingTime(OptionValue::Lit(syn::Lit::Str(text))) => {
            match interval_ms(&text.value()) {
                Some(ms) => Trigger::ProcessingTime { ms },
                None => {
                    cx.cx.error(
                        text.span(),
                        format!("cannot read the interval `{}`", text.value()),
                        "write a number and a unit: \"500 milliseconds\", \"10 seconds\", \"1 minute\", \"2 hours\"",
                    );
                    return;
                }
            }
        }
        TriggerSpec::ProcessingTime(OptionValue::Capture(b)) => {
            Trigger::ProcessingTimeCaptured(b.clone())
        }
        TriggerSpec::ProcessingTime(other) => {
            cx.cx.error(
                other.span(),
                "`processing_time` takes an interval",
                "write `processing_time(\"10 seconds\")` or capture a `Duration`: `processing_time({interval})`",
            );
            return;
        }
        TriggerSpec::Capture(b) => Trigger::Captured(b.clone()),
    };
    settings.trigger = Some(checked);
}

/// `checkpoint(..)` and `query_name(..)` take a string literal, a bare name (taken as its
/// text) or a captured Rust value; other literals are refused on the token.
pub(crate) fn text(cx: &mut Checker, setting: &syn::Ident, value: &OptionValue) -> bool {
    if let OptionValue::Lit(lit) = value
        && !matches!(lit, syn::Lit::Str(_))
    {
        let example = if setting == "checkpoint" {
            "checkpoint(\"checkpoints/orders\")"
        } else {
            "query_name(\"orders\")"
        };
        cx.cx.error(
            lit.span(),
            format!("`{setting}` takes a string"),
            format!("write `{example}`, or capture a Rust value: `{setting}({{value}})`"),
        );
        return false;
    }
    true
}

/// Milliseconds of an interval such as `"10 seconds"` (Spark's interval strings).
pub(crate) fn interval_ms(text: &str) -> Option<u64> {
    let mut parts = text.split_whitespace();
    let n: u64 = parts.next()?.parse().ok()?;
    let unit = parts.next()?;
    if parts.next().is_some() {
        return None;
    }
    let per = match unit {
        "ms" | "millisecond" | "milliseconds" => 1,
        "s" | "second" | "seconds" => 1_000,
        "min" | "minute" | "minutes" => 60_000,
        "h" | "hour" | "hours" => 3_600_000,
        "day" | "days" => 86_400_000,
        _ => return None,
    };
    n.checked_mul(per)
}

/// Spark's output-mode rules for stateful queries (its `UnsupportedOperationChecker`),
/// as compile errors on the mode or the operator; returns the warnings about state that
/// can only grow.
pub(crate) fn mode_rules(
    cx: &mut Checker,
    stateful: Option<&StatefulSeen>,
    mode: Option<ModeSetting>,
) -> Vec<(Span, String)> {
    let name = mode.map(|m| m.mode).unwrap_or_default();
    // where an error about the mode points: the mode, or else the operator
    let on_mode = |or: Span| mode.map_or(or, |m| m.span);
    let mut warnings = Vec::new();
    let aggregation = stateful.filter(|s| s.aggregation);
    match (name, aggregation) {
        (OutputMode::Update, Some(agg)) if agg.session_window => cx.cx.error(
            on_mode(agg.span),
            "update mode is not supported with `session_window`",
            "a session can still grow and merge until the watermark passes its end (Spark refuses this too): use `.output_mode(append)` to write each session once, when it closes, or `.output_mode(complete)`",
        ),
        (OutputMode::Complete, None) => cx.cx.error(
            on_mode(Span::call_site()),
            "complete mode needs an aggregation",
            "complete mode writes the whole result table every batch: aggregate (`.group_by(..).agg(..)`), or use `.output_mode(append)`",
        ),
        (OutputMode::Append, Some(agg)) if !agg.watermarked_key => {
            let (span, which) = match mode {
                Some(m) => (m.span, "append mode"),
                None => (agg.span, "append mode (the default)"),
            };
            cx.cx.error(
                span,
                format!("{which} needs a watermark on a grouping key of the aggregation"),
                "a group is written once, when the watermark closes it: add `.with_watermark(ts, \"10 minutes\")` before `group_by` and group by `window(ts, ..)`, or use `.output_mode(update)` or `complete`",
            );
        }
        (OutputMode::Update, Some(agg)) if !agg.watermarked_key => warnings.push((
            agg.span,
            "the state of this aggregation can only grow: without a watermark on a grouping key no group is ever evicted; add `.with_watermark(ts, \"10 minutes\")` and group by `window(ts, ..)`".to_string(),
        )),
        _ => {}
    }
    if let Some(agg) = stateful.filter(|s| s.chained)
        && name != OutputMode::Append
    {
        cx.cx.error(
            on_mode(agg.span),
            format!("{name} mode is not supported with an aggregation of an aggregation"),
            "the second aggregation gets each window of the first once, when the watermark closes it (Spark 3.4+ chains aggregations in append mode only): use `.output_mode(append)`",
        );
        return warnings;
    }
    if let Some(join) = stateful.filter(|s| s.op == StatefulKind::Join) {
        if name == OutputMode::Update {
            cx.cx.error(
                on_mode(join.span),
                "update mode is not supported with a join of two streams",
                "a joined row is written once, when both rows have come (Spark refuses this too): use `.output_mode(append)`",
            );
        }
        if !join.watermarked_key {
            warnings.push((
                join.span,
                "the state of this join can only grow: without a time bound no row of either stream is ever evicted; add `.with_watermark(ts, \"10 minutes\")` to both streams and `within = \"10 minutes\"` to the join".to_string(),
            ));
        }
        return warnings;
    }
    if let Some(s) = stateful.filter(|s| !s.aggregation && !s.watermarked_key) {
        warnings.push((
            s.span,
            format!(
                "the state of `{}` can only grow: without a watermark on a key column no key is ever evicted; add `.with_watermark(ts, \"10 minutes\")` and make `ts` a key",
                s.op
            ),
        ));
    }
    warnings
}

/// `.late_rows(kind, ..)`: the written stream must have gone through a stateful
/// operator that drops late rows (one with a watermark, in a mode that drops them), and
/// the sink must append. Returns the schema of the late rows; `None` after an error.
pub(crate) fn late_rows(
    cx: &mut Checker,
    late: &LateRowsPlan,
    output: Option<&StreamState>,
    mode: OutputMode,
) -> Option<Schema> {
    // the stream had errors of its own: nothing more to say
    let output = output?;
    let Some(seen) = &output.stateful else {
        cx.cx.error(
            late.span,
            "`late_rows` needs a stateful operator with a watermark",
            "only an aggregation or `drop_duplicates` drops rows as late: add `.with_watermark(ts, \"10 minutes\")` and group by `window(ts, ..)`, or drop duplicates, before `.write(..)`",
        );
        return None;
    };
    if seen.chained {
        cx.cx.error(
            late.span,
            "`late_rows` with two aggregations is not supported yet",
            "leave out `late_rows`: the first aggregation's late rows are counted in the progress's `numRowsDroppedByWatermark`",
        );
        return None;
    }
    if seen.op == StatefulKind::Join {
        cx.cx.error(
            late.span,
            "`late_rows` after a join of two streams is not supported yet",
            "the join drops late rows of both streams, which have different columns: leave out `late_rows`; `numRowsDroppedByWatermark` in the progress counts them",
        );
        return None;
    }
    let Some(schema) = &seen.late_schema else {
        cx.cx.error(
            late.span,
            format!("`{}` never drops a row as late", seen.op),
            "rows are dropped as late only against a watermark: add `.with_watermark(ts, \"10 minutes\")` before it (and for an aggregation group by `window(ts, ..)`)",
        );
        return None;
    };
    if mode == OutputMode::Complete && seen.aggregation && !seen.session_window {
        cx.cx.error(
            late.span,
            "`late_rows` with complete mode: no row is dropped as late",
            "complete mode keeps every row in the result table (as Spark does): use `.output_mode(append)` or `update`, or leave out `late_rows`",
        );
        return None;
    }
    let takes = super::sink::modes(&late.sink);
    if !takes.contains(&OutputMode::Append) {
        cx.cx.error(
            late.span,
            "the late-rows sink cannot append",
            format!(
                "late rows are appended batch by batch, and this sink takes {}: write them to a sink that appends (memory, a file format)",
                super::sink::mode_list(takes)
            ),
        );
        return None;
    }
    Some(schema.clone())
}

#[cfg(test)]
mod tests {
    #[test]
    fn intervals() {
        assert_eq!(super::interval_ms("10 seconds"), Some(10_000));
        assert_eq!(super::interval_ms("1 minute"), Some(60_000));
        assert_eq!(super::interval_ms("500 ms"), Some(500));
        assert_eq!(super::interval_ms("ten seconds"), None);
        assert_eq!(super::interval_ms("10 fortnights"), None);
    }
}
