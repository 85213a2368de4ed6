//! Fusion: consecutive projections of a branch become one, so that
//! `.with_column(total, amount * qty).select(user, total * 2.0 as doubled)` computes
//! `amount * qty * 2.0` in one pass and builds one batch instead of two.
//!
//! The second projection's column references are replaced by the first one's
//! expressions. Where that would compute an expression more than once (a computed column
//! of the first read twice by the second), the two stay apart: fusing must never cost
//! more than it saves. Filters are not merged with each other: a second filter that runs
//! on the rows the first one kept does less work than one combined condition on all.

use super::{Plan, TypedOp};
use crate::check::{TExpr, TKind};

/// Fuses the projections of every branch of `plan` (see the module documentation).
pub(crate) fn fuse(plan: &mut Plan) {
    for branch in &mut plan.branches {
        let mut out: Vec<TypedOp> = Vec::with_capacity(branch.ops.len());
        for op in std::mem::take(&mut branch.ops) {
            let merged = match (out.last(), &op) {
                (
                    Some(TypedOp::Project { exprs: first, .. }),
                    TypedOp::Project {
                        exprs: second,
                        schema,
                    },
                ) => compose(first, second).map(|exprs| TypedOp::Project {
                    exprs,
                    schema: schema.clone(),
                }),
                _ => None,
            };
            match (merged, out.last_mut()) {
                (Some(fused), Some(last)) => *last = fused,
                _ => out.push(op),
            }
        }
        branch.ops = out;
    }
}

/// `second` over the input of `first`; `None` when that would repeat work or when a
/// reference does not resolve.
fn compose(first: &[(String, TExpr)], second: &[(String, TExpr)]) -> Option<Vec<(String, TExpr)>> {
    let mut uses = vec![0usize; first.len()];
    for (_, e) in second {
        let mut columns = Vec::new();
        e.columns(&mut columns);
        for c in columns {
            *uses.get_mut(c)? += 1;
        }
    }
    let repeated = first
        .iter()
        .zip(&uses)
        .any(|((_, e), &n)| n > 1 && !is_cheap(e));
    if repeated {
        return None;
    }
    second
        .iter()
        .map(|(name, e)| Some((name.clone(), substitute(e, first)?)))
        .collect()
}

/// Costs nothing to evaluate twice: a column (an array shared, not copied), a literal or
/// a captured value (scalars).
fn is_cheap(e: &TExpr) -> bool {
    matches!(
        e.kind,
        TKind::Column { .. } | TKind::Lit(_) | TKind::Capture(_)
    )
}

/// `e` with every column reference replaced by the expression of `first` it names.
fn substitute(e: &TExpr, first: &[(String, TExpr)]) -> Option<TExpr> {
    let kind = match &e.kind {
        TKind::Column { index, .. } => return first.get(*index).map(|(_, x)| x.clone()),
        TKind::Lit(_) | TKind::Capture(_) => return Some(e.clone()),
        TKind::Binary { op, left, right } => TKind::Binary {
            op: *op,
            left: Box::new(substitute(left, first)?),
            right: Box::new(substitute(right, first)?),
        },
        TKind::Unary { op, expr } => TKind::Unary {
            op: *op,
            expr: Box::new(substitute(expr, first)?),
        },
        TKind::Cast { expr, to } => TKind::Cast {
            expr: Box::new(substitute(expr, first)?),
            to: *to,
        },
        TKind::Call { function, args } => TKind::Call {
            function: *function,
            args: args
                .iter()
                .map(|a| substitute(a, first))
                .collect::<Option<Vec<_>>>()?,
        },
    };
    let constant = match &kind {
        TKind::Binary { left, right, .. } => left.constant && right.constant,
        TKind::Unary { expr, .. } | TKind::Cast { expr, .. } => expr.constant,
        TKind::Call { args, .. } => e.constant && args.iter().all(|a| a.constant),
        _ => e.constant,
    };
    Some(TExpr {
        kind,
        ty: e.ty,
        constant,
        span: e.span,
    })
}

