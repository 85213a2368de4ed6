//! The JSON-lines decoder of the file source on any bytes: byte 0 picks the mode and the
//! schema, the rest is the file.
#![no_main]

use libfuzzer_sys::fuzz_target;
use stream_core::__fuzz::{CsvOptions, decode_file};
use stream_core::FileFormat;
use stream_fuzz::files::{mode, record_schema};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, file)) = data.split_first() else {
        return;
    };
    let csv = CsvOptions {
        header: false,
        delimiter: b',',
        quote: b'"',
        escape: Some(b'\\'),
        null_value: None,
    };
    let schema = record_schema(selector >> 2, true);
    let _ = decode_file(schema, FileFormat::Json, mode(selector & 3), &csv, file);
});
