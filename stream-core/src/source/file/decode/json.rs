//! The JSON-lines format (arrow-json).

use std::io::BufRead;

use arrow_array::RecordBatch;
use arrow_json::ReaderBuilder;
use arrow_json::reader::Decoder;
use arrow_schema::{ArrowError, SchemaRef};

use super::{DecodeContext, Piece, flush_good, lines};
use crate::source::file::ParseMode;
use crate::{Result, StreamError};

/// Decodes newline-delimited JSON from `reader` (a file, or bytes in memory) against
/// `schema`.
pub(crate) fn decode_all<R: BufRead>(
    schema: &SchemaRef,
    reader: R,
) -> Result<Vec<RecordBatch>, ArrowError> {
    ReaderBuilder::new(schema.clone()).build(reader)?.collect()
}

/// A record that does not decode: its 1-based line and the decoder's message.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct BadRecord {
    pub(crate) line: u64,
    pub(crate) message: String,
}

/// Finds the first record of `bytes` that does not decode against `schema`, by decoding
/// line by line (only used once a decode has failed). A record spanning several lines
/// is reported at its last line; an unfinished record at the end, at the last line.
pub(crate) fn find_bad_record(schema: &SchemaRef, bytes: &[u8]) -> Option<BadRecord> {
    let bad = |line: usize, e: ArrowError| BadRecord {
        line: line as u64,
        message: e.to_string(),
    };
    let mut decoder = match ReaderBuilder::new(schema.clone()).build_decoder() {
        Ok(d) => d,
        Err(e) => return Some(bad(1, e)),
    };
    let mut last = 0;
    for (i, line) in bytes.split_inclusive(|&b| b == b'\n').enumerate() {
        last = i + 1;
        let mut rest = line;
        while !rest.is_empty() {
            match decoder.decode(rest) {
                Ok(0) => {
                    // the decoder holds a full batch: make room
                    if let Err(e) = decoder.flush() {
                        return Some(bad(last, e));
                    }
                }
                Ok(n) => rest = &rest[n..],
                Err(e) => return Some(bad(last, e)),
            }
        }
        if !decoder.has_partial_record()
            && let Err(e) = decoder.flush()
        {
            return Some(bad(last, e));
        }
    }
    if decoder.has_partial_record() {
        let message = "the file ends in the middle of a record".to_string();
        return Some(BadRecord {
            line: last.max(1) as u64,
            message,
        });
    }
    None
}

/// Decodes a JSON-lines file. The whole file is decoded at once; only if that fails is
/// it decoded again line by line (one record per line, as Spark reads JSON lines) to
/// find, drop or keep the records that do not decode.
pub(super) fn decode(bytes: &[u8], cx: &mut DecodeContext<'_>) -> Result<Vec<Piece>> {
    let error = match decode_all(cx.data_schema, bytes) {
        Ok(batches) => return Ok(batches.into_iter().map(Piece::Rows).collect()),
        Err(e) => e,
    };
    if cx.mode == ParseMode::FailFast {
        return Err(match find_bad_record(cx.data_schema, bytes) {
            Some(bad) => cx.malformed(bad.line, bad.message),
            None => cx.bad_file(format!("it cannot be decoded as JSON lines: {error}")),
        });
    }
    let new_decoder = || {
        ReaderBuilder::new(cx.data_schema.clone())
            .build_decoder()
            .map_err(StreamError::from)
    };
    let mut decoder = new_decoder()?;
    let mut pieces = Vec::new();
    let mut good: Vec<RecordBatch> = Vec::new();
    for (number, line) in lines(bytes) {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match decode_line(&mut decoder, line) {
            Ok(batches) => good.extend(batches),
            Err(message) => {
                flush_good(cx.data_schema, &mut good, &mut pieces)?;
                decoder = new_decoder()?;
                cx.on_malformed(&mut pieces, number, line, message)?;
            }
        }
    }
    flush_good(cx.data_schema, &mut good, &mut pieces)?;
    Ok(pieces)
}

/// Decodes one line as a whole: its records, or why it does not decode.
fn decode_line(decoder: &mut Decoder, line: &[u8]) -> Result<Vec<RecordBatch>, String> {
    let mut out = Vec::new();
    let mut rest = line;
    while !rest.is_empty() {
        match decoder.decode(rest).map_err(|e| e.to_string())? {
            // the decoder holds a full batch: make room
            0 => out.extend(decoder.flush().map_err(|e| e.to_string())?),
            n => rest = &rest[n..],
        }
    }
    if decoder.has_partial_record() {
        return Err("the line ends in the middle of a record".into());
    }
    out.extend(decoder.flush().map_err(|e| e.to_string())?);
    Ok(out)
}