#[cfg(test)]
mod tests {
    use proc_macro2::TokenStream;
    use quote::quote;

    use super::*;
    use crate::diag::Ctxt;
    use crate::plan::Branch;

    fn fused(input: TokenStream) -> Plan {
        let block = crate::parse::parse_block(input).unwrap();
        let (plan, cx) = crate::check::check_block(&block, Ctxt::default());
        assert!(!cx.has_errors());
        let mut plan = plan.unwrap();
        fuse(&mut plan);
        plan
    }

    fn shape(branch: &Branch) -> Vec<String> {
        branch
            .ops
            .iter()
            .map(|op| match op {
                TypedOp::Filter { .. } => "filter".to_string(),
                TypedOp::Map { .. } => "map".to_string(),
                TypedOp::Join { .. } => "join".to_string(),
                TypedOp::Watermark { .. } => "watermark".to_string(),
                TypedOp::Aggregate(_) => "aggregate".to_string(),
                TypedOp::Dedup(_) => "dedup".to_string(),
                TypedOp::StreamJoin { .. } => "stream_join".to_string(),
                TypedOp::Sort(_) => "sort".to_string(),
                TypedOp::Limit(_) => "limit".to_string(),
                TypedOp::Project { exprs, .. } => format!(
                    "project({})",
                    exprs
                        .iter()
                        .map(|(n, e)| format!("{n}={}", text(e)))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            })
            .collect()
    }

    fn text(e: &TExpr) -> String {
        match &e.kind {
            TKind::Column { index, name } => format!("{name}#{index}"),
            TKind::Lit(v) => format!("{v:?}"),
            TKind::Capture(i) => format!("capture{i}"),
            TKind::Binary { op, left, right } => {
                format!("({} {} {})", text(left), op.symbol(), text(right))
            }
            TKind::Unary { op, expr } => format!("{op:?}({})", text(expr)),
            TKind::Cast { expr, to } => format!("({} as {})", text(expr), to.name()),
            TKind::Call { function, args } => format!(
                "{function}({})",
                args.iter().map(text).collect::<Vec<_>>().join(", ")
            ),
        }
    }

    #[test]
    fn with_column_then_select_is_one_projection_over_the_input() {
        let plan = fused(quote! {
            schema S { user: string, amount: f64, qty: i64 }
            read(json, path = "x", schema = S)
                .with_column(total, amount * qty)
                .select(user, total * 2.0 as doubled)
                .write(console)
        });
        assert_eq!(
            shape(&plan.branches[0]),
            ["project(user=user#0, doubled=((amount#1 * (qty#2 as f64)) * Float(2.0)))"]
        );
    }

    #[test]
    fn a_computed_column_read_twice_keeps_its_own_projection() {
        let plan = fused(quote! {
            schema S { amount: f64 }
            read(json, path = "x", schema = S)
                .with_column(t, amount * 2.0)
                .select(t + t as twice)
                .write(console)
        });
        assert_eq!(plan.branches[0].ops.len(), 2);
    }

    #[test]
    fn plain_columns_read_twice_still_fuse_and_filters_stay_between() {
        let plan = fused(quote! {
            schema S { a: i64, b: i64 }
            read(json, path = "x", schema = S)
                .with_column_renamed(a, x)
                .select(x + x as y, b)
                .filter(y > 0)
                .drop(b)
                .write(console)
        });
        assert_eq!(
            shape(&plan.branches[0]),
            ["project(y=(a#0 + a#0), b=b#1)", "filter", "project(y=y#0)"]
        );
    }

    #[test]
    fn a_map_between_projections_keeps_them_apart() {
        let plan = fused(quote! {
            schema S { a: i64 }
            schema T { b: i64 }
            read(json, path = "x", schema = S)
                .select(a + 1 as a)
                .map(T, |r| T { b: r.a })
                .select(b * 2 as c)
                .write(console)
        });
        let ops = shape(&plan.branches[0]);
        assert_eq!(ops.len(), 3, "{ops:?}");
        assert_eq!(ops[1], "map");
    }
}
