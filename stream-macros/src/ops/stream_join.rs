//! `join(other, on = key | [keys], within = "10 seconds")`: a stream–stream inner join.
//! Each row of the stream meets the rows of the stream `other` whose `on` columns are
//! equal (a null key matches nothing), whether the other row came in the same batch or
//! an earlier one: both sides buffer their rows in state.
//!
//! With `within`, a pair must also have event times (the watermarked columns of the two
//! streams) at most that far apart, and both streams need a watermark: a buffered row is
//! evicted once the watermark shows that no row of the other side can still match it
//! (Spark's state watermark for a time-range join condition). Without `within` the
//! state is never evicted, and the checker warns. Input rows at or below the previous
//! batch's watermark are dropped as late, as Spark drops them.
//!
//! The output is the stream's columns, then `other`'s columns but the keys. Only the
//! inner join is built; outer joins are refused.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::check::{Checker, RowRole, Schema, StatefulSeen, StreamState, TypedOp};
use crate::parse::{OptionArg, OptionValue};
use crate::types::DslType;

/// A checked stream–stream join.
#[derive(Clone, Debug)]
pub(crate) struct StreamJoinPlan {
    /// The stateful operator's id (its sides are `<id>-left` and `<id>-right` in the
    /// checkpoint's `state` folder).
    pub(crate) id: usize,
    /// The two inputs' schemas.
    pub(crate) left: Schema,
    pub(crate) right: Schema,
    /// The key columns in each input, in `on` order.
    pub(crate) left_key: Vec<usize>,
    pub(crate) right_key: Vec<usize>,
    /// The right input's columns in the output (all but the keys).
    pub(crate) right_out: Vec<usize>,
    /// Each side's watermarked event-time column and its unit per ms.
    pub(crate) left_time: Option<(usize, i64)>,
    pub(crate) right_time: Option<(usize, i64)>,
    /// `within`, in ms.
    pub(crate) within_ms: Option<i64>,
    /// The row structs (indices into the plan's rows): key, left row, right row.
    pub(crate) rows: [usize; 3],
}

const OPTIONS: &str =
    "`on = column` (or `on = [a, b]`), `how = inner` and `within = \"10 minutes\"`";

/// The event-time column of `stream` and its unit per ms, when it has a watermark.
fn event_time(stream: &StreamState) -> Option<(usize, i64)> {
    let et = stream.event_time.as_ref()?;
    let index = stream.schema.iter().position(|c| c.name == et.column)?;
    let unit = match stream.schema[index].ty.ty {
        DslType::TimestampUs => 1_000,
        _ => 1,
    };
    Some((index, unit))
}

/// What the options of a stream–stream join say.
struct Options {
    on: Vec<syn::Ident>,
    within: Option<(i64, proc_macro2::Span)>,
}

fn options(cx: &mut Checker, options: &[OptionArg]) -> Option<Options> {
    let mut on: Vec<syn::Ident> = Vec::new();
    let mut within = None;
    let mut ok = true;
    for option in options {
        match (option.name.to_string().as_str(), &option.value) {
            ("on", OptionValue::Name(name)) => on = vec![name.clone()],
            ("on", OptionValue::List(_, names)) if !names.is_empty() => on = names.clone(),
            ("how", OptionValue::Name(how)) => match how.to_string().as_str() {
                "inner" => {}
                other @ ("left" | "left_outer" | "right" | "right_outer" | "full"
                | "full_outer" | "outer" | "left_semi" | "left_anti") => {
                    cx.cx.error(
                        how.span(),
                        format!("a `{other}` join of two streams is not supported yet"),
                        "join two streams with `how = inner`; an outer join needs a time bound and emits its unmatched rows when the watermark passes them, which is not built yet",
                    );
                    ok = false;
                }
                other => {
                    cx.cx.error(
                        how.span(),
                        format!("unknown join type `{other}`"),
                        "a stream–stream join is `inner`",
                    );
                    ok = false;
                }
            },
            ("within", OptionValue::Lit(syn::Lit::Str(text))) => {
                match super::settings::interval_ms(&text.value()) {
                    Some(ms) => within = Some((i64::try_from(ms).unwrap_or(i64::MAX), text.span())),
                    None => {
                        cx.cx.error(
                            text.span(),
                            format!("cannot read the time bound `{}`", text.value()),
                            "write a number and a unit: \"30 seconds\", \"10 minutes\", \"1 hour\"",
                        );
                        ok = false;
                    }
                }
            }
            (name @ ("on" | "how" | "within"), value) => {
                let takes = if name == "within" {
                    "a string: `within = \"10 minutes\"`"
                } else {
                    "a name"
                };
                cx.cx.error(
                    value.span(),
                    format!("`{name}` of a stream–stream `join` takes {takes}"),
                    format!("the options are {OPTIONS}"),
                );
                ok = false;
            }
            (other, _) => {
                cx.cx.error(
                    option.name.span(),
                    format!("unknown option `{other}` of a stream–stream `join`"),
                    format!("the options are {OPTIONS}"),
                );
                ok = false;
            }
        }
    }
    ok.then_some(Options { on, within })
}

