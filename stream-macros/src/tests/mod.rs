//! Expansion snapshots (insta + prettyplease), one per operator.

mod expansion;

use proc_macro2::{TokenStream, TokenTree};

/// The messages of the `compile_error!`s in an expansion (those with a help line), in
/// order: what a unit test of a checker rule compares.
pub(crate) fn compile_errors(expansion: TokenStream) -> Vec<String> {
    fn walk(tokens: TokenStream, out: &mut Vec<String>) {
        for tt in tokens {
            match tt {
                TokenTree::Group(g) => walk(g.stream(), out),
                TokenTree::Literal(l) => {
                    if let Ok(s) = syn::parse_str::<syn::LitStr>(&l.to_string())
                        && s.value().contains("= help: ")
                    {
                        out.push(s.value());
                    }
                }
                _ => {}
            }
        }
    }
    let mut out = Vec::new();
    walk(expansion, &mut out);
    out
}
