//! The `stream!` macro on edits of real blocks (those of tests/tests and the book, in
//! fuzz/stream_blocks.txt): bytes 0 and 1 pick a block, each further 3 bytes are one
//! edit of its token trees (delete, duplicate, move, an identifier or a literal or a
//! punctuation swapped for one of the blocks' or an edge value, a group's delimiter
//! changed). The macro must return tokens, never panic or hang.
#![no_main]

use libfuzzer_sys::fuzz_target;
use stream_fuzz::edit::{Edits, block};
use stream_fuzz::{expand_stream, names_a_device};

fuzz_target!(|data: &[u8]| {
    let [a, b, ops @ ..] = data else {
        return;
    };
    let tokens = Edits::new(&block(usize::from(u16::from_le_bytes([*a, *b])))).apply(ops);
    if names_a_device(&tokens.to_string()) {
        return;
    }
    let _ = expand_stream(tokens);
});