pub(crate) fn check(
    cx: &mut Checker,
    left: StreamState,
    right: StreamState,
    op: &syn::Ident,
    other: &syn::Ident,
    given: &[OptionArg],
) -> Option<StreamState> {
    if let Some(seen) = left.stateful.as_ref().or(right.stateful.as_ref()) {
        cx.cx.error(
            op.span(),
            format!(
                "a join of two streams after `{}` is not supported yet",
                seen.op
            ),
            "join the streams before the stateful operator",
        );
        return None;
    }
    let Options { on, within } = options(cx, given)?;
    if on.is_empty() {
        cx.cx.error(
            op.span(),
            "`join` needs its key columns",
            format!("name them: `join({other}, on = id)`"),
        );
        return None;
    }
    let keys = super::join::key_columns(
        cx,
        &on,
        &left.schema,
        &right.schema,
        &format!("`{other}`"),
        "join on columns that both streams have, by the same name (rename one side first: `.with_column_renamed(seller, id)`)",
    );
    let mut ok = keys.is_some();
    let (left_key, right_key, key_schema) = keys.unwrap_or_default();
    let right_out: Vec<usize> = (0..right.schema.len())
        .filter(|&r| !on.iter().any(|k| *k == right.schema[r].name))
        .collect();
    let mut output = left.schema.clone();
    for &r in &right_out {
        let column = &right.schema[r];
        if output.iter().any(|c| c.name == column.name) {
            cx.cx.error(
                other.span(),
                format!("the join gives two columns named `{}`", column.name),
                format!(
                    "rename the column on one side first: `.with_column_renamed({0}, {other}_{0})`",
                    column.name
                ),
            );
            ok = false;
            continue;
        }
        output.push(column.clone());
    }
    let (left_time, right_time) = (event_time(&left), event_time(&right));
    if let Some((_, span)) = within {
        let other_name = format!("`{other}`");
        for (time, name) in [(left_time, "the stream"), (right_time, other_name.as_str())] {
            if time.is_none() {
                cx.cx.error(
                    span,
                    format!("`within` needs a watermark on both streams, and {name} has none"),
                    "set one on each side before the join: `.with_watermark(ts, \"10 minutes\")`",
                );
                ok = false;
            }
        }
    }
    if !ok {
        return None;
    }
    let id = cx.stateful_ops;
    cx.stateful_ops += 1;
    let rows = [
        cx.internal_row(key_schema, format!("StreamJoinKey{id}"), RowRole::Key),
        cx.internal_row(
            left.schema.clone(),
            format!("StreamJoinLeft{id}"),
            RowRole::State,
        ),
        cx.internal_row(
            right.schema.clone(),
            format!("StreamJoinRight{id}"),
            RowRole::State,
        ),
    ];
    let plan = StreamJoinPlan {
        id,
        left: left.schema.clone(),
        right: right.schema.clone(),
        left_key,
        right_key,
        right_out,
        left_time,
        right_time,
        within_ms: within.map(|(ms, _)| ms),
        rows,
    };
    let mut branches = Vec::new();
    for (side, stream) in [(0, &left), (1, &right)] {
        for branch in &stream.branches {
            let mut branch = branch.clone();
            branch.ops.push(TypedOp::StreamJoin {
                plan: Box::new(plan.clone()),
                side,
            });
            branches.push(branch);
        }
    }
    Some(StreamState {
        branches,
        schema: output,
        event_time: left.event_time.clone(),
        stateful: Some(StatefulSeen {
            op: "join",
            span: op.span(),
            aggregation: false,
            watermarked_key: within.is_some(),
            session_window: false,
            late_schema: None,
            chained: false,
        }),
    })
}

/// The code of a stream–stream join: the map side drops late rows and rows with a null
/// key, and routes each row to the shuffle partition of its key, tagged with its side;
/// the reduce side matches each left row with the right side's state, then each right
/// row with the left side's (this batch's left rows included), buffers the rows that
/// can still match, evicts what the watermark passed, and commits.
pub(crate) mod emit {
    use super::*;

