//! The text decoder of the file source on any bytes: byte 0 picks the mode, the rest is
//! the file.
#![no_main]

use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use stream_core::__fuzz::arrow_schema::{DataType, Field, Schema};
use stream_core::__fuzz::{CsvOptions, decode_file};
use stream_core::FileFormat;
use stream_fuzz::files::mode;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, file)) = data.split_first() else {
        return;
    };
    let csv = CsvOptions {
        header: false,
        delimiter: b',',
        quote: b'"',
        escape: None,
        null_value: None,
    };
    let schema = Arc::new(Schema::new(vec![Field::new(
        "value",
        DataType::Utf8,
        false,
    )]));
    if let Ok(batches) = decode_file(schema, FileFormat::Text, mode(selector), &csv, file) {
        // a line per row: never more rows than line terminators plus one
        let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
        let ends = file.iter().filter(|&&b| b == b'\n' || b == b'\r').count();
        assert!(rows <= ends + 1, "{rows} rows from {ends} line ends");
    }
});
