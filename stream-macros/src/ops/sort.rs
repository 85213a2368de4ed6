//! `order_by(keys..)` (or `sort(keys..)`, Spark's two names): the rows of an
//! aggregation's result in complete mode, in the order of their sort keys. A key is a
//! column (ascending), `asc(col)`, `desc(col)`, or `asc_nulls_first`,
//! `asc_nulls_last`, `desc_nulls_first`, `desc_nulls_last` of a column; nulls go first
//! ascending and last descending, as in Spark. Spark refuses a sort anywhere else on a
//! stream; so do we (see [`rules`], which also holds the rules of `limit`).
//!
//! The sort runs in the runtime (`__private::sort_batch`) on the one task of the last
//! stage; the expansion gives it the row struct of the key columns and a comparison of
//! two keys.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};

use crate::check::{Checker, RowRole, StreamState};
use crate::plan::{Column, ModeSetting, OutputMode, Schema, TypedOp};
use crate::types::DslType;

/// Spark's refusal of a sort on a stream, word for word.
const SPARK_SORT: &str = "Sorting is not supported on streaming DataFrames/Datasets, unless it is on aggregated DataFrame/Dataset in Complete output mode";

/// One sort key: a column of the stream and its direction.
#[derive(Clone, Debug)]
pub(crate) struct SortKey {
    /// The column's index in the stream and its name.
    pub(crate) index: usize,
    pub(crate) name: String,
    pub(crate) descending: bool,
    pub(crate) nulls_first: bool,
    /// Whether the column can hold null.
    pub(crate) nullable: bool,
}

impl SortKey {
    /// The key as the block writes it: `n`, `desc(n)`, `asc_nulls_last(n)`.
    pub(crate) fn text(&self) -> String {
        match (self.descending, self.nulls_first) {
            (false, true) => self.name.clone(),
            (true, false) => format!("desc({})", self.name),
            (false, false) => format!("asc_nulls_last({})", self.name),
            (true, true) => format!("desc_nulls_first({})", self.name),
        }
    }
}

/// A checked `order_by`.
#[derive(Clone, Debug)]
pub(crate) struct SortPlan {
    /// Numbers the comparison function of the expansion.
    pub(crate) id: usize,
    pub(crate) keys: Vec<SortKey>,
    /// The row struct of the key columns (an index into the plan's rows).
    pub(crate) row: usize,
    /// The stream's schema (in and out).
    pub(crate) schema: Schema,
    /// The `order_by` token, where the rules' errors point.
    pub(crate) span: Span,
}

/// The directions a key function names: `(descending, nulls_first)`.
fn direction(name: &str) -> Option<(bool, bool)> {
    Some(match name {
        "asc" | "asc_nulls_first" => (false, true),
        "asc_nulls_last" => (false, false),
        "desc" | "desc_nulls_last" => (true, false),
        "desc_nulls_first" => (true, true),
        _ => return None,
    })
}

/// A single identifier, if `e` is one.
fn ident(e: &syn::Expr) -> Option<&syn::Ident> {
    match e {
        syn::Expr::Path(p) if p.qself.is_none() => p.path.get_ident(),
        _ => None,
    }
}

const KEY_HELP: &str = "sort by columns: `order_by(desc(n), country)`; a computed key is a column first: `.with_column(k, ..)`";

