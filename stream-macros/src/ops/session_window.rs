//! `session_window(ts, "5 minutes")` among the keys of `group_by`: Spark's session
//! windows. Each event opens the session `[ts, ts + gap)`; the sessions of one group (the
//! other keys' values) that overlap or touch merge into one, which ends at its last event
//! plus the gap. The session becomes the `session_window_start` and `session_window_end` columns.
//!
//! The gap is a constant interval string (Spark also takes an expression computed per
//! row; that is not supported). Spark's rules, checked here or in `settings::mode_rules`:
//! a session window needs another grouping key, and update mode is refused.
//!
//! State: a store entry per session, keyed by the group and the session's bounds, and
//! routed to its shuffle partition by the group alone, so that all sessions of a group
//! meet in one partition, whatever the partition count.

use crate::check::{Checker, StreamState, TExpr};
use crate::parse::Expr;
use crate::types::DslType;

/// `session_window(time, gap)`, in the time column's unit.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SessionSpec {
    /// The input column of the time.
    pub(crate) time: usize,
    pub(crate) gap: i64,
    pub(crate) unit_per_ms: i64,
    pub(crate) unit: DslType,
}

/// `session_window(time, "gap")`: the spec and the typed time column, or an error on the
/// argument that is wrong.
pub(crate) fn spec(
    cx: &mut Checker,
    stream: &StreamState,
    name: &syn::Ident,
    args: &[Expr],
    time_index: usize,
) -> Option<(SessionSpec, TExpr)> {
    let usage = "write `session_window(ts, \"5 minutes\")`";
    let [time_expr, gap_expr] = args else {
        cx.cx.error(
            name.span(),
            "`session_window` takes a timestamp column and a gap",
            usage,
        );
        return None;
    };
    let time = cx.check_expr(time_expr, &stream.schema, None)?;
    let (unit, unit_per_ms) =
        super::aggregate::time_unit(cx, "session_window", "\"5 minutes\"", time_expr, &time)?;
    let gap = match gap_expr {
        Expr::Lit(syn::Lit::Str(s)) => {
            match super::settings::interval_in_unit(&s.value(), unit_per_ms) {
                Some(gap) if gap > 0 => gap,
                _ if super::settings::refuse_unfixed(cx, s, unit_per_ms, "a session gap") => {
                    return None;
                }
                _ => {
                    cx.cx.error(
                    s.span(),
                    super::options::unreadable_interval("the gap", &s.value()),
                    "write a number above 0 and a unit: \"30 seconds\", \"5 minutes\", \"1 hour\"",
                );
                    return None;
                }
            }
        }
        other => {
            cx.cx.error(
                other.span(),
                "a session gap is a string",
                format!("{usage}; a gap computed from each row is not supported"),
            );
            return None;
        }
    };
    Some((
        SessionSpec {
            time: time_index,
            gap,
            unit_per_ms,
            unit,
        },
        time,
    ))
}

#[cfg(test)]
mod tests {
    use proc_macro2::TokenStream;
    use quote::quote;

    /// The messages of the `compile_error!`s in the expansion of `block`.
    fn errors(block: TokenStream) -> Vec<String> {
        crate::tests::compile_errors(crate::expand::stream_inner(block))
    }

    /// The one error of `block` starts with `message`.
    fn assert_only_error(block: TokenStream, message: &str) {
        let errors = errors(block);
        assert!(
            errors.len() == 1 && errors[0].starts_with(message),
            "expected one error `{message}`, got {errors:#?}"
        );
    }

    /// A block grouping by `keys` (the `tests/ui/stateful/session_window_*.rs` cases).
    fn grouped(keys: TokenStream, mode: TokenStream) -> TokenStream {
        quote! {
            schema Event { ts: timestamp_ms, user: string, name: string }
            read(json, path = "landing/", schema = Event)
                .with_watermark(ts, "10 minutes")
                .group_by(#keys)
                .agg(count() as n)
                .write(console)
                .output_mode(#mode)
        }
    }

    #[test]
    fn a_session_window_in_append_and_complete_mode_checks() {
        for mode in [quote!(append), quote!(complete)] {
            let keys = quote!(session_window(ts, "5 minutes"), user);
            assert_eq!(errors(grouped(keys, mode)), Vec::<String>::new());
        }
    }

    #[test]
    fn update_mode_is_refused_on_the_mode() {
        assert_only_error(
            grouped(
                quote!(session_window(ts, "5 minutes"), user),
                quote!(update),
            ),
            "update mode is not supported with `session_window`",
        );
    }

    #[test]
    fn the_gap_is_a_readable_interval_string() {
        assert_only_error(
            grouped(quote!(session_window(ts, 300), user), quote!(append)),
            "a session gap is a string",
        );
        for gap in ["5 minuets", "0 seconds", "five minutes"] {
            assert_only_error(
                grouped(quote!(session_window(ts, #gap), user), quote!(append)),
                &format!("cannot read the gap `{gap}`"),
            );
        }
        assert_only_error(
            grouped(quote!(session_window(ts), user), quote!(append)),
            "`session_window` takes a timestamp column and a gap",
        );
    }

    #[test]
    fn the_time_is_a_timestamp() {
        assert_only_error(
            grouped(
                quote!(session_window(name, "5 minutes"), user),
                quote!(complete),
            ),
            "`session_window` needs a timestamp, and this is `string`",
        );
    }

    #[test]
    fn a_group_by_takes_one_window() {
        for keys in [
            quote!(session_window(ts, "5 minutes"), window(ts, "1 hour"), user),
            quote!(window(ts, "1 hour"), session_window(ts, "5 minutes"), user),
            quote!(
                session_window(ts, "5 minutes"),
                session_window(ts, "1 minute"),
                user
            ),
        ] {
            assert_only_error(
                grouped(keys, quote!(append)),
                "a `group_by` takes one window",
            );
        }
    }

    #[test]
    fn another_grouping_key_is_needed() {
        assert_only_error(
            grouped(quote!(session_window(ts, "5 minutes")), quote!(complete)),
            "a `session_window` needs another grouping key",
        );
    }

    #[test]
    fn a_key_named_like_a_session_column_is_refused() {
        for keys in [
            quote!(session_window(ts, "5 minutes"), user as session_window_end),
            quote!(user as session_window_end, session_window(ts, "5 minutes")),
        ] {
            assert_only_error(
                grouped(keys, quote!(append)),
                "the output has two columns named `session_window_end`",
            );
        }
    }

    #[test]
    fn append_needs_the_watermark_on_the_session_time() {
        let block = quote! {
            schema Event { ts: timestamp_ms, seen: timestamp_ms, user: string }
            read(json, path = "landing/", schema = Event)
                .with_watermark(ts, "10 minutes")
                .group_by(session_window(seen, "5 minutes"), user)
                .agg(count() as n)
                .write(console)
        };
        assert_only_error(
            block,
            "append mode (the default) needs a watermark on a grouping key of the aggregation",
        );
    }
}
