//! `with_column_renamed(from, to)`: renames a column. Spark ignores a missing column;
//! here it is a compile error, since the macro can tell.

use crate::check::{Checker, StreamState};
use crate::diag::did_you_mean;

pub(crate) fn check(
    cx: &mut Checker,
    stream: StreamState,
    from: &syn::Ident,
    to: &syn::Ident,
) -> Option<StreamState> {
    let (from_name, to_name) = (from.to_string(), to.to_string());
    let Some(index) = stream.schema.iter().position(|c| c.name == from_name) else {
        let help = match did_you_mean(&from_name, stream.schema.iter().map(|c| c.name.as_str())) {
            Some(s) => format!("did you mean `{s}`?"),
            None => "name a column of the stream".to_string(),
        };
        cx.cx.error(
            from.span(),
            format!("no column `{from_name}` to rename"),
            help,
        );
        return None;
    };
    if from_name != to_name && stream.schema.iter().any(|c| c.name == to_name) {
        cx.cx.error(
            to.span(),
            format!("column `{to_name}` already exists"),
            "pick a name the stream does not have, or drop that column first",
        );
        return None;
    }
    let exprs: Vec<_> = (0..stream.schema.len())
        .map(|i| {
            let name = if i == index {
                to_name.clone()
            } else {
                stream.schema[i].name.clone()
            };
            (name, super::column_ref(&stream.schema, i, to.span()))
        })
        .collect();
    Some(super::select::project(stream, exprs))
}