pub(crate) fn check(
    cx: &mut Checker,
    stream: StreamState,
    items: &[syn::Expr],
    op: &syn::Ident,
) -> Option<StreamState> {
    if items.is_empty() {
        cx.cx.error(
            op.span(),
            format!("`{op}` needs a sort key"),
            "name the columns to sort by: `order_by(desc(n), country)`",
        );
        return None;
    }
    let mut keys: Vec<SortKey> = Vec::new();
    let mut ok = true;
    for item in items {
        let (column, (descending, nulls_first)) = match item {
            e if ident(e).is_some() => (ident(e), (false, true)),
            syn::Expr::Call(call) => match (ident(&call.func), call.args.len()) {
                (Some(f), 1) if direction(&f.to_string()).is_some() => (
                    call.args.first().and_then(ident),
                    direction(&f.to_string()).unwrap_or((false, true)),
                ),
                _ => (None, (false, true)),
            },
            // Spark's `col("n").desc()`: the DSL writes functions
            syn::Expr::MethodCall(m)
                if m.args.is_empty()
                    && direction(&m.method.to_string()).is_some()
                    && ident(&m.receiver).is_some() =>
            {
                let (method, column) = (&m.method, ident(&m.receiver));
                let column = column.map(ToString::to_string).unwrap_or_default();
                cx.cx.error(
                    m.method.span(),
                    format!("the DSL writes a sort direction as a function, not as `.{method}()`"),
                    format!("write `{method}({column})`"),
                );
                ok = false;
                continue;
            }
            _ => (None, (false, true)),
        };
        let Some(column) = column else {
            cx.cx.error(
                syn::spanned::Spanned::span(item),
                "a sort key is a column, or `asc(..)` / `desc(..)` of one",
                KEY_HELP,
            );
            ok = false;
            continue;
        };
        let Some(e) = cx.column(column, &stream.schema) else {
            ok = false;
            continue;
        };
        let crate::check::TKind::Column { index, .. } = e.kind else {
            ok = false;
            continue;
        };
        let name = column.to_string();
        if matches!(e.ty.ty, DslType::Headers | DslType::List(_)) {
            cx.cx.error(
                column.span(),
                format!("`{name}` has no order: it is a {}", e.ty),
                "sort by a column of a scalar type",
            );
            ok = false;
            continue;
        }
        if keys.iter().any(|k| k.name == name) {
            cx.cx.error(
                column.span(),
                format!("`{name}` is a sort key twice"),
                "name each sort key once",
            );
            ok = false;
            continue;
        }
        keys.push(SortKey {
            index,
            name,
            descending,
            nulls_first,
            nullable: e.ty.nullable,
        });
    }
    if !ok {
        return None;
    }
    // the row's index: unique to this sort
    let id = cx.rows.len();
    let key_schema: Schema = keys
        .iter()
        .map(|k| stream.schema[k.index].clone())
        .collect::<Vec<Column>>();
    let row = cx.internal_row(key_schema, format!("SortKey{id}"), RowRole::Plain);
    let schema = stream.schema.clone();
    let plan = SortPlan {
        id,
        keys,
        row,
        schema: schema.clone(),
        span: op.span(),
    };
    Some(super::push(stream, TypedOp::Sort(Box::new(plan)), schema))
}

/// Whether `op` is a sort or a limit: it and what follows run in the last stage.
pub(crate) fn is_gather(op: &TypedOp) -> bool {
    matches!(op, TypedOp::Sort(_) | TypedOp::Limit(_))
}

/// The name of an operator that may not follow a sort or a limit, as the block writes
/// it; `None` for those that may.
fn not_after(op: &TypedOp) -> Option<&'static str> {
    match op {
        TypedOp::Aggregate(_) => Some("agg"),
        TypedOp::Dedup(d) if d.within => Some("drop_duplicates_within_watermark"),
        TypedOp::Dedup(_) => Some("drop_duplicates"),
        TypedOp::StreamJoin { .. } => Some("join"),
        TypedOp::Watermark { .. } => Some("with_watermark"),
        _ => None,
    }
}

/// The name and span of a sort or limit.
fn gather_name(op: &TypedOp) -> (&'static str, Span) {
    match op {
        TypedOp::Sort(s) => ("order_by", s.span),
        TypedOp::Limit(l) => ("limit", l.span),
        _ => ("", Span::call_site()),
    }
}

/// The rules of `order_by` and `limit` on the written stream, once its output mode is
/// known (Spark's `UnsupportedOperationChecker`):
/// - a sort needs an aggregation before it and complete mode;
/// - a limit is refused in update mode;
///
/// and ours: a stateful operator or a watermark after a sort or limit, or a union or a
/// join of two streams of a sorted or limited stream, is not supported yet.
pub(crate) fn rules(cx: &mut Checker, stream: &StreamState, mode: Option<ModeSetting>) {
    let name = mode.map(|m| m.mode).unwrap_or_default();
    let Some(first) = stream.branches.first() else {
        return;
    };
    let mut aggregated = false;
    let mut refused = false;
    for op in &first.ops {
        match op {
            TypedOp::Aggregate(_) => aggregated = true,
            TypedOp::Sort(s) if !aggregated || name != OutputMode::Complete => {
                let help = if aggregated {
                    "the whole result table is there to sort only in complete mode: use `.output_mode(complete)`"
                } else {
                    "sort an aggregation's result in complete mode: `.group_by(..).agg(..).order_by(..)` and `.output_mode(complete)`; to order each batch's rows, sort them in a `foreach_batch` sink"
                };
                cx.cx.error(s.span, SPARK_SORT, help);
                refused = true;
            }
            TypedOp::Limit(l) if name == OutputMode::Update => {
                cx.cx.error(
                    l.span,
                    "Limits are not supported on streaming DataFrames/Datasets in Update output mode",
                    "use `.output_mode(append)` (the first rows of the stream in all) or `complete` (the first rows of the result each batch)",
                );
                refused = true;
            }
            _ => {}
        }
    }
    if refused {
        // Spark's refusal says what to change; the rest would repeat it
        return;
    }
    // what follows the first sort or limit runs on one task of the last stage
    for branch in &stream.branches {
        let Some(at) = branch.ops.iter().position(is_gather) else {
            continue;
        };
        if let Some(after) = branch.ops[at + 1..].iter().find_map(not_after) {
            let (op, span) = gather_name(&branch.ops[at]);
            cx.cx.error(
                span,
                format!("`{after}` after `{op}` is not supported yet"),
                format!("put `.{op}(..)` after the `{after}`, just before `write`"),
            );
            return;
        }
    }
    let tails: Vec<usize> = stream
        .branches
        .iter()
        .map(|b| {
            b.ops
                .iter()
                .position(is_gather)
                .map_or(0, |at| b.ops.len() - at)
        })
        .collect();
    if tails.iter().any(|&t| t != tails[0])
        && let Some((op, span)) = stream.branches.iter().find_map(|b| {
            let at = b.ops.iter().position(is_gather)?;
            Some(gather_name(&b.ops[at]))
        })
    {
        cx.cx.error(
            span,
            format!("`{op}` before a `union` or a join of two streams is not supported yet"),
            format!("put `.{op}(..)` after the `union` or `join`, just before `write`"),
        );
    }
}

