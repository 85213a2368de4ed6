//! The JSON-lines format (arrow-json).

use std::io::BufRead;

use arrow_array::RecordBatch;
use arrow_json::ReaderBuilder;
use arrow_json::reader::Decoder;
use arrow_schema::{ArrowError, SchemaRef};

use super::{DecodeContext, Piece, describe, flush_good, lines};
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

/// Files smaller than this are decoded on one core: splitting them costs more than it
/// saves.
const PARALLEL_MIN_BYTES: usize = 4 << 20;

/// Decodes newline-delimited JSON like [`decode_all`], with a large input cut at line
/// ends into one piece per core, decoded in parallel and put back in order. If any piece
/// fails (a bad record, or a record that spans lines and was cut) the whole input is
/// decoded again in one piece, so the outcome is the one [`decode_all`] gives.
pub(crate) fn decode_all_parallel(
    schema: &SchemaRef,
    bytes: &[u8],
    min_piece: usize,
) -> Result<Vec<RecordBatch>, ArrowError> {
    use rayon::prelude::*;
    let pieces = split_at_line_ends(bytes, rayon::current_num_threads(), min_piece);
    if pieces.len() < 2 {
        return decode_all(schema, bytes);
    }
    let decoded: Vec<Result<Vec<RecordBatch>, ArrowError>> = pieces
        .par_iter()
        .map(|piece| decode_all(schema, *piece))
        .collect();
    if decoded.iter().any(Result::is_err) {
        return decode_all(schema, bytes);
    }
    Ok(decoded.into_iter().flatten().flatten().collect())
}

/// Cuts `bytes` into at most `parts` pieces of at least `min_piece` bytes, each ending
/// just after a `\n` (the last one where the input ends).
fn split_at_line_ends(bytes: &[u8], parts: usize, min_piece: usize) -> Vec<&[u8]> {
    let target = (bytes.len() / parts.max(1)).max(min_piece).max(1);
    let mut pieces = Vec::new();
    let mut rest = bytes;
    while rest.len() > target {
        match rest[target..].iter().position(|&b| b == b'\n') {
            Some(i) => {
                let (piece, tail) = rest.split_at(target + i + 1);
                pieces.push(piece);
                rest = tail;
            }
            None => break,
        }
    }
    if !rest.is_empty() {
        pieces.push(rest);
    }
    pieces
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
    let error = match decode_all_parallel(cx.data_schema, bytes, PARALLEL_MIN_BYTES) {
        Ok(batches) => return Ok(batches.into_iter().map(Piece::Rows).collect()),
        Err(e) => e,
    };
    if cx.mode == ParseMode::FailFast {
        return Err(match find_bad_record(cx.data_schema, bytes) {
            Some(bad) => {
                let line = lines(bytes)
                    .find(|(number, _)| *number == bad.line)
                    .map_or(&[][..], |(_, line)| line);
                cx.malformed(
                    bad.line,
                    describe::json_record(line, cx.data_schema, &bad.message),
                )
            }
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
                let message = describe::json_record(line, cx.data_schema, &message);
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_schema::{DataType, Field, Schema};

    use super::*;

    fn schema() -> SchemaRef {
        Arc::new(Schema::new(vec![
            Field::new("n", DataType::Int64, false),
            Field::new("s", DataType::Utf8, true),
        ]))
    }

    fn rows(batches: &[RecordBatch]) -> usize {
        batches.iter().map(RecordBatch::num_rows).sum()
    }

    #[test]
    fn pieces_end_at_line_ends_and_cover_the_input() {
        let text = b"{\"n\":1}\n{\"n\":22}\n{\"n\":333}\n{\"n\":4}";
        let pieces = split_at_line_ends(text, 3, 1);
        assert!(pieces.len() > 1);
        assert_eq!(pieces.concat(), text);
        for piece in &pieces[..pieces.len() - 1] {
            assert_eq!(piece.last(), Some(&b'\n'));
        }
        assert_eq!(split_at_line_ends(text, 3, 1 << 20), [&text[..]]);
    }

    #[test]
    fn the_parallel_decode_gives_the_rows_in_order() {
        let text: String = (0..1000)
            .map(|n| format!("{{\"n\":{n},\"s\":\"r{n}\"}}\n"))
            .collect();
        let batches = decode_all_parallel(&schema(), text.as_bytes(), 64).unwrap();
        let whole = decode_all(&schema(), text.as_bytes()).unwrap();
        let concat =
            |b: &[RecordBatch]| arrow_select::concat::concat_batches(&schema(), b).unwrap();
        assert_eq!(concat(&batches), concat(&whole));
        assert_eq!(rows(&batches), 1000);
    }

    #[test]
    fn a_record_cut_between_pieces_is_decoded_whole() {
        // records spanning lines: a cut inside one fails that piece, and the input is
        // decoded again in one piece
        let text: String = (0..200).map(|n| format!("{{\"n\":\n{n}}}\n")).collect();
        let batches = decode_all_parallel(&schema(), text.as_bytes(), 16).unwrap();
        assert_eq!(rows(&batches), 200);
    }

    #[test]
    fn a_bad_record_still_fails() {
        let mut text: String = (0..500).map(|n| format!("{{\"n\":{n}}}\n")).collect();
        text.push_str("{\"n\":\"x\"}\n");
        assert!(decode_all_parallel(&schema(), text.as_bytes(), 64).is_err());
    }
}
