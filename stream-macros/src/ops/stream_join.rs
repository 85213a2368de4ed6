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

use crate::check::{Checker, RowRole, StatefulKind, StatefulSeen, StreamState};
use crate::parse::{OptionArg, OptionValue};
use crate::plan::{Schema, TypedOp};
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
                            super::options::unreadable_interval("the time bound", &text.value()),
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
        dropped_event_time: None,
        stateful: Some(StatefulSeen {
            op: StatefulKind::Join,
            span: op.span(),
            aggregation: false,
            watermarked_key: within.is_some(),
            session_window: false,
            late_schema: None,
            chained: false,
            global: false,
        }),
    })
}

/// The code of a stream–stream join: the `StreamJoin` impl of its key and row structs
/// (how a row's key and event time are read), and the runtime's `StreamJoinExec` told
/// each side's key and time columns (see `stream_core::__private::stream_join`).
pub(crate) mod emit {
    use super::*;
    use crate::codegen::stateful::StatefulCode;

    /// `fn <name>(row) -> Option<Key>`: a side's row's key, `None` when a part is null.
    fn key_of(
        plan: &StreamJoinPlan,
        side: usize,
        key: &TokenStream,
        row: &TokenStream,
    ) -> TokenStream {
        let (schema, indices, name) = if side == 0 {
            (&plan.left, &plan.left_key, format_ident!("left_key"))
        } else {
            (&plan.right, &plan.right_key, format_ident!("right_key"))
        };
        let fields = indices.iter().map(|&i| {
            let field = crate::codegen::rows::field_ident(&schema[i].name);
            if schema[i].ty.nullable {
                quote!(#field: ::core::clone::Clone::clone(&__r.#field))
            } else {
                quote!(#field: ::core::option::Option::Some(::core::clone::Clone::clone(&__r.#field)))
            }
        });
        quote! {
            fn #name(__r: &#row) -> ::core::option::Option<#key> {
                let __k = #key { #(#fields),* };
                <Self as ::stream_core::__private::StreamJoin>::is_valid(&__k).then_some(__k)
            }
        }
    }

    /// `fn <name>(row) -> Option<i64>`: a side's row's event time in µs, if it has one.
    fn time_of(plan: &StreamJoinPlan, side: usize, row: &TokenStream) -> TokenStream {
        let (schema, time, name) = if side == 0 {
            (&plan.left, plan.left_time, format_ident!("left_time"))
        } else {
            (&plan.right, plan.right_time, format_ident!("right_time"))
        };
        let Some((index, unit)) = time else {
            return TokenStream::new();
        };
        let field = crate::codegen::rows::field_ident(&schema[index].name);
        let to_us = 1_000 / unit;
        let body = if schema[index].ty.nullable {
            quote!(__r.#field.map(|__t| __t.0.saturating_mul(#to_us)))
        } else {
            quote!(::core::option::Option::Some(__r.#field.0.saturating_mul(#to_us)))
        };
        quote! {
            fn #name(__r: &#row) -> ::core::option::Option<i64> {
                #body
            }
        }
    }

    /// A side's key columns and event-time column, as the runtime's `JoinSideConf`.
    fn side_conf(schema: &Schema, key: &[usize], time: Option<(usize, i64)>) -> TokenStream {
        let time = match time {
            Some((index, unit)) => {
                let name = &schema[index].name;
                quote!(::core::option::Option::Some((#index, #name, #unit)))
            }
            None => quote!(::core::option::Option::None),
        };
        quote! {
            ::stream_core::__private::JoinSideConf { key: ::std::vec![#(#key),*], time: #time }
        }
    }

    pub(crate) fn executor(plan: &StreamJoinPlan, rows: &[TokenStream; 3]) -> StatefulCode {
        let [key, left, right] = rows;
        let p = quote!(::stream_core::__private);
        let spec = format_ident!("__Join{}", plan.id);
        let fields = plan
            .left_key
            .iter()
            .map(|&i| crate::codegen::rows::field_ident(&plan.left[i].name));
        let functions = [
            key_of(plan, 0, key, left),
            key_of(plan, 1, key, right),
            time_of(plan, 0, left),
            time_of(plan, 1, right),
        ];
        let items = quote! {
            #[allow(non_camel_case_types)]
            struct #spec;
            impl #p::StreamJoin for #spec {
                type Key = #key;
                type Left = #left;
                type Right = #right;
                fn is_valid(__k: &#key) -> bool {
                    true #(&& __k.#fields.is_some())*
                }
                #(#functions)*
            }
        };
        let id = plan.id;
        let left_conf = side_conf(&plan.left, &plan.left_key, plan.left_time);
        let right_conf = side_conf(&plan.right, &plan.right_key, plan.right_time);
        let within = match plan.within_ms {
            Some(ms) => quote!(::core::option::Option::Some(#ms)),
            None => quote!(::core::option::Option::None),
        };
        let right_out = &plan.right_out;
        let field = format_ident!("__state{}", id);
        StatefulCode {
            items,
            map: quote!(self.#field.map(__ctx, __batches)),
            reduce: quote!(self.#field.reduce(__ctx, input)),
            check: quote!(self.#field.check_state(__checkpoint)),
            field: quote!(#field: #p::StreamJoinExec<#spec>),
            init: quote! {
                #field: #p::StreamJoinExec::new(#p::StreamJoinConf {
                    id: #id,
                    left: #left_conf,
                    right: #right_conf,
                    within_ms: #within,
                    right_out: ::std::vec![#(#right_out),*],
                })
            },
        }
    }
}
