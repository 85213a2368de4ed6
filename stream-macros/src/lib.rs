//! The `stream!` pipeline macro: a pipeline block, checked against its schemas when the
//! crate compiles, becomes typed operator code over Arrow record batches that runs on
//! `stream_core`'s engine. Use it through `stream_core::stream!`.
//!
//! This file is a thin shim; the work happens on `proc_macro2` in `parse/` → `check/` →
//! `codegen/`, so it can be unit tested.

mod check;
mod codegen;
mod derive;
mod diag;
mod expand;
mod ops;
mod parse;
mod schema_file;
mod types;

#[cfg(test)]
mod tests;

/// Compiles a pipeline block into a `stream_core::QueryBuilder`. See the book.
#[proc_macro]
pub fn stream(input: proc_macro::TokenStream) -> proc_macro::TokenStream {
    expand::stream_inner(input.into()).into()
}

/// Makes a struct with named fields a schema of `stream!` blocks: each field is a column,
/// its Rust type names the column type, and `Option<T>` makes it nullable. A block names
/// it with `schema Event = path::to::Event;`. Use it through `stream_core::Schema`.
#[proc_macro_derive(Schema)]
pub fn derive_schema(input: proc_macro::TokenStream) -> proc_macro::TokenStream {
    derive::derive_schema(input.into()).into()
}
