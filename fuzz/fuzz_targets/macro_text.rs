//! The `stream!` macro (parse, check, plan, codegen) on any text that tokenizes: it must
//! return tokens (its errors are `compile_error!`s), never panic or hang, and what it
//! returns must parse as the expression it stands for.
#![no_main]

use std::str::FromStr;

use libfuzzer_sys::fuzz_target;
use proc_macro2::TokenStream;
use stream_fuzz::{expand_stream, names_a_device};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if names_a_device(text) {
        return;
    }
    let Ok(tokens) = TokenStream::from_str(text) else {
        return;
    };
    let out = expand_stream(tokens);
    if let Err(e) = syn::parse2::<syn::Expr>(out.clone()) {
        panic!("the expansion is not an expression ({e}): {out}");
    }
});
