//! `drop(a, b)`: removes columns.

use crate::check::{Checker, StreamState};
use crate::diag::did_you_mean;

pub(crate) fn check(
    cx: &mut Checker,
    stream: StreamState,
    columns: &[syn::Ident],
) -> Option<StreamState> {
    let mut failed = false;
    for c in columns {
        let name = c.to_string();
        if !stream.schema.iter().any(|col| col.name == name) {
            let help = match did_you_mean(&name, stream.schema.iter().map(|c| c.name.as_str())) {
                Some(s) => format!("did you mean `{s}`?"),
                None => "name a column of the stream".to_string(),
            };
            cx.cx
                .error(c.span(), format!("no column `{name}` to drop"), help);
            failed = true;
        }
    }
    if failed {
        return None;
    }
    let span = columns
        .first()
        .map_or_else(proc_macro2::Span::call_site, |c| c.span());
    let exprs: Vec<_> = (0..stream.schema.len())
        .filter(|&i| !columns.iter().any(|c| *c == stream.schema[i].name))
        .map(|i| {
            (
                stream.schema[i].name.clone(),
                super::column_ref(&stream.schema, i, span),
            )
        })
        .collect();
    Some(super::select::project(stream, exprs))
}
