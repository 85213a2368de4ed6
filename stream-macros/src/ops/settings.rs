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
            None => {
                cx.mode_refused = true;
                let modes = ["append", "update", "complete"];
                // Spark's names are the same, in any case (`Update`, `COMPLETE`)
                let written = name.to_string();
                let help = match modes
                    .iter()
                    .find(|m| m.eq_ignore_ascii_case(&written))
                    .copied()
                    .or_else(|| crate::diag::did_you_mean(&written, modes.iter().copied()))
                {
                    Some(mode) => format!("did you mean `{mode}`? (`.output_mode({mode})`)"),
                    None => "use `append`, `update` or `complete`".to_string(),
                };
                cx.cx
                    .error(name.span(), format!("unknown output mode `{name}`"), help);
            }
        },
        OptionValue::Capture(_) => {
            cx.mode_refused = true;
            super::compile_time::output_mode(cx, value);
        }
        other => {
            cx.mode_refused = true;
            cx.cx.error(
                other.span(),
                "`output_mode` takes the name of a mode",
                "write `.output_mode(append)`, `update` or `complete`, without quotes",
            );
        }
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
                        super::options::unreadable_interval("the interval", &text.value()),
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
    // a checkpoint in no folder can never work
    if let OptionValue::Lit(syn::Lit::Str(s)) = value
        && s.value().trim().is_empty()
        && setting == "checkpoint"
    {
        cx.cx.error(
            s.span(),
            "`checkpoint` is empty",
            "name a folder kept between runs: `checkpoint(\"checkpoints/orders\")`",
        );
        return false;
    }
    true
}

/// An interval string as Spark reads one (`IntervalUtils.stringToInterval`): an optional
/// leading `interval`, then one or more `number unit` pairs, summed (`"1 minute 30
/// seconds"`), each number with an optional sign (`-`, `+`), units in any case, singular
/// or plural: `year`, `month`, `week`, `day`, `hour`, `minute`, `second` (the only unit
/// that takes a fraction, `"1.5 seconds"`, to the microsecond), `millisecond`,
/// `microsecond`; and the short names `ms`, `us`, `s`, `min` and `h`, which Spark does
/// not read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Interval {
    /// Months (a year is 12), whose length varies.
    pub(crate) months: i64,
    /// Everything else, in microseconds (a day is 24 hours, a week 7 days).
    pub(crate) micros: i64,
}

/// Reads `text` as Spark reads an interval string (see [`Interval`]); `None` if it is not
/// one (no number, an unknown unit, a fraction of a unit other than seconds, an
/// overflow).
pub(crate) fn parse_interval(text: &str) -> Option<Interval> {
    const MICROS_PER: [(&str, i64); 7] = [
        ("microsecond", 1),
        ("millisecond", 1_000),
        ("second", 1_000_000),
        ("minute", 60_000_000),
        ("hour", 3_600_000_000),
        ("day", 86_400_000_000),
        ("week", 604_800_000_000),
    ];
    let lower = text.to_lowercase();
    let mut words = lower.split_whitespace().peekable();
    if words.peek() == Some(&"interval") {
        words.next();
    }
    let mut interval = Interval {
        months: 0,
        micros: 0,
    };
    let mut any = false;
    while let Some(word) = words.next() {
        // the number, its sign attached (`-5`) or a word of its own (`- 5`)
        let (negative, number) = match word {
            "-" | "+" => (word == "-", words.next()?),
            _ => match word.strip_prefix('-') {
                Some(rest) => (true, rest),
                None => (false, word.strip_prefix('+').unwrap_or(word)),
            },
        };
        let (whole, fraction) = match number.split_once('.') {
            Some((whole, fraction)) => (whole, Some(fraction)),
            None => (number, None),
        };
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(whole) || fraction.is_some_and(|f| !digits(f) || f.len() > 9) {
            return None;
        }
        let whole: i64 = whole.parse().ok()?;
        let unit = words.next()?;
        let singular = unit
            .strip_suffix('s')
            .filter(|u| u.len() > 1)
            .unwrap_or(unit);
        let (months, micros): (i64, i64) = match (unit, singular) {
            ("ms", _) => (0, 1_000),
            ("us", _) => (0, 1),
            ("s", _) => (0, 1_000_000),
            ("min", _) => (0, 60_000_000),
            ("h", _) => (0, 3_600_000_000),
            (_, "year") => (12, 0),
            (_, "month") => (1, 0),
            (_, name) => (0, MICROS_PER.iter().find(|(n, _)| *n == name)?.1),
        };
        // only seconds take a fraction (as in Spark), to the microsecond
        let fraction_micros = match fraction {
            None => 0,
            Some(_) if micros != 1_000_000 => return None,
            Some(f) => format!("{f:0<6}")[..6].parse::<i64>().ok()?,
        };
        let sign = if negative { -1 } else { 1 };
        let value_months = whole.checked_mul(months)?.checked_mul(sign)?;
        let value_micros = whole
            .checked_mul(micros)?
            .checked_add(fraction_micros)?
            .checked_mul(sign)?;
        interval.months = interval.months.checked_add(value_months)?;
        interval.micros = interval.micros.checked_add(value_micros)?;
        any = true;
    }
    any.then_some(interval)
}

