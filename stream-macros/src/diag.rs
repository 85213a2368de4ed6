//! Diagnostics: collect every error of an expansion, then report them together.

use proc_macro2::{Span, TokenStream};

/// Collects errors while the pipeline is parsed and checked, as serde_derive's `Ctxt`.
#[derive(Default)]
pub(crate) struct Ctxt {
    errors: Vec<syn::Error>,
}

impl Ctxt {
    /// Records an error on `span` with a help line.
    pub(crate) fn error(
        &mut self,
        span: Span,
        message: impl std::fmt::Display,
        help: impl std::fmt::Display,
    ) {
        self.errors.push(syn::Error::new(
            span,
            format!("{message}\n\n= help: {help}"),
        ));
    }

    /// Records an error under the tokens from `start` to `end` (a whole expression), with
    /// a help line. rustc underlines the range: syn spans a `compile_error!` from its first
    /// token to its last.
    pub(crate) fn error_range(
        &mut self,
        (start, end): (Span, Span),
        message: impl std::fmt::Display,
        help: impl std::fmt::Display,
    ) {
        let ends: TokenStream = [start, end]
            .into_iter()
            .map(|s| proc_macro2::TokenTree::Ident(proc_macro2::Ident::new("x", s)))
            .collect();
        self.errors.push(syn::Error::new_spanned(
            ends,
            format!("{message}\n\n= help: {help}"),
        ));
    }

    /// Records a syn error as it is.
    pub(crate) fn syn(&mut self, error: syn::Error) {
        self.errors.push(error);
    }

    pub(crate) fn has_errors(&self) -> bool {
        !self.errors.is_empty()
    }

    /// All errors as `compile_error!` invocations.
    pub(crate) fn into_compile_errors(self) -> TokenStream {
        self.errors
            .into_iter()
            .map(|e| e.to_compile_error())
            .collect()
    }
}

/// The closest of `candidates` to `name`, if close enough to suggest.
pub(crate) fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (edit_distance(name, c), c))
        .filter(|(d, c)| *d <= (c.len().max(name.len()) / 3).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = if ca == *cb {
                prev
            } else {
                1 + prev.min(row[j]).min(row[j + 1])
            };
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        assert_eq!(did_you_mean("amout", ["amount", "user"]), Some("amount"));
        assert_eq!(did_you_mean("xyz", ["amount", "user"]), None);
        assert_eq!(did_you_mean("usr", ["amount", "user"]), Some("user"));
    }
}
