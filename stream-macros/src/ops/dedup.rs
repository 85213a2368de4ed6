//! `drop_duplicates(cols..)` and `drop_duplicates_within_watermark(cols..)`: each key
//! passes once; later rows with a key seen before are dropped. With a watermark, input
//! at or below the previous batch's watermark is dropped as late and keys are evicted
//! once the watermark passes them (`drop_duplicates`: when the event-time column is a
//! key; `..._within_watermark`: the delay after the key's first event time), as Spark
//! does. Without a watermark every key is kept forever.

use crate::check::{Checker, RowRole, StatefulKind, StatefulSeen, StreamState, TExpr, TKind};
use crate::plan::{Column, Schema, TypedOp};

/// A checked deduplication.
#[derive(Clone, Debug)]
pub(crate) struct DedupPlan {
    /// The stateful operator's id.
    pub(crate) id: usize,
    pub(crate) within: bool,
    /// The key columns, as a projection of the stream, and their schema.
    pub(crate) keys: Vec<(String, TExpr)>,
    /// The watermarked event-time column of the stream: its index, its unit per ms, and
    /// the watermark delay.
    pub(crate) event_time: Option<(usize, i64, i64)>,
    /// Keys are evicted by the watermark.
    pub(crate) evict: bool,
    /// The stream's schema (the output's).
    pub(crate) schema: Schema,
    /// The row struct of the key (an index into the plan's rows).
    pub(crate) rows: [usize; 1],
}

pub(crate) fn check(
    cx: &mut Checker,
    stream: StreamState,
    within: bool,
    cols: &[syn::Ident],
    op: &syn::Ident,
) -> Option<StreamState> {
    if let Some(seen) = &stream.stateful {
        cx.cx.error(
            op.span(),
            format!("`{op}` after `{}` is not supported yet", seen.op),
            format!("drop duplicates before the `{}`", seen.op),
        );
        return None;
    }
    if within && stream.event_time.is_none() {
        let keys = cols
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        match &stream.dropped_event_time {
            Some(column) => cx.cx.error(
                op.span(),
                format!(
                    "`drop_duplicates_within_watermark` needs a watermark, and the watermarked column `{column}` was dropped before it: the watermark went with it"
                ),
                format!(
                    "keep `{column}` until after `drop_duplicates_within_watermark`, and drop it there: `.drop_duplicates_within_watermark({keys}).drop({column})`"
                ),
            ),
            None => cx.cx.error(
                op.span(),
                "`drop_duplicates_within_watermark` needs a watermark",
                "set one before it: `.with_watermark(ts, \"10 minutes\")`",
            ),
        }
        return None;
    }
    let mut keys = Vec::new();
    let mut ok = true;
    // no columns: the whole row is the key, as in Spark
    let all: Vec<syn::Ident> = stream
        .schema
        .iter()
        .map(|c| syn::Ident::new(&c.name, op.span()))
        .collect();
    let cols = if cols.is_empty() { &all[..] } else { cols };
    for col in cols {
        match cx.column(col, &stream.schema) {
            Some(e) => {
                let name = col.to_string();
                if keys.iter().any(|(n, _)| *n == name) {
                    cx.cx.error(
                        col.span(),
                        format!("`{name}` is named twice"),
                        "name each key column once",
                    );
                    ok = false;
                    continue;
                }
                keys.push((name, e));
            }
            None => ok = false,
        }
    }
    if !ok {
        return None;
    }
    let event_time = stream.event_time.as_ref().and_then(|et| {
        let index = stream.schema.iter().position(|c| c.name == et.column)?;
        let unit = match stream.schema[index].ty.ty {
            crate::types::DslType::TimestampUs => 1_000,
            _ => 1,
        };
        Some((index, unit, et.delay_ms))
    });
    let time_is_key = event_time.is_some_and(|(index, _, _)| {
        keys.iter()
            .any(|(_, e)| matches!(e.kind, TKind::Column { index: i, .. } if i == index))
    });
    let key_schema: Schema = keys
        .iter()
        .map(|(n, e)| Column {
            name: n.clone(),
            ty: e.ty,
        })
        .collect();
    let id = cx.stateful_ops;
    cx.stateful_ops += 1;
    // the value the state keeps per key is the runtime's `DedupSeen`
    let rows = [cx.internal_row(
        key_schema.clone(),
        format!("DedupKey{id}"),
        RowRole::DedupKey,
    )];
    let schema = stream.schema.clone();
    let late_schema = event_time.is_some().then(|| schema.clone());
    let plan = DedupPlan {
        rows,
        id,
        within,
        keys,
        event_time,
        evict: within || time_is_key,
        schema: schema.clone(),
    };
    let mut next = super::push(stream, TypedOp::Dedup(Box::new(plan)), schema);
    next.stateful = Some(StatefulSeen {
        op: if within {
            StatefulKind::DropDuplicatesWithinWatermark
        } else {
            StatefulKind::DropDuplicates
        },
        span: op.span(),
        aggregation: false,
        watermarked_key: within || time_is_key,
        session_window: false,
        late_schema,
        chained: false,
        global: false,
    });
    Some(next)
}

/// The code of a deduplication: the key struct, and the runtime's `DedupExec` told the
/// key and event-time columns.
pub(crate) mod emit {
    use proc_macro2::TokenStream;
    use quote::{format_ident, quote};

    use super::DedupPlan;
    use crate::codegen::stateful::StatefulCode;

    /// The key columns' indices in the stream.
    fn key_indices(plan: &DedupPlan) -> Vec<usize> {
        plan.keys
            .iter()
            .filter_map(|(_, e)| match e.kind {
                crate::check::TKind::Column { index, .. } => Some(index),
                _ => None,
            })
            .collect()
    }

    /// The `DedupExec` over the key struct (see `stream_core::__private::dedup`): the
    /// key columns and the event time are data, the algorithm is the runtime's.
    pub(crate) fn executor(
        plan: &DedupPlan,
        rows: &[TokenStream; 1],
        late_sink: bool,
    ) -> StatefulCode {
        let [key] = rows;
        let p = quote!(::stream_core::__private);
        let indices = key_indices(plan);
        let event_time = match plan.event_time {
            Some((index, unit_per_ms, delay_ms)) => {
                let name = &plan.schema[index].name;
                quote! {
                    ::core::option::Option::Some(#p::DedupTime {
                        index: #index,
                        name: #name,
                        unit_per_ms: #unit_per_ms,
                        delay_ms: #delay_ms,
                    })
                }
            }
            None => quote!(::core::option::Option::None),
        };
        let (id, within, evict) = (plan.id, plan.within, plan.evict);
        let field = format_ident!("__state{}", id);
        StatefulCode {
            items: TokenStream::new(),
            map: quote!(self.#field.map(__ctx, __batches)),
            reduce: quote!(self.#field.reduce(__ctx, input)),
            check: quote!(self.#field.check_state(__checkpoint)),
            field: quote!(#field: #p::DedupExec<#key>),
            init: quote! {
                #field: #p::DedupExec::new(#p::DedupConf {
                    id: #id,
                    keys: ::std::vec![#(#indices),*],
                    event_time: #event_time,
                    within: #within,
                    evict: #evict,
                    late_rows: #late_sink,
                })
            },
        }
    }
}
