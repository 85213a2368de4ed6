//! Pipelines with a stateful operator (an aggregation, a deduplication or a join of two
//! streams) run in two
//! stages: stage 0 runs each branch up to the operator and its map side, which routes
//! rows (or partial aggregates) to shuffle partitions by key; stage 1 runs the reduce side
//! against the partition's state store, then the operators after it.

use proc_macro2::TokenStream;
use quote::quote;

use crate::plan::{Branch, OutputMode, Plan, TypedOp};

/// The stateful operator of a plan, and what follows it.
pub(crate) struct Stateful<'a> {
    op: &'a TypedOp,
    /// The operators after it (the same on every branch).
    pub(crate) post: Vec<TypedOp>,
}

/// Whether `op` keeps state across batches (and so ends a stage at its exchange).
pub(crate) fn is_stateful(op: &TypedOp) -> bool {
    matches!(
        op,
        TypedOp::Aggregate(_) | TypedOp::Dedup(_) | TypedOp::StreamJoin { .. }
    )
}

/// The plan's stateful operators in order (the checker chains an aggregation after a
/// windowed one), each with the operators after it up to the next one, which end, for
/// an aggregation, in the projection to its input. Stage `k + 1` runs operator `k`'s
/// reduce side, those operators, and the next one's map side.
pub(crate) fn split_all(plan: &Plan) -> Vec<Stateful<'_>> {
    let Some(first) = plan.branches.first() else {
        return Vec::new();
    };
    // a sort or limit and what follows it run in a stage of their own, after these
    let stop = first
        .ops
        .iter()
        .position(crate::ops::sort::is_gather)
        .unwrap_or(first.ops.len());
    let at: Vec<usize> = first.ops[..stop]
        .iter()
        .enumerate()
        .filter(|(_, op)| is_stateful(op))
        .map(|(i, _)| i)
        .collect();
    let mut out: Vec<Stateful<'_>> = Vec::with_capacity(at.len());
    for (n, &i) in at.iter().enumerate() {
        let end = at.get(n + 1).copied().unwrap_or(stop);
        out.push(Stateful {
            op: &first.ops[i],
            post: first.ops[i + 1..end].to_vec(),
        });
    }
    for n in 1..out.len() {
        if let Some(project) = out[n].input_projection() {
            out[n - 1].post.push(project);
        }
    }
    out
}

impl Stateful<'_> {
    /// A branch's operators up to the stateful one; for an aggregation, ending in the
    /// projection to its input, unless the query has a late-rows sink (then the map
    /// side projects, see [`Stateful::input_projection`]).
    pub(crate) fn prefix(&self, branch: &Branch, late_sink: bool) -> Vec<TypedOp> {
        let at = branch
            .ops
            .iter()
            .position(is_stateful)
            .unwrap_or(branch.ops.len());
        let mut ops = branch.ops[..at].to_vec();
        if !late_sink {
            ops.extend(self.input_projection());
        }
        ops
    }

    /// For a join of two streams, the side `branch` feeds (0 or 1): its map side gets
    /// each branch's rows tagged with it. `None` for other operators.
    pub(crate) fn join_side(&self, branch: &Branch) -> Option<usize> {
        branch.ops.iter().find_map(|op| match op {
            TypedOp::StreamJoin { side, .. } => Some(*side),
            _ => None,
        })
    }

    /// An aggregation's projection to its input columns.
    pub(crate) fn input_projection(&self) -> Option<TypedOp> {
        match self.op {
            TypedOp::Aggregate(a) => Some(TypedOp::Project {
                exprs: a.input.clone(),
                schema: a.input_schema.clone(),
            }),
            _ => None,
        }
    }

    /// The operator's executor and what it is given.
    pub(crate) fn emit(&self, plan: &Plan) -> StatefulCode {
        let row = |i: usize| {
            plan.rows
                .get(i)
                .map_or_else(|| quote!(()), super::rows::row_type)
        };
        let mode = plan.settings.mode();
        // the rows dropped as late go to the late-rows sink, if the query has one
        let late = plan.settings.late_rows.is_some();
        match self.op {
            TypedOp::Aggregate(a) => {
                let rows = a.rows.map(row);
                crate::ops::aggregate::emit::executor(a, &rows, mode, late)
            }
            TypedOp::Dedup(d) => crate::ops::dedup::emit::executor(d, &d.rows.map(row), late),
            TypedOp::StreamJoin { plan: j, .. } => {
                crate::ops::stream_join::emit::executor(j, &j.rows.map(row))
            }
            _ => StatefulCode {
                items: TokenStream::new(),
                map: quote!(::core::unreachable!()),
                reduce: quote!(::core::unreachable!()),
                check: quote!(::core::result::Result::Ok(())),
                field: quote!(__state: ()),
                init: quote!(__state: ()),
            },
        }
    }
}

/// The code of one stateful operator: the items that give its executor the user's types
/// and per-row functions, the pipeline struct's field that holds the executor (and its
/// initialiser), and the calls of its map side (`__batches` to an exchange), its reduce
/// side (`input` to rows) and its check of the state in the checkpoint folder
/// `__checkpoint` when the query starts.
pub(crate) struct StatefulCode {
    pub(crate) items: TokenStream,
    pub(crate) map: TokenStream,
    pub(crate) reduce: TokenStream,
    pub(crate) check: TokenStream,
    pub(crate) field: TokenStream,
    pub(crate) init: TokenStream,
}

/// The runtime's `OutputMode` of the plan's.
pub(crate) fn output_mode(mode: OutputMode) -> TokenStream {
    match mode {
        OutputMode::Append => quote!(::stream_core::OutputMode::Append),
        OutputMode::Update => quote!(::stream_core::OutputMode::Update),
        OutputMode::Complete => quote!(::stream_core::OutputMode::Complete),
    }
}

/// The code of `with_watermark`: report the batch's event times, pass the rows on.
pub(crate) fn watermark(
    _plan: &Plan,
    _branch: &Branch,
    column: usize,
    delay_ms: i64,
    unit_per_ms: i64,
    id: usize,
) -> TokenStream {
    quote! {
        ::stream_core::__private::observe_event_times(__ctx, &__batch, #column, #unit_per_ms, #id, #delay_ms)?;
        __batch
    }
}
