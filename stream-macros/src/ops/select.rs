//! `select(a, b * 2 as c, ..)`: the listed expressions become the columns. A Kafka
//! `headers` column, which no expression takes, is kept by its bare name (`headers` or
//! `headers as h`).

use std::collections::HashSet;

use crate::check::{Checker, StreamState, TExpr, TKind};
use crate::parse::SelectItem;
use crate::plan::{Column, TypedOp};

pub(crate) fn check(
    cx: &mut Checker,
    stream: StreamState,
    items: &[SelectItem],
    op: proc_macro2::Span,
) -> Option<StreamState> {
    let mut exprs: Vec<(String, TExpr)> = Vec::new();
    let mut failed = false;
    for item in items {
        // Kafka headers are no expression's input, but a bare name passes them on
        let headers = match &item.expr {
            crate::parse::Expr::Column(ident) => stream
                .schema
                .iter()
                .position(|c| *ident == c.name && c.ty.ty == crate::types::DslType::Headers)
                .map(|index| super::column_ref(&stream.schema, index, ident.span())),
            _ => None,
        };
        let Some(typed) = headers.or_else(|| cx.check_expr(&item.expr, &stream.schema, None))
        else {
            failed = true;
            continue;
        };
        let name = match (&item.alias, &item.expr, &typed.kind) {
            (Some(alias), _, _) => alias.to_string(),
            (None, _, TKind::Column { name, .. }) => name.clone(),
            (None, _, _) => {
                cx.cx.error_range(
                    item.range,
                    "this expression needs a name",
                    "name it with `as`: `amount * 2.0 as doubled`",
                );
                failed = true;
                continue;
            }
        };
        exprs.push((name, typed));
    }
    if items.is_empty() {
        cx.cx.error(
            op,
            "`select` needs at least one column",
            "list the columns to keep: `select(user, amount)`",
        );
        return None;
    }
    if failed || !unique(cx, &exprs, items) {
        return None;
    }
    Some(project(stream, exprs))
}

/// Reports output names used twice.
pub(crate) fn unique(cx: &mut Checker, exprs: &[(String, TExpr)], items: &[SelectItem]) -> bool {
    let mut seen = HashSet::new();
    let mut ok = true;
    for ((name, e), item) in exprs.iter().zip(items) {
        if !seen.insert(name.clone()) {
            let span = item.alias.as_ref().map_or(e.span, |a| a.span());
            cx.cx.error(
                span,
                format!("column `{name}` appears twice in the output"),
                "rename one of them with `as`",
            );
            ok = false;
        }
    }
    ok
}

/// Adds a projection computing `exprs`; its schema is their names and types. The
/// watermarked event-time column stays the event time where it is passed on as it is
/// (under its name or another), as Spark keeps the watermark on the attribute.
pub(crate) fn project(mut stream: StreamState, exprs: Vec<(String, TExpr)>) -> StreamState {
    let before = stream.event_time.as_ref().map(|et| et.column.clone());
    stream.event_time = stream.event_time.take().and_then(|mut et| {
        let input = stream.schema.iter().position(|c| c.name == et.column)?;
        let (name, _) = exprs
            .iter()
            .find(|(_, e)| matches!(e.kind, TKind::Column { index, .. } if index == input))?;
        et.column = name.clone();
        Some(et)
    });
    if stream.event_time.is_none() && before.is_some() {
        stream.dropped_event_time = before;
    }
    let schema: Vec<Column> = exprs
        .iter()
        .map(|(name, e)| Column {
            name: name.clone(),
            ty: e.ty,
        })
        .collect();
    let op = TypedOp::Project {
        exprs,
        schema: schema.clone(),
    };
    super::push(stream, op, schema)
}

/// The code of a projection: one column per expression; a plain column reference is
/// passed on without copying.
pub(crate) fn emit(exprs: &[(String, TExpr)], schema_index: usize) -> proc_macro2::TokenStream {
    let k = crate::codegen::expr::kernels();
    let columns = exprs.iter().map(|(_, e)| match &e.kind {
        TKind::Column { index, .. } => {
            quote::quote!(::core::clone::Clone::clone(__batch.column(#index)))
        }
        _ => {
            let v = crate::codegen::expr::array(e);
            quote::quote!(#k::column(#v))
        }
    });
    quote::quote! {
        #k::batch(&self.__schemas[#schema_index], ::std::vec![#(#columns),*], __n)?
    }
}
