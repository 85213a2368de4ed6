//! `session_window(ts, "5 minutes")` among the keys of `group_by`: Spark's session
//! windows. Each event opens the session `[ts, ts + gap)`; the sessions of one group (the
//! other keys' values) that overlap or touch merge into one, which ends at its last event
//! plus the gap. The session becomes the `session_start` and `session_end` columns.
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
    let gap_ms = match gap_expr {
        Expr::Lit(syn::Lit::Str(s)) => match super::settings::interval_ms(&s.value()) {
            Some(ms) if ms > 0 => ms,
            _ => {
                cx.cx.error(
                    s.span(),
                    format!("cannot read the gap `{}`", s.value()),
                    "write a number above 0 and a unit: \"30 seconds\", \"5 minutes\", \"1 hour\"",
                );
                return None;
            }
        },
        other => {
            cx.cx.error(
                other.span(),
                "a session gap is a string",
                format!("{usage}; a gap computed from each row is not supported"),
            );
            return None;
        }
    };
    let gap = i64::try_from(gap_ms)
        .unwrap_or(i64::MAX)
        .saturating_mul(unit_per_ms);
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

/// The code of a session aggregation. The map side folds each row into the session it
/// opens, merges each group's sessions, and routes them by the group; the reduce side
/// merges them with the group's stored sessions and emits as the output mode says.
pub(crate) mod emit {
    use proc_macro2::TokenStream;
    use quote::quote;

    use super::SessionSpec;
    use crate::ops::aggregate::AggPlan;
    use crate::ops::aggregate::emit as agg;

