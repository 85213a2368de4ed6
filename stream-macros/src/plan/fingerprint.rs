//! The plan's fingerprint: a text of its shape, hashed, which the checkpoint stores and
//! checks when a query restarts, so that a checkpoint is never read by a plan that
//! would misread its state.
//!
//! The text is a checkpoint format: for a plan that did not change it must stay the
//! same byte for byte, or old checkpoints are refused. A new operator adds text only
//! where it appears; settings chosen at run time (captures, paths, the trigger) are not
//! in it.

use quote::quote;

use super::{Plan, Schema, TypedOp};
use crate::check::{TExpr, TKind};

/// The fingerprint the generated pipeline reports: `stream:` and the hash of
/// [`describe`] in 16 hex digits.
pub(crate) fn fingerprint(plan: &Plan) -> String {
    format!("stream:{:016x}", fnv1a(&describe(plan)))
}

/// A stable text of the plan's shape, hashed into the checkpoint fingerprint.
pub(crate) fn describe(plan: &Plan) -> String {
    fn expr(e: &TExpr) -> String {
        match &e.kind {
            TKind::Column { name, .. } => name.clone(),
            TKind::Lit(v) => format!("{v:?}"),
            TKind::Capture(i) => format!("capture{i}"),
            TKind::Binary { op, left, right } => {
                format!("({} {} {})", expr(left), op.symbol(), expr(right))
            }
            TKind::Unary { op, expr: e } => format!("({op:?} {})", expr(e)),
            TKind::Cast { expr: e, to } => format!("({} as {})", expr(e), to.name()),
            TKind::Call { function, args } => {
                format!(
                    "{function}({})",
                    args.iter().map(expr).collect::<Vec<_>>().join(", ")
                )
            }
        }
    }
    let mut out = String::new();
    for b in &plan.branches {
        out.push_str(&format!("branch from {}:", b.source));
        for op in &b.ops {
            match op {
                TypedOp::Filter { pred } => out.push_str(&format!(" filter {}", expr(pred))),
                TypedOp::Project { exprs, .. } => {
                    let items: Vec<String> = exprs
                        .iter()
                        .map(|(n, e)| format!("{} as {n}", expr(e)))
                        .collect();
                    out.push_str(&format!(" project [{}]", items.join(", ")));
                }
                TypedOp::Watermark {
                    column, delay_ms, ..
                } => {
                    out.push_str(&format!(" watermark(#{column}, {delay_ms} ms)"));
                }
                TypedOp::Join {
                    join,
                    output,
                    left_key,
                    ..
                } => {
                    if let Some(j) = plan.joins.get(*join) {
                        let columns: Vec<String> = output
                            .iter()
                            .map(|c| format!("{}: {}", c.name, c.ty))
                            .collect();
                        out.push_str(&format!(
                            " join#{join} on {:?} = {:?} left_outer {} -> [{}]",
                            left_key,
                            j.right_key,
                            j.left_outer,
                            columns.join(", ")
                        ));
                    }
                }
                TypedOp::Aggregate(a) => {
                    let keys: Vec<String> = a
                        .key_schema
                        .iter()
                        .map(|c| format!("{}: {}", c.name, c.ty))
                        .collect();
                    let aggs: Vec<String> = a
                        .aggs
                        .iter()
                        .map(|g| format!("{:?}({:?}) as {}", g.func, g.arg, g.name))
                        .collect();
                    // a session window adds its gap; other plans keep their text
                    let session = a
                        .session
                        .map(|s| format!(" session gap {}", s.gap))
                        .unwrap_or_default();
                    out.push_str(&format!(
                        " aggregate#{} window {:?}{session} keys [{}] aggs [{}] inputs [{}]",
                        a.id,
                        a.window.map(|w| (w.size, w.slide, w.start)),
                        keys.join(", "),
                        aggs.join(", "),
                        a.input
                            .iter()
                            .map(|(n, e)| format!("{} as {n}", expr(e)))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                }
                TypedOp::Dedup(d) => {
                    let keys: Vec<&str> = d.keys.iter().map(|(n, _)| n.as_str()).collect();
                    out.push_str(&format!(
                        " dedup#{} within {} [{}]",
                        d.id,
                        d.within,
                        keys.join(", ")
                    ));
                }
                TypedOp::StreamJoin { plan: j, side } => {
                    let keys: Vec<&str> = j
                        .left_key
                        .iter()
                        .map(|&i| j.left[i].name.as_str())
                        .collect();
                    let columns = |schema: &Schema| {
                        schema
                            .iter()
                            .map(|c| format!("{}: {}", c.name, c.ty))
                            .collect::<Vec<_>>()
                            .join(", ")
                    };
                    out.push_str(&format!(
                        " stream_join#{} side {side} on [{}] within {:?} left [{}] right [{}]",
                        j.id,
                        keys.join(", "),
                        j.within_ms,
                        columns(&j.left),
                        columns(&j.right)
                    ));
                }
                TypedOp::Map { function, .. } => {
                    if let Some(m) = plan.functions.get(*function) {
                        let f = &m.f;
                        let kind = if m.flat { "flat_map" } else { "map" };
                        let columns: Vec<&str> = plan
                            .rows
                            .get(m.output)
                            .map(|r| r.schema.iter().map(|c| c.name.as_str()).collect())
                            .unwrap_or_default();
                        out.push_str(&format!(
                            " {kind}([{}], {})",
                            columns.join(", "),
                            quote!(#f)
                        ));
                    }
                }
            }
        }
        out.push(';');
    }
    out
}

/// The 64-bit FNV-1a hash of `text`: small, and the same on every platform and Rust
/// version (std's hashers promise neither), as a checkpoint needs.
fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}
