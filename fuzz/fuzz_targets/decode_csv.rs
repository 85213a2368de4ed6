//! The CSV decoder of the file source on any bytes: bytes 0 and 1 pick the mode, the
//! schema and the options (header, delimiter, quote, escape, null value), the rest is
//! the file.
#![no_main]

use libfuzzer_sys::fuzz_target;
use stream_core::__fuzz::{CsvOptions, decode_file};
use stream_core::FileFormat;
use stream_fuzz::files::{mode, record_schema};

fuzz_target!(|data: &[u8]| {
    let [selector, options, file @ ..] = data else {
        return;
    };
    let csv = CsvOptions {
        header: options & 1 == 1,
        delimiter: [b',', b';', b'\t', b'|'][usize::from(options >> 1 & 3)],
        quote: [b'"', b'\''][usize::from(options >> 3 & 1)],
        escape: [Some(b'\\'), None][usize::from(options >> 4 & 1)],
        null_value: [None, Some("NA".to_string())][usize::from(options >> 5 & 1)].clone(),
    };
    let schema = record_schema(selector >> 2, false);
    let _ = decode_file(schema, FileFormat::Csv, mode(selector & 3), &csv, file);
});