    /// A closure `__group(key) -> key`: the key with its session bounds cleared, which
    /// stands for the group of its sessions.
    fn group_fn(key: &TokenStream) -> TokenStream {
        quote! {
            let __group = |mut __k: #key| -> #key {
                __k.session_start = ::core::default::Default::default();
                __k.session_end = ::core::default::Default::default();
                __k
            };
        }
    }

    /// A `SessionPart` of key `__k` and value `__a`, stored under `stored`.
    fn part(stored: &TokenStream) -> TokenStream {
        quote! {
            ::stream_core::__private::SessionPart {
                start: __k.session_start.0,
                end: __k.session_end.0,
                value: __a,
                stored: #stored,
            }
        }
    }

    /// `fn` body: `__batches` to an exchange of merged sessions. Rows whose own session
    /// ends at or before the previous batch's watermark are dropped as late, in every
    /// output mode (Spark drops them before the state is read, whatever the mode).
    pub(crate) fn map_side(
        plan: &AggPlan,
        s: SessionSpec,
        rows: &[TokenStream; 4],
        late_sink: bool,
    ) -> TokenStream {
        let [input, key, acc, _] = rows;
        let agg::LateRows {
            init,
            rows: row_loop,
            keep,
            after_batch,
            report,
        } = agg::late_rows(late_sink, plan.id, input, agg::reads_key_columns(plan));
        let p = quote!(::stream_core::__private);
        let key_fields = agg::key_fields(plan);
        let readers = agg::key_readers(plan);
        let updates = plan
            .aggs
            .iter()
            .enumerate()
            .map(|(i, a)| agg::update(i, a, plan));
        let merge = agg::merge(plan);
        let unit = agg::unit_type(s.unit);
        let gap = s.gap;
        let unit_per_ms = s.unit_per_ms;
        let time = if plan.input_schema[s.time].ty.nullable {
            quote! {
                let ::core::option::Option::Some(__t) = __row.__t else { continue; };
                let __t = __t.0;
            }
        } else {
            quote!(let __t = __row.__t.0;)
        };
        let late = if plan.evict {
            quote! {
                if __se <= __late {
                    __dropped += 1;
                    #keep
                    continue;
                }
            }
        } else {
            TokenStream::new()
        };
        let group = group_fn(key);
        let part = part(&quote!(::core::option::Option::None));
        let dropped = crate::codegen::stateful::report_dropped(plan.id, "stateStoreSave");
        let exchange = agg::exchange(key, acc);
        quote! {
            let __late = #p::from_ms(__ctx.late_watermark_ms, #unit_per_ms);
            let _ = __late;
            let mut __dropped: u64 = 0;
            #init
            // each row's own session, aggregated per key and start
            let mut __partial: #p::FastHashMap<#key, #acc> = #p::FastHashMap::default();
            for __batch in &__batches {
                #(#readers)*
                #row_loop {
                    #time
                    let (__ss, __se) = #p::session_of(__t, #gap);
                    #late
                    let __acc = __partial
                        .entry(#key {
                            session_start: #unit(__ss),
                            session_end: #unit(__se),
                            #(#key_fields,)*
                        })
                        .or_default();
                    #(#updates)*
                }
                #after_batch
            }
            #dropped
            #report
            // this task's sessions of each group, merged, and routed by the group
            #group
            let mut __groups: #p::FastHashMap<#key, ::std::vec::Vec<#p::SessionPart<(), #acc>>> =
                #p::FastHashMap::default();
            for (__k, __a) in __partial {
                let __part = #part;
                __groups.entry(__group(__k)).or_default().push(__part);
            }
            let __parts = __ctx.shuffle_partitions.max(1);
            let mut __keys: ::std::vec::Vec<::std::vec::Vec<#key>> =
                (0..__parts).map(|_| ::std::vec::Vec::new()).collect();
            let mut __accs: ::std::vec::Vec<::std::vec::Vec<#acc>> =
                (0..__parts).map(|_| ::std::vec::Vec::new()).collect();
            for (__g, __sessions) in __groups {
                let __p = #p::partition_of(__g.__stable_hash(), __parts);
                for __m in #p::merge_sessions(__sessions, |__into: &mut #acc, __from: #acc| { #merge }) {
                    let mut __k = ::core::clone::Clone::clone(&__g);
                    __k.session_start = #unit(__m.start);
                    __k.session_end = #unit(__m.end);
                    __keys[__p].push(__k);
                    __accs[__p].push(__m.value);
                }
            }
            #exchange
        }
    }

    /// `fn` body: the exchanged sessions of this partition (`input`) merged with the
    /// stored sessions of their groups, then the rows the output mode emits: append,
    /// the sessions the watermark closed (their end at or before it), evicted; complete,
    /// every session.
    pub(crate) fn reduce_side(
        plan: &AggPlan,
        s: SessionSpec,
        rows: &[TokenStream; 4],
        mode: &str,
    ) -> TokenStream {
        let [_, key, acc, out] = rows;
        let typed = quote!(::stream_core::types::TypedRow);
        let p = quote!(::stream_core::__private);
        let id = plan.id;
        let op = id.to_string();
        let field = quote::format_ident!("__state{}", id);
        let merge = agg::merge(plan);
        let finish = agg::finish(plan, out);
        let unit = agg::unit_type(s.unit);
        let unit_per_ms = s.unit_per_ms;
        let group = group_fn(key);
        let incoming = part(&quote!(::core::option::Option::None));
        let stored = part(&quote!(::core::option::Option::Some(
            ::core::clone::Clone::clone(&__k)
        )));
        let emit = if mode == "complete" {
            quote! {
                let __out: ::std::vec::Vec<#out> = __store
                    .iter()
                    .map(|(__k, __a)| {
                        let (__k, __a) = (::core::clone::Clone::clone(__k), ::core::clone::Clone::clone(__a));
                        #finish
                    })
                    .collect();
            }
        } else if plan.evict {
            quote! {
                let __out: ::std::vec::Vec<#out> = __store
                    .remove_where(|__k, _| __k.session_end.0 <= __wm)
                    .into_iter()
                    .map(|(__k, __a)| #finish)
                    .collect();
            }
        } else {
            // refused by the checker (append needs the watermark on the session's time)
            quote!(let __out: ::std::vec::Vec<#out> = ::std::vec::Vec::new();)
        };
        quote! {
            let mut __store = #p::take_store(&self.#field, __ctx, #op)?;
            #group
            let mut __groups: #p::FastHashMap<#key, ::std::vec::Vec<#p::SessionPart<#key, #acc>>> =
                #p::FastHashMap::default();
            for __chunk in input {
                let __ks = <#key as #typed>::from_batch(&__chunk.batch)?;
                let __as = <#acc as #typed>::from_batch(&__chunk.batch)?;
                for (__k, __a) in __ks.into_iter().zip(__as) {
                    let __part = #incoming;
                    __groups.entry(__group(__k)).or_default().push(__part);
                }
            }
            // the stored sessions of the groups this batch has sessions for
            if !__groups.is_empty() {
                let __stored: ::std::vec::Vec<(#key, #acc)> = __store
                    .iter()
                    .filter(|(__k, _)| __groups.contains_key(&__group(::core::clone::Clone::clone(*__k))))
                    .map(|(__k, __a)| (::core::clone::Clone::clone(__k), ::core::clone::Clone::clone(__a)))
                    .collect();
                for (__k, __a) in __stored {
                    let __part = #stored;
                    if let ::core::option::Option::Some(__sessions) = __groups.get_mut(&__group(__k)) {
                        __sessions.push(__part);
                    }
                }
            }
            for (__g, __sessions) in __groups {
                for __m in #p::merge_sessions(__sessions, |__into: &mut #acc, __from: #acc| { #merge }) {
                    if !__m.changed {
                        continue;
                    }
                    for __old in &__m.replaces {
                        __store.remove(__old);
                    }
                    let mut __k = ::core::clone::Clone::clone(&__g);
                    __k.session_start = #unit(__m.start);
                    __k.session_end = #unit(__m.end);
                    __store.put(__k, __m.value);
                }
            }
            let __wm = #p::from_ms(__ctx.watermark_ms, #unit_per_ms);
            let _ = __wm;
            #emit
            #p::commit_store(&self.#field, __ctx, #id, "stateStoreSave", __store)?;
            ::core::result::Result::Ok(::std::vec![<#out as #typed>::to_batch(&__out)?])
        }
    }
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
            quote!(session_window(ts, "5 minutes"), user as session_end),
            quote!(user as session_end, session_window(ts, "5 minutes")),
        ] {
            assert_only_error(
                grouped(keys, quote!(append)),
                "the output has two columns named `session_end`",
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
