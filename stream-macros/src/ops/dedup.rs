//! `drop_duplicates(cols..)` and `drop_duplicates_within_watermark(cols..)`: each key
//! passes once; later rows with a key seen before are dropped. With a watermark, input
//! at or below the previous batch's watermark is dropped as late and keys are evicted
//! once the watermark passes them (`drop_duplicates`: when the event-time column is a
//! key; `..._within_watermark`: the delay after the key's first event time), as Spark
//! does. Without a watermark every key is kept forever.

use crate::check::{
    Checker, Column, RowRole, Schema, StatefulSeen, StreamState, TExpr, TKind, TypedOp,
};

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
    /// The row structs (indices into the plan's rows): key, stored value.
    pub(crate) rows: [usize; 2],
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
        cx.cx.error(
            op.span(),
            "`drop_duplicates_within_watermark` needs a watermark",
            "set one before it: `.with_watermark(ts, \"10 minutes\")`",
        );
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
    let value_schema = vec![Column {
        name: "__event_time".into(),
        ty: crate::types::ColType {
            ty: crate::types::DslType::I64,
            nullable: true,
        },
    }];
    let rows = [
        cx.internal_row(key_schema.clone(), format!("DedupKey{id}"), RowRole::Key),
        cx.internal_row(value_schema, format!("DedupValue{id}"), RowRole::State),
    ];
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
            "drop_duplicates_within_watermark"
        } else {
            "drop_duplicates"
        },
        span: op.span(),
        aggregation: false,
        watermarked_key: within || time_is_key,
        session_window: false,
        late_schema,
        chained: false,
    });
    Some(next)
}

/// The code of a deduplication: the map side drops late rows and routes each row to the
/// shuffle partition of its key; the reduce side keeps the rows whose key its state has
/// not seen, remembers them, evicts what the watermark passed, and commits.
pub(crate) mod emit {
    use proc_macro2::TokenStream;
    use quote::{format_ident, quote};

    use super::DedupPlan;

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

    /// The event times of `__batch` in the column's unit, as `__times` (one per row).
    fn times(plan: &DedupPlan) -> TokenStream {
        match plan.event_time {
            Some((index, unit, _)) => {
                let arrow = if unit == 1 {
                    quote!(::stream_core::__private::arrow_array::types::TimestampMillisecondType)
                } else {
                    quote!(::stream_core::__private::arrow_array::types::TimestampMicrosecondType)
                };
                let name = &plan.schema[index].name;
                quote! {
                    let __times: ::std::vec::Vec<::core::option::Option<i64>> =
                        ::stream_core::__private::kernels::primitive::<#arrow>(&__batch, #index, #name)?
                            .iter()
                            .collect();
                }
            }
            None => quote! {
                let __times: ::std::vec::Vec<::core::option::Option<i64>> =
                    ::std::vec![::core::option::Option::None; __batch.num_rows()];
            },
        }
    }

