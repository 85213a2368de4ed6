//! The `stream!` pipeline macro. It compiles a pipeline block into typed operator code
//! that runs on `stream_core`'s engine; the grammar, checker and code generator arrive
//! with the `stream!` v1 issue. For now the crate only builds, so the workspace layout
//! is in place.
