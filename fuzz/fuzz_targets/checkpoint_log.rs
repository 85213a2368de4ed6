//! The checkpoint's readers on any bytes: byte 0 picks the file (`offsets/N` of a query
//! of 0 to 3 sources, `commits/N`, `metadata`, a source's `MetadataLog` entry), the rest
//! is the file.
#![no_main]

use libfuzzer_sys::fuzz_target;
use stream_core::__fuzz::{read_commit, read_log_entry, read_metadata, read_offsets};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, file)) = data.split_first() else {
        return;
    };
    let _ = match selector % 4 {
        0 => read_offsets(file, usize::from(selector >> 2 & 3)),
        1 => read_commit(file),
        2 => read_metadata(file),
        _ => read_log_entry(file).map(drop),
    };
});
