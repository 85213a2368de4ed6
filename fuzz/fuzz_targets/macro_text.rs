//! The `stream!` macro (parse, check, plan, codegen) on any text that tokenizes: it must
//! return tokens (its errors are `compile_error!`s), never panic or hang. (That the
//! expansion parses is not asked: it carries the user's tokens, and a keyword written
//! where a path goes, `schema S = try;`, is rustc's error on that token.)
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
    let _ = expand_stream(tokens);
});
