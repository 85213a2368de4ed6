//! `union(other)`: the rows of both streams; the schemas must be the same.

use crate::check::{Checker, StreamState};

pub(crate) fn check(
    cx: &mut Checker,
    mut stream: StreamState,
    other: StreamState,
    name: &syn::Ident,
) -> Option<StreamState> {
    if stream.schema != other.schema {
        let show = |s: &crate::plan::Schema| {
            s.iter()
                .map(|c| format!("{}: {}", c.name, c.ty))
                .collect::<Vec<_>>()
                .join(", ")
        };
        cx.cx.error(
            name.span(),
            format!(
                "cannot union streams of different schemas: ({}) and ({})",
                show(&stream.schema),
                show(&other.schema)
            ),
            "select the same columns, with the same types, in the same order on both sides",
        );
        return None;
    }
    stream.branches.extend(other.branches);
    Some(stream)
}
