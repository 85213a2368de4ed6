//! The `stream!` pipeline macro: a pipeline block, checked against its schemas when the
//! crate compiles, becomes typed operator code over Arrow record batches that runs on
//! `stream_core`'s engine. Use it through `stream_core::stream!`.
//!
//! This file is a thin shim; the work happens on `proc_macro2` in `parse/` → `check/` →
//! `codegen/`, so it can be unit tested.

mod check;
mod codegen;
mod diag;
mod expand;
mod ops;
mod parse;
mod types;

#[cfg(test)]
mod tests;

/// Compiles a pipeline block into a `stream_core::QueryBuilder`. See the book.
#[proc_macro]
pub fn stream(input: proc_macro::TokenStream) -> proc_macro::TokenStream {
    expand::stream_inner(input.into()).into()
}
