//! The `stream!` pipeline on `proc_macro2`, unit-testable: parse (`parse/`) → plan (built
//! by `check/` while it checks the block) → passes (`plan::prune`, then `plan::fuse`) →
//! codegen (`codegen/`).

use proc_macro2::TokenStream;

use crate::diag::Ctxt;

/// Expands a `stream!` block. Never panics: errors come back as `compile_error!`s next
/// to a placeholder of the right type.
pub(crate) fn stream_inner(input: TokenStream) -> TokenStream {
    let block = match crate::parse::parse_block(input.clone()) {
        Ok(block) => block,
        Err(e) => return crate::codegen::placeholder(e.to_compile_error(), false),
    };
    // `schema Event = path::to::Event;` without its fields yet: let the derive's
    // callback macro put them in and call `stream!` again
    if let Some((name, path)) = block.pending_derived() {
        return crate::derive::callback(name, path, input);
    }
    // the checker builds the plan, or collects every error of the block
    let (plan, cx) = crate::check::check_block(&block, Ctxt::default());
    match plan {
        Some(mut plan) if !cx.has_errors() => {
            crate::plan::run_passes(&mut plan);
            unused_lets(&block, crate::codegen::expand(&plan))
        }
        _ => crate::codegen::placeholder(cx.into_compile_errors(), block.writes_memory()),
    }
}

/// The expansion with, for each `let` stream that nothing uses, a variable of the same
/// name that nothing uses either, so that rustc's `unused_variables` lint warns on the
/// name as it warns of a Rust variable (and is silenced the same way: `let _big = ..`
/// in the block, or `#[allow(unused_variables)]`). Each sits in a block of its own, so
/// that it shadows nothing of the user's.
fn unused_lets(block: &crate::parse::Block, expansion: TokenStream) -> TokenStream {
    let unused = block.unused_lets();
    if unused.is_empty() {
        return expansion;
    }
    let lets = unused.iter().map(|name| {
        quote::quote! {
            {
                let #name = ::core::marker::PhantomData::<()>;
            }
        }
    });
    quote::quote! {
        {
            #(#lets)*
            #expansion
        }
    }
}