/// Milliseconds of an interval such as `"10 seconds"` or `"1 minute 30 seconds"` (see
/// [`parse_interval`]): `None` for a negative one or one with months or years (whose
/// length varies); microseconds below a millisecond are dropped, as Spark drops them
/// from a trigger's interval and a watermark's delay.
pub(crate) fn interval_ms(text: &str) -> Option<u64> {
    let interval = parse_interval(text)?;
    if interval.months != 0 || interval.micros < 0 {
        return None;
    }
    u64::try_from(interval.micros / 1_000).ok()
}

/// Milliseconds of a watermark's delay: as [`interval_ms`], and a month is 31 days (a year
/// 372), as Spark counts them in a delay (`IntervalUtils.getDuration`).
pub(crate) fn watermark_delay_ms(text: &str) -> Option<i64> {
    const MICROS_PER_MONTH: i64 = 31 * 86_400_000_000;
    let interval = parse_interval(text)?;
    let micros = interval
        .months
        .checked_mul(MICROS_PER_MONTH)?
        .checked_add(interval.micros)?;
    (micros >= 0).then_some(micros / 1_000)
}

/// An interval in a timestamp column's unit (`per_ms` of them in a millisecond: 1 for
/// `timestamp_ms`, 1000 for `timestamp_us`), for a window's size, slide and start and a
/// session's gap: `None` for a negative one, one with months or years (Spark refuses
/// them in a window too) or one finer than the unit (`"1500 microseconds"` over
/// `timestamp_ms`).
pub(crate) fn interval_in_unit(text: &str, per_ms: i64) -> Option<i64> {
    let interval = parse_interval(text)?;
    if interval.months != 0 || interval.micros < 0 || per_ms <= 0 || 1_000 % per_ms != 0 {
        return None;
    }
    let micros_per_unit = 1_000 / per_ms;
    (interval.micros % micros_per_unit == 0).then_some(interval.micros / micros_per_unit)
}

