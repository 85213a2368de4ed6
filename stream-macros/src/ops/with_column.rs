//! `with_column(name, expr)`: adds a column, or replaces the column of that name in place.

use crate::check::{Checker, StreamState};
use crate::parse::Expr;

pub(crate) fn check(
    cx: &mut Checker,
    stream: StreamState,
    name: &syn::Ident,
    expr: &Expr,
) -> Option<StreamState> {
    let typed = cx.check_expr(expr, &stream.schema, None)?;
    let new_name = name.to_string();
    let mut exprs: Vec<_> = (0..stream.schema.len())
        .map(|i| {
            (
                stream.schema[i].name.clone(),
                super::column_ref(&stream.schema, i, name.span()),
            )
        })
        .collect();
    match exprs.iter().position(|(n, _)| *n == new_name) {
        Some(i) => exprs[i].1 = typed,
        None => exprs.push((new_name, typed)),
    }
    Some(super::select::project(stream, exprs))
}
