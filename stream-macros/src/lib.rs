//! The `stream!` pipeline macro: a pipeline block, checked against its schemas when the
//! crate compiles, becomes typed operator code over Arrow record batches that runs on
//! `stream_core`'s engine. Use it through `stream_core::stream!`.
//!
//! This file is a thin shim; the work happens on `proc_macro2` in `parse/` → `check/`
//! (which builds the `plan/`) → the passes of `plan/` → `codegen/`, so it can be unit
//! tested.

mod check;
mod codegen;
mod derive;
mod diag;
mod expand;
mod ops;
mod parse;
mod plan;
mod schema_file;
mod types;

#[cfg(test)]
mod tests;

/// Compiles a pipeline block into a `stream_core::QueryBuilder`. See the book.
///
/// The builder keeps what the block was checked and compiled for: its output mode, its
/// sink, its sources, its pipeline and its late-rows sink. Setting one of them again on
/// the builder makes `start()` fail with `StreamError::FixedByStream`; the checkpoint,
/// trigger, query name, clock and the rest stay settable. Options chosen at run time
/// are `{ .. }` captures (`max_files_per_trigger = {n}`, `checkpoint({dir})`), checked
/// when the query starts; the values the checks need (the output mode, schemas,
/// watermark delays, window sizes) must be written out, and a capture of one is a
/// compile error that says why.
///
/// The pipeline's `explain()` (a started query's `StreamingQuery::explain()`) is the
/// compiled plan as a tree in the manner of Spark's `explain()`: the sink, then each
/// operator over its inputs, with the block's expressions, the exchanges and the state
/// of the stateful operators, down to the sources and the columns they read (the book's
/// "Monitoring" chapter, "The compiled plan").
///
/// ```ignore
/// // (this crate cannot depend on stream_core, which runs such blocks in its own docs)
/// use stream_core::{MemoryStream, Schema, stream};
///
/// #[derive(Schema)]
/// struct Reading { sensor: String, celsius: f64 }
///
/// let readings = MemoryStream::of::<Reading>();
/// let limit = 30.0;
/// let checkpoint = std::env::temp_dir().join("doc_stream_macro");
/// let builder = stream! {
///     schema Reading = Reading;
///     read(memory, stream = {readings}, schema = Reading)
///         .filter(celsius > {limit})
///         .write(memory, name = "doc_stream_macro_hot")
///         .checkpoint({checkpoint})
/// };
/// # let _ = builder;
/// ```
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