    /// Routes each row to its key's shuffle partition; rows at or below the previous
    /// batch's watermark are dropped as late (and, with a late-rows sink, sent there).
    pub(crate) fn map_side(
        plan: &DedupPlan,
        rows: &[TokenStream; 2],
        late_sink: bool,
    ) -> TokenStream {
        let [key, _] = rows;
        let typed = quote!(::stream_core::types::TypedRow);
        let p = quote!(::stream_core::__private);
        let k = quote!(::stream_core::__private::kernels);
        let indices = key_indices(plan);
        let times = times(plan);
        let id = plan.id;
        let dropped = crate::codegen::stateful::report_dropped(id, "dedupe");
        let send_late = if late_sink {
            quote! {
                __late_rows.push(#k::keep_rows(&__batch, __keep.iter().map(|__k| !*__k).collect())?);
            }
        } else {
            TokenStream::new()
        };
        let late = match plan.event_time {
            Some((_, unit, _)) => quote! {
                let __late = #p::from_ms(__ctx.late_watermark_ms, #unit);
                let __keep: ::std::vec::Vec<bool> =
                    __times.iter().map(|__t| __t.is_none_or(|__t| __t > __late)).collect();
                let __kept = __keep.iter().filter(|__k| **__k).count();
                if __kept < __batch.num_rows() {
                    __dropped += (__batch.num_rows() - __kept) as u64;
                    #send_late
                    __batch = #k::keep_rows(&__batch, __keep)?;
                }
            },
            None => TokenStream::new(),
        };
        let (late_init, late_report) = if late_sink {
            (
                quote! {
                    let mut __late_rows: ::std::vec::Vec<::stream_core::__private::arrow_array::RecordBatch> =
                        ::std::vec::Vec::new();
                },
                quote! {
                    __ctx.metrics.add_late_rows(#id, __ctx.stage, __ctx.partition, __late_rows);
                },
            )
        } else {
            (TokenStream::new(), TokenStream::new())
        };
        quote! {
            let __parts = __ctx.shuffle_partitions.max(1);
            let mut __buckets: ::std::vec::Vec<::std::vec::Vec<::stream_core::InputChunk>> =
                (0..__parts).map(|_| ::std::vec::Vec::new()).collect();
            let mut __dropped: u64 = 0;
            #late_init
            for mut __batch in __batches {
                #times
                #late
                let __keys = <#key as #typed>::from_batch(&__batch.project(&[#(#indices),*])?)?;
                let mut __rows: ::std::vec::Vec<::std::vec::Vec<u32>> =
                    (0..__parts).map(|_| ::std::vec::Vec::new()).collect();
                for (__i, __key) in __keys.iter().enumerate() {
                    __rows[#p::partition_of(__key.__stable_hash(), __parts)].push(__i as u32);
                }
                for (__p, __ix) in __rows.into_iter().enumerate() {
                    if !__ix.is_empty() {
                        __buckets[__p].push(::stream_core::InputChunk {
                            input: 0,
                            batch: #k::take_rows(&__batch, __ix)?,
                        });
                    }
                }
            }
            #dropped
            #late_report
            ::core::result::Result::Ok(::stream_core::TaskOutput::Exchange(__buckets))
        }
    }

    pub(crate) fn reduce_side(plan: &DedupPlan, rows: &[TokenStream; 2]) -> TokenStream {
        let [key, value] = rows;
        let typed = quote!(::stream_core::types::TypedRow);
        let p = quote!(::stream_core::__private);
        let k = quote!(::stream_core::__private::kernels);
        let indices = key_indices(plan);
        let times = times(plan);
        let id = plan.id;
        let op = id.to_string();
        let field = format_ident!("__state{}", id);
        let (unit, delay) = plan.event_time.map_or((1, 0), |(_, unit, delay)| {
            (unit, delay.saturating_mul(unit))
        });
        let evict = match (plan.evict, plan.within) {
            (false, _) => TokenStream::new(),
            (true, true) => quote! {
                __store.remove_where(|_, __v| __v.__event_time.is_some_and(|__t| __t.saturating_add(#delay) <= __wm));
            },
            (true, false) => quote! {
                __store.remove_where(|_, __v| __v.__event_time.is_some_and(|__t| __t <= __wm));
            },
        };
        quote! {
            let mut __store = ::stream_core::__private::take_store(&self.#field, __ctx, #op)?;
            let mut __out = ::std::vec::Vec::with_capacity(input.len());
            for __chunk in input {
                let __batch = __chunk.batch;
                #times
                let __keys = <#key as #typed>::from_batch(&__batch.project(&[#(#indices),*])?)?;
                let mut __keep = ::std::vec::Vec::with_capacity(__keys.len());
                for (__key, __t) in __keys.into_iter().zip(__times) {
                    __keep.push(__store.insert_if_absent(__key, #value { __event_time: __t }));
                }
                __out.push(#k::keep_rows(&__batch, __keep)?);
            }
            let __wm = #p::from_ms(__ctx.watermark_ms, #unit);
            let _ = __wm;
            #evict
            ::stream_core::__private::commit_store(&self.#field, __ctx, #id, "dedupe", __store)?;
            ::core::result::Result::Ok(__out)
        }
    }

    pub(crate) fn state_field(
        plan: &DedupPlan,
        rows: &[TokenStream; 2],
    ) -> (syn::Ident, TokenStream) {
        let [key, value] = rows;
        (
            format_ident!("__state{}", plan.id),
            quote!(::stream_core::__private::StateSlots<#key, #value>),
        )
    }
}
