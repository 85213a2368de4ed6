//! `limit(n)`: the first `n` rows. In append mode, of the stream in all: the runtime's
//! `LimitExec` keeps the count of rows let through in the state store, across batches
//! and restarts (Spark's `StreamingGlobalLimitExec`). In complete mode, of each batch's
//! result table (after an `order_by`, its first rows in that order). Spark refuses a
//! limit in update mode; the rules are checked with the sort's (`sort::rules`).

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};

use crate::check::{Checker, StreamState};
use crate::plan::TypedOp;

/// A checked `limit`.
#[derive(Clone, Debug)]
pub(crate) struct LimitPlan {
    /// How many rows.
    pub(crate) n: u64,
    /// The stateful operator's id: its state folder in append mode.
    pub(crate) id: usize,
    /// The stream's schema (in and out).
    pub(crate) schema: crate::plan::Schema,
    /// The `limit` token, where the rules' errors point.
    pub(crate) span: Span,
}

pub(crate) fn check(
    cx: &mut Checker,
    stream: StreamState,
    n: &syn::Expr,
    op: &syn::Ident,
) -> Option<StreamState> {
    let value = match n {
        syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Int(i),
            ..
        }) => match i.base10_parse::<u64>() {
            Ok(v) => Some(v),
            Err(_) => {
                cx.cx.error(
                    i.span(),
                    format!("`limit` takes a whole number from 0 to {}", u64::MAX),
                    "write `limit(10)`",
                );
                return None;
            }
        },
        _ => None,
    };
    let Some(n) = value else {
        cx.cx.error(
            syn::spanned::Spanned::span(n),
            "`limit` takes a whole number written out",
            "write the number of rows: `limit(10)`",
        );
        return None;
    };
    let id = cx.stateful_ops;
    cx.stateful_ops += 1;
    let schema = stream.schema.clone();
    let plan = LimitPlan {
        n,
        id,
        schema: schema.clone(),
        span: op.span(),
    };
    Some(super::push(stream, TypedOp::Limit(plan), schema))
}

/// The pipeline struct's field of a streaming limit (append mode) and its initialiser.
pub(crate) fn field_and_init(plan: &LimitPlan) -> (TokenStream, TokenStream, TokenStream) {
    let p = quote!(::stream_core::__private);
    let field = format_ident!("__limit{}", plan.id);
    let (id, n) = (plan.id, plan.n);
    (
        quote!(#field: #p::LimitExec),
        quote!(#field: #p::LimitExec::new(#p::LimitConf { id: #id, limit: #n })),
        quote!(self.#field.check_state(__checkpoint)),
    )
}

/// The step of a branch function that limits `__batch`: by the state's count in append
/// mode (`streaming`), else to the batch's first rows.
pub(crate) fn emit(plan: &LimitPlan, streaming: bool) -> TokenStream {
    let n = plan.n;
    if streaming {
        let field = format_ident!("__limit{}", plan.id);
        quote!(self.#field.apply(__ctx, __batch)?)
    } else {
        quote!(::stream_core::__private::limit_batch(&__batch, #n))
    }
}