    /// `|row| -> Option<Key>`: a side's row's key, `None` when a key column is null.
    fn key_of(
        plan: &StreamJoinPlan,
        side: usize,
        key: &TokenStream,
        row: &TokenStream,
    ) -> TokenStream {
        let (schema, indices) = if side == 0 {
            (&plan.left, &plan.left_key)
        } else {
            (&plan.right, &plan.right_key)
        };
        let fields = indices.iter().map(|&i| {
            let field = crate::codegen::rows::field_ident(&schema[i].name);
            if schema[i].ty.nullable {
                quote!(#field: ::core::clone::Clone::clone(&__r.#field))
            } else {
                quote!(#field: ::core::option::Option::Some(::core::clone::Clone::clone(&__r.#field)))
            }
        });
        let checks = indices.iter().map(|&i| {
            let field = crate::codegen::rows::field_ident(&schema[i].name);
            quote!(__k.#field.is_some())
        });
        quote! {
            (|__r: &#row| -> ::core::option::Option<#key> {
                let __k = #key { #(#fields),* };
                (true #(&& #checks)*).then_some(__k)
            }) as fn(&#row) -> ::core::option::Option<#key>
        }
    }

    /// `|row| -> Option<i64>`: a side's row's event time in µs (`None` without one).
    fn time_of(plan: &StreamJoinPlan, side: usize, row: &TokenStream) -> TokenStream {
        let (schema, time) = if side == 0 {
            (&plan.left, plan.left_time)
        } else {
            (&plan.right, plan.right_time)
        };
        let body = match time {
            Some((index, unit)) => {
                let field = crate::codegen::rows::field_ident(&schema[index].name);
                let to_us = 1_000 / unit;
                if schema[index].ty.nullable {
                    quote!(__r.#field.map(|__t| __t.0.saturating_mul(#to_us)))
                } else {
                    quote!(::core::option::Option::Some(__r.#field.0.saturating_mul(#to_us)))
                }
            }
            None => quote!(::core::option::Option::None),
        };
        quote!(|__r: &#row| -> ::core::option::Option<i64> { #body })
    }

    /// Routes each row to its key's shuffle partition (tagged with its side); drops late
    /// rows and rows with a null key.
    pub(crate) fn map_side(plan: &StreamJoinPlan, rows: &[TokenStream; 3]) -> TokenStream {
        let [key, _, _] = rows;
        let typed = quote!(::stream_core::types::TypedRow);
        let p = quote!(::stream_core::__private);
        let k = quote!(::stream_core::__private::kernels);
        let dropped = crate::codegen::stateful::report_dropped(plan.id, "symmetricHashJoin");
        let late = |time: Option<(usize, i64)>, schema: &Schema| match time {
            Some((index, unit)) => {
                let arrow = schema[index].ty.ty.arrow_primitive();
                let name = &schema[index].name;
                quote! {
                    let __late = #p::from_ms(__ctx.late_watermark_ms, #unit);
                    let __keep: ::std::vec::Vec<bool> = #k::primitive::<#arrow>(&__batch, #index, #name)?
                        .iter()
                        .map(|__t| __t.is_none_or(|__t| __t > __late))
                        .collect();
                    let __kept = __keep.iter().filter(|__k| **__k).count();
                    if __kept < __batch.num_rows() {
                        __dropped += (__batch.num_rows() - __kept) as u64;
                        __batch = #k::keep_rows(&__batch, __keep)?;
                    }
                }
            }
            None => TokenStream::new(),
        };
        let late_left = late(plan.left_time, &plan.left);
        let late_right = late(plan.right_time, &plan.right);
        let (left_key, right_key) = (&plan.left_key, &plan.right_key);
        let fields: Vec<syn::Ident> = plan
            .left_key
            .iter()
            .map(|&i| crate::codegen::rows::field_ident(&plan.left[i].name))
            .collect();
        quote! {
            let __parts = __ctx.shuffle_partitions.max(1);
            let mut __buckets: ::std::vec::Vec<::std::vec::Vec<::stream_core::InputChunk>> =
                (0..__parts).map(|_| ::std::vec::Vec::new()).collect();
            let mut __dropped: u64 = 0;
            for __chunk in __batches {
                let __side = __chunk.input;
                let mut __batch = __chunk.batch;
                let __key_columns: &[usize] = if __side == 0 {
                    #late_left
                    &[#(#left_key),*]
                } else {
                    #late_right
                    &[#(#right_key),*]
                };
                let __keys = <#key as #typed>::from_batch(&__batch.project(__key_columns)?)?;
                let mut __rows: ::std::vec::Vec<::std::vec::Vec<u32>> =
                    (0..__parts).map(|_| ::std::vec::Vec::new()).collect();
                for (__i, __key) in __keys.iter().enumerate() {
                    // a null key matches nothing
                    if true #(&& __key.#fields.is_some())* {
                        __rows[#p::partition_of(__key.__stable_hash(), __parts)].push(__i as u32);
                    }
                }
                for (__p, __ix) in __rows.into_iter().enumerate() {
                    if !__ix.is_empty() {
                        __buckets[__p].push(::stream_core::InputChunk {
                            input: __side,
                            batch: #k::take_rows(&__batch, __ix)?,
                        });
                    }
                }
            }
            #dropped
            ::core::result::Result::Ok(::stream_core::TaskOutput::Exchange(__buckets))
        }
    }

    /// Joins the partition's rows with both sides' state, in Spark's order (left rows
    /// first, then right rows), so that each pair is output once.
    pub(crate) fn reduce_side(plan: &StreamJoinPlan, rows: &[TokenStream; 3]) -> TokenStream {
        let [key, left, right] = rows;
        let typed = quote!(::stream_core::types::TypedRow);
        let p = quote!(::stream_core::__private);
        let id = plan.id;
        let field = format_ident!("__state{}", id);
        let left_key = key_of(plan, 0, key, left);
        let right_key = key_of(plan, 1, key, right);
        let left_time = time_of(plan, 0, left);
        let right_time = time_of(plan, 1, right);
        let right_out = &plan.right_out;
        // with a time bound: whether two times meet it, and whether a buffered row can
        // still meet a row that is not late (after the watermark)
        let (meets, expired) = match plan.within_ms {
            Some(ms) => {
                let us = ms.saturating_mul(1_000);
                (
                    quote! {
                        |__a: ::core::option::Option<i64>, __b: ::core::option::Option<i64>| match (__a, __b) {
                            (::core::option::Option::Some(__a), ::core::option::Option::Some(__b)) => {
                                __a.abs_diff(__b) <= #us as u64
                            }
                            _ => false,
                        }
                    },
                    quote! {
                        |__t: ::core::option::Option<i64>| __t.is_none_or(|__t| __t.saturating_add(#us) <= __wm_us)
                    },
                )
            }
            None => (
                quote!(|_: ::core::option::Option<i64>, _: ::core::option::Option<i64>| true),
                quote!(|_: ::core::option::Option<i64>| false),
            ),
        };
        quote! {
            let __left_key = #left_key;
            let __right_key = #right_key;
            let __left_time = #left_time;
            let __right_time = #right_time;
            let __wm_us = #p::from_ms(__ctx.watermark_ms, 1_000);
            let __meets = #meets;
            let __expired = #expired;
            let (mut __left, mut __right) = self.#field.take(__ctx, #id, __left_key, __right_key)?;
            let mut __out_left: ::std::vec::Vec<#left> = ::std::vec::Vec::new();
            let mut __out_right: ::std::vec::Vec<#right> = ::std::vec::Vec::new();
            for __chunk in input.iter().filter(|__c| __c.input == 0) {
                for __row in <#left as #typed>::from_batch(&__chunk.batch)? {
                    let ::core::option::Option::Some(__key) = __left_key(&__row) else { continue };
                    let __t = __left_time(&__row);
                    for __m in __right.matches(&__key) {
                        if __meets(__t, __right_time(__m)) {
                            __out_left.push(::core::clone::Clone::clone(&__row));
                            __out_right.push(::core::clone::Clone::clone(__m));
                        }
                    }
                    __left.insert(__row);
                }
            }
            for __chunk in input.iter().filter(|__c| __c.input == 1) {
                for __row in <#right as #typed>::from_batch(&__chunk.batch)? {
                    let ::core::option::Option::Some(__key) = __right_key(&__row) else { continue };
                    let __t = __right_time(&__row);
                    for __m in __left.matches(&__key) {
                        if __meets(__left_time(__m), __t) {
                            __out_left.push(::core::clone::Clone::clone(__m));
                            __out_right.push(::core::clone::Clone::clone(&__row));
                        }
                    }
                    __right.insert(__row);
                }
            }
            // evicted only now: a row of this batch meets every row of the batch
            __left.evict(|__r| __expired(__left_time(__r)));
            __right.evict(|__r| __expired(__right_time(__r)));
            self.#field.commit(__ctx, #id, __left, __right)?;
            let __l = <#left as #typed>::to_batch(&__out_left)?;
            let __r = <#right as #typed>::to_batch(&__out_right)?.project(&[#(#right_out),*])?;
            ::core::result::Result::Ok(::std::vec![#p::zip_batches(&__l, &__r)?])
        }
    }

    pub(crate) fn state_field(
        plan: &StreamJoinPlan,
        rows: &[TokenStream; 3],
    ) -> (syn::Ident, TokenStream) {
        let [key, left, right] = rows;
        (
            format_ident!("__state{}", plan.id),
            quote!(::stream_core::__private::JoinSlots<#key, #left, #right>),
        )
    }
}