/// The comparison of two sort keys of `plan` (`key` is the key row struct's type): a
/// function item of the expansion.
pub(crate) fn compare_fn(plan: &SortPlan, key: &TokenStream) -> TokenStream {
    let p = quote!(::stream_core::__private);
    let name = format_ident!("__sort_cmp{}", plan.id);
    let steps = plan.keys.iter().map(|k| {
        let field = crate::codegen::rows::field_ident(&k.name);
        let (desc, first) = (k.descending, k.nulls_first);
        if k.nullable {
            quote!(.then_with(|| #p::sort_cmp_nullable(&a.#field, &b.#field, #desc, #first)))
        } else {
            quote!(.then_with(|| #p::sort_cmp(&a.#field, &b.#field, #desc)))
        }
    });
    quote! {
        fn #name(a: &#key, b: &#key) -> ::core::cmp::Ordering {
            ::core::cmp::Ordering::Equal #(#steps)*
        }
    }
}

/// The step of a branch function that sorts `__batch`.
pub(crate) fn emit(plan: &SortPlan, key: &TokenStream) -> TokenStream {
    let name = format_ident!("__sort_cmp{}", plan.id);
    let indices = plan.keys.iter().map(|k| k.index);
    quote!(::stream_core::__private::sort_batch::<#key>(&__batch, &[#(#indices),*], #name)?)
}

/// The last stage of a plan with a sort or a limit: the operators from the first one
/// on (the same on every branch, which the rules hold to), the rows it gets, and the
/// local limit of the stage before.
pub(crate) struct Gather {
    pub(crate) ops: Vec<TypedOp>,
    /// The columns of the rows it gets.
    pub(crate) schema: Schema,
    /// When the stage starts with a limit, each task of the stage before sends at most
    /// that many rows (Spark's local limit).
    pub(crate) local: Option<u64>,
}

/// What the expansion declares for a [`Gather`]: the comparison functions of its sorts,
/// and the pipeline struct's fields of its streaming limits, their initialisers and
/// their checks of the checkpoint's state.
pub(crate) struct GatherCode {
    pub(crate) items: TokenStream,
    pub(crate) fields: Vec<TokenStream>,
    pub(crate) inits: Vec<TokenStream>,
    pub(crate) checks: Vec<TokenStream>,
}

impl Gather {
    /// The last stage of `plan`, if it sorts or limits.
    pub(crate) fn of(plan: &crate::plan::Plan) -> Option<Gather> {
        let first = plan.branches.first()?;
        let at = first.ops.iter().position(is_gather)?;
        let ops = first.ops[at..].to_vec();
        let (schema, local) = match &ops[0] {
            TypedOp::Sort(s) => (s.schema.clone(), None),
            TypedOp::Limit(l) => (l.schema.clone(), Some(l.n)),
            _ => return None,
        };
        Some(Gather { ops, schema, local })
    }

    pub(crate) fn code(&self, plan: &crate::plan::Plan) -> GatherCode {
        let mut code = GatherCode {
            items: TokenStream::new(),
            fields: Vec::new(),
            inits: Vec::new(),
            checks: Vec::new(),
        };
        let streaming = plan.settings.mode() == OutputMode::Append;
        for op in &self.ops {
            match op {
                TypedOp::Sort(s) => {
                    let key = plan
                        .rows
                        .get(s.row)
                        .map_or_else(|| quote!(()), crate::codegen::rows::row_type);
                    code.items.extend(compare_fn(s, &key));
                }
                TypedOp::Limit(l) if streaming => {
                    let (field, init, check) = super::limit::field_and_init(l);
                    code.fields.push(field);
                    code.inits.push(init);
                    code.checks.push(check);
                }
                _ => {}
            }
        }
        code
    }
}
