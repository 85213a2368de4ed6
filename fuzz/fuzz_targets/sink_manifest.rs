//! The file sink's manifest readers on any bytes: byte 0 picks a manifest file
//! (`_stream_metadata/N`) or the layout file (`_stream_metadata/format`), the rest is
//! the file.
#![no_main]

use libfuzzer_sys::fuzz_target;
use stream_core::__fuzz::{read_manifest, read_manifest_layout};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, file)) = data.split_first() else {
        return;
    };
    let _ = if selector & 1 == 0 {
        read_manifest(file).map(drop)
    } else {
        read_manifest_layout(file)
    };
});