/// An interval string of a window or a session gap that reads but cannot be one: months
/// or years (whose length varies: Spark refuses them in a window too), or a part finer
/// than the time column's unit (`per_ms` of it in a millisecond). Reports it on the
/// string (`what` is "a window" or "a session gap") and returns `true`; `false` if the
/// string is not such an interval.
pub(crate) fn refuse_unfixed(
    cx: &mut Checker,
    text: &syn::LitStr,
    per_ms: i64,
    what: &str,
) -> bool {
    // a negative one is not this case
    let Some(interval) = parse_interval(&text.value()).filter(|i| i.months >= 0 && i.micros >= 0)
    else {
        return false;
    };
    if interval.months != 0 {
        cx.cx.error(
            text.span(),
            format!("{what} cannot be months or years long: `{}`", text.value()),
            "a month or a year has no fixed length (Spark refuses them here too): write days or weeks, \"30 days\", \"52 weeks\"",
        );
        return true;
    }
    if per_ms == 1 && interval.micros % 1_000 != 0 {
        cx.cx.error(
            text.span(),
            format!(
                "{what} finer than the column's milliseconds: `{}`",
                text.value()
            ),
            "a `timestamp_ms` column counts whole milliseconds: round the interval to milliseconds, or make the column a `timestamp_us`",
        );
        return true;
    }
    false
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
        // without keys the state is one row: it does not grow
        (OutputMode::Update, Some(agg)) if !agg.watermarked_key && !agg.global => warnings.push((
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
    use super::{Interval, interval_in_unit, interval_ms, parse_interval, watermark_delay_ms};

    #[test]
    fn intervals() {
        assert_eq!(interval_ms("10 seconds"), Some(10_000));
        assert_eq!(interval_ms("1 minute"), Some(60_000));
        assert_eq!(interval_ms("500 ms"), Some(500));
        assert_eq!(interval_ms("ten seconds"), None);
        assert_eq!(interval_ms("10 fortnights"), None);
    }

    /// Every string the old parser read (a number and one unit among `ms`,
    /// `millisecond(s)`, `s`, `second(s)`, `min`, `minute(s)`, `h`, `hour(s)`, `day(s)`)
    /// gives the same milliseconds, so that no plan's fingerprint changes.
    #[test]
    fn the_strings_read_before_give_the_same_milliseconds() {
        let units: [(&str, u64); 14] = [
            ("ms", 1),
            ("millisecond", 1),
            ("milliseconds", 1),
            ("s", 1_000),
            ("second", 1_000),
            ("seconds", 1_000),
            ("min", 60_000),
            ("minute", 60_000),
            ("minutes", 60_000),
            ("h", 3_600_000),
            ("hour", 3_600_000),
            ("hours", 3_600_000),
            ("day", 86_400_000),
            ("days", 86_400_000),
        ];
        for (unit, per) in units {
            for n in [0_u64, 1, 5, 10, 90, 1_000, 123_456] {
                assert_eq!(
                    interval_ms(&format!("{n} {unit}")),
                    Some(n * per),
                    "{n} {unit}"
                );
                assert_eq!(interval_ms(&format!("  {n}   {unit} ")), Some(n * per));
            }
        }
    }

    /// Spark's interval strings: any case, compound, `interval` in front, weeks, signs,
    /// a fraction of seconds.
    #[test]
    fn spark_interval_strings() {
        assert_eq!(interval_ms("10 Seconds"), Some(10_000));
        assert_eq!(interval_ms("10 SECONDS"), Some(10_000));
        assert_eq!(interval_ms("1 minute 30 seconds"), Some(90_000));
        assert_eq!(interval_ms("interval 1 hour"), Some(3_600_000));
        assert_eq!(interval_ms("INTERVAL 2 Days 3 hours"), Some(183_600_000));
        assert_eq!(interval_ms("1 week"), Some(604_800_000));
        assert_eq!(interval_ms("2 weeks 1 day"), Some(15 * 86_400_000));
        assert_eq!(interval_ms("1.5 seconds"), Some(1_500));
        assert_eq!(interval_ms("1 minute -30 seconds"), Some(30_000));
        assert_eq!(interval_ms("1 minute - 30 seconds"), Some(30_000));
        assert_eq!(interval_ms("+5 seconds"), Some(5_000));
        assert_eq!(interval_ms("250 milliseconds 500 microseconds"), Some(250));
        assert_eq!(interval_ms("2000 us"), Some(2));
        assert_eq!(interval_ms("3 Microseconds"), Some(0));
        // not intervals
        for bad in [
            "",
            "interval",
            "seconds",
            "10",
            "10seconds",
            "1.5 minutes",
            "1. seconds",
            ".5 seconds",
            "1 secondss",
            "1 sec",
            "- seconds",
            "1 minute 30",
            "99999999999999999999 seconds",
            "9223372036854775807 weeks",
        ] {
            assert_eq!(parse_interval(bad), None, "{bad:?}");
        }
        // negative, or of a varying length: not a duration
        assert_eq!(interval_ms("-10 seconds"), None);
        assert_eq!(interval_ms("1 month"), None);
        assert_eq!(
            parse_interval("1 year 2 months -3 days"),
            Some(Interval {
                months: 14,
                micros: -259_200_000_000
            })
        );
        assert_eq!(
            parse_interval("- 1 second").map(|i| i.micros),
            Some(-1_000_000)
        );
    }

    #[test]
    fn a_watermark_delay_counts_a_month_as_31_days() {
        assert_eq!(watermark_delay_ms("10 minutes"), Some(600_000));
        assert_eq!(watermark_delay_ms("1 month"), Some(31 * 86_400_000));
        assert_eq!(watermark_delay_ms("1 year"), Some(372 * 86_400_000));
        assert_eq!(watermark_delay_ms("1 month -1 day"), Some(30 * 86_400_000));
        assert_eq!(watermark_delay_ms("-1 second"), None);
    }

    #[test]
    fn intervals_in_a_columns_unit() {
        assert_eq!(interval_in_unit("10 minutes", 1), Some(600_000));
        assert_eq!(interval_in_unit("10 minutes", 1_000), Some(600_000_000));
        assert_eq!(interval_in_unit("1500 microseconds", 1_000), Some(1_500));
        assert_eq!(interval_in_unit("1500 microseconds", 1), None);
        assert_eq!(interval_in_unit("1.25 seconds", 1), Some(1_250));
        assert_eq!(interval_in_unit("1 week", 1), Some(604_800_000));
        assert_eq!(interval_in_unit("1 month", 1), None);
        assert_eq!(interval_in_unit("-1 minute", 1), None);
    }
}
