//! The CSV format (arrow-csv; the `csv` crate, on which arrow-csv builds, splits the
//! records of a file that has bad ones).

use std::sync::{Arc, LazyLock};

use arrow_array::{ArrayRef, RecordBatch, RecordBatchOptions, new_null_array};
use arrow_csv::ReaderBuilder;
use arrow_schema::{DataType, Field, FieldRef, Schema, SchemaRef};
use regex::Regex;

use super::{DecodeContext, Piece, describe, flush_good};
use crate::{Result, StreamError};

/// The CSV options of a file source, checked and in the decoders' terms.
#[derive(Clone, Debug)]
pub(crate) struct CsvSettings {
    /// The first record names the columns.
    pub(crate) header: bool,
    pub(crate) delimiter: u8,
    pub(crate) quote: u8,
    pub(crate) escape: Option<u8>,
    /// Values that are null; `None`: only empty values.
    pub(crate) null_regex: Option<Regex>,
}

impl Default for CsvSettings {
    /// Spark's defaults: no header, `,`, `"`, `\` as the escape inside quotes, empty
    /// values are null.
    fn default() -> Self {
        CsvSettings {
            header: false,
            delimiter: b',',
            quote: b'"',
            escape: Some(b'\\'),
            null_regex: None,
        }
    }
}

impl CsvSettings {
    /// The pattern for Spark's `nullValue`: the value itself, and (as Spark reads them)
    /// empty values.
    pub(crate) fn null_value_regex(value: &str) -> Result<Regex> {
        Regex::new(&format!("^(?:{}|)$", regex::escape(value))).map_err(|e| {
            StreamError::InvalidOption {
                name: "null_value".into(),
                message: e.to_string(),
            }
        })
    }

    fn arrow_reader(&self, schema: SchemaRef, header: bool, projection: &[usize]) -> ReaderBuilder {
        let mut builder = ReaderBuilder::new(schema)
            .with_header(header)
            .with_delimiter(self.delimiter)
            .with_quote(self.quote)
            .with_projection(projection.to_vec());
        if let Some(escape) = self.escape {
            builder = builder.with_escape(escape);
        }
        if let Some(null_regex) = &self.null_regex {
            builder = builder.with_null_regex(null_regex.clone());
        }
        builder
    }

    fn splitter<'a>(&self, bytes: &'a [u8]) -> csv::Reader<&'a [u8]> {
        csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(self.delimiter)
            .quote(self.quote)
            .escape(self.escape)
            .double_quote(true)
            .from_reader(bytes)
    }
}

/// How the columns of a file map to the data schema.
struct Layout {
    /// The file's columns: the data schema's columns where the file has them, `Utf8`
    /// placeholders elsewhere.
    file_schema: SchemaRef,
    /// For each column read, its index in the file, in data schema order.
    projection: Vec<usize>,
    /// For each data schema column, its position among the columns read, if the file
    /// has it.
    positions: Vec<Option<usize>>,
}

/// Decodes a CSV file. With a header, columns are matched to the schema by name and
/// only the schema's columns are parsed; a nullable column missing from the header is
/// null, a non-nullable one is an error. Without a header, the schema lists the file's
/// columns in order.
///
/// The whole file is decoded at once; only if that fails are its records decoded one
/// by one to find, drop or keep the bad ones.
pub(super) fn decode(
    bytes: &[u8],
    settings: &CsvSettings,
    cx: &mut DecodeContext<'_>,
) -> Result<Vec<Piece>> {
    let Some(layout) = layout(bytes, settings, cx)? else {
        return Ok(Vec::new()); // an empty file, or only a header
    };
    let fast = settings
        .arrow_reader(
            layout.file_schema.clone(),
            settings.header,
            &layout.projection,
        )
        .build(bytes)
        .and_then(|reader| reader.collect::<Result<Vec<_>, _>>());
    if let Ok(batches) = fast {
        return batches
            .iter()
            .map(|b| fit(cx.data_schema, &layout, b).map(Piece::Rows))
            .collect();
    }

    // Slow path: find each record's bytes and line, decode records one at a time.
    let records = split_records(bytes, settings, cx)?;
    let mut pieces = Vec::new();
    let mut good: Vec<RecordBatch> = Vec::new();
    for (line, raw) in records.into_iter().skip(usize::from(settings.header)) {
        match decode_record(settings, &layout, raw) {
            Ok(Some(batch)) => good.push(fit(cx.data_schema, &layout, &batch)?),
            Ok(None) => {}
            Err(message) => {
                flush_good(cx.data_schema, &mut good, &mut pieces)?;
                let message = describe::csv_record(raw, &layout.file_schema, &message);
                cx.on_malformed(&mut pieces, line, raw, message)?;
            }
        }
    }
    flush_good(cx.data_schema, &mut good, &mut pieces)?;
    Ok(pieces)
}

/// Reads the header (if any) and maps the file's columns to the data schema; `None`
/// for a file without records.
fn layout(bytes: &[u8], settings: &CsvSettings, cx: &DecodeContext<'_>) -> Result<Option<Layout>> {
    let data = cx.data_schema;
    if !settings.header {
        let n = data.fields().len();
        return Ok(Some(Layout {
            file_schema: data.clone(),
            projection: (0..n).collect(),
            positions: (0..n).map(Some).collect(),
        }));
    }
    let mut reader = settings.splitter(bytes);
    let mut header = csv::ByteRecord::new();
    match reader.read_byte_record(&mut header) {
        Ok(true) => {}
        Ok(false) => return Ok(None),
        Err(e) => return Err(cx.bad_file(format!("its header cannot be read: {e}"))),
    }
    let names: Vec<String> = header
        .iter()
        .map(|n| String::from_utf8_lossy(n).into_owned())
        .collect();
    let mut file_fields: Vec<FieldRef> = names
        .iter()
        .enumerate()
        .map(|(i, _)| Arc::new(Field::new(format!("_c{i}"), DataType::Utf8, true)))
        .collect();
    let mut projection = Vec::new();
    let mut positions = Vec::new();
    for field in data.fields() {
        match names.iter().position(|n| n == field.name()) {
            Some(index) => {
                file_fields[index] = field.clone();
                positions.push(Some(projection.len()));
                projection.push(index);
            }
            None if field.is_nullable() => positions.push(None),
            None => {
                return Err(cx.bad_file(format!(
                    "its header has no column `{}`, which the schema declares not nullable \
                     (header: {})",
                    field.name(),
                    names.join(", ")
                )));
            }
        }
    }
    Ok(Some(Layout {
        file_schema: Arc::new(Schema::new(file_fields)),
        projection,
        positions,
    }))
}

/// A batch of the columns read, as a batch of the data schema (missing columns null).
fn fit(data: &SchemaRef, layout: &Layout, batch: &RecordBatch) -> Result<RecordBatch> {
    let rows = batch.num_rows();
    let columns: Vec<ArrayRef> = data
        .fields()
        .iter()
        .zip(&layout.positions)
        .map(|(field, position)| match position {
            Some(p) => batch.column(*p).clone(),
            None => new_null_array(field.data_type(), rows),
        })
        .collect();
    let options = RecordBatchOptions::new().with_row_count(Some(rows));
    Ok(RecordBatch::try_new_with_options(
        data.clone(),
        columns,
        &options,
    )?)
}

/// Each record of the file: its 1-based starting line and its bytes (without the line
/// terminator).
fn split_records<'a>(
    bytes: &'a [u8],
    settings: &CsvSettings,
    cx: &DecodeContext<'_>,
) -> Result<Vec<(u64, &'a [u8])>> {
    let mut reader = settings.splitter(bytes);
    let mut record = csv::ByteRecord::new();
    let mut starts: Vec<(usize, u64)> = Vec::new();
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(true) => {
                if let Some(p) = record.position() {
                    let byte = usize::try_from(p.byte()).unwrap_or(bytes.len());
                    starts.push((byte.min(bytes.len()), p.line()));
                }
            }
            Ok(false) => break,
            Err(e) => return Err(cx.bad_file(format!("it cannot be split into records: {e}"))),
        }
    }
    Ok(starts
        .iter()
        .enumerate()
        .map(|(i, &(start, line))| {
            let end = starts
                .get(i + 1)
                .map_or(bytes.len(), |&(s, _)| s)
                .max(start);
            let mut raw = &bytes[start..end];
            // a record's position may be that of the line end before it (the `\n` of a
            // `\r\n`, blank lines): skip those, counting the lines they end
            let mut line = line;
            while let [first @ (b'\n' | b'\r'), rest @ ..] = raw {
                line += u64::from(*first == b'\n');
                raw = rest;
            }
            while let [rest @ .., b'\n' | b'\r'] = raw {
                raw = rest;
            }
            (line, raw)
        })
        .collect())
}

/// Decodes one record on its own: a one-row batch of the columns read, or why it does
/// not decode.
fn decode_record(
    settings: &CsvSettings,
    layout: &Layout,
    raw: &[u8],
) -> Result<Option<RecordBatch>, String> {
    let mut decoder = settings
        .arrow_reader(layout.file_schema.clone(), false, &layout.projection)
        .build_decoder();
    let mut rest = raw;
    while !rest.is_empty() {
        let n = decoder
            .decode(rest)
            .map_err(|e| without_line(&e.to_string()))?;
        if n == 0 {
            break;
        }
        rest = &rest[n..];
    }
    decoder
        .decode(&[])
        .map_err(|e| without_line(&e.to_string()))?;
    decoder.flush().map_err(|e| without_line(&e.to_string()))
}

/// arrow-csv's messages count lines within what it was given (here, one record); the
/// error we report carries the line in the file instead.
fn without_line(message: &str) -> String {
    static FIELD: LazyLock<Option<Regex>> =
        LazyLock::new(|| Regex::new(r"for line \d+ and field").ok());
    static LINE: LazyLock<Option<Regex>> =
        LazyLock::new(|| Regex::new(r" (?:for|at) line \d+").ok());
    let mut out = message.to_string();
    if let Some(re) = FIELD.as_ref() {
        out = re.replace_all(&out, "in field").into_owned();
    }
    if let Some(re) = LINE.as_ref() {
        out = re.replace_all(&out, "").into_owned();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_numbers_of_arrow_csv_messages_are_removed() {
        assert_eq!(
            without_line(
                "Parser error: Error while parsing value 'x' as type 'Int64' for column 1 at line 1. Row data: '[1,x]'"
            ),
            "Parser error: Error while parsing value 'x' as type 'Int64' for column 1. Row data: '[1,x]'"
        );
        assert_eq!(
            without_line("Csv error: incorrect number of fields for line 1, expected 2 got 1"),
            "Csv error: incorrect number of fields, expected 2 got 1"
        );
        assert_eq!(
            without_line("Csv error: Encountered invalid UTF-8 data for line 1 and field 2"),
            "Csv error: Encountered invalid UTF-8 data in field 2"
        );
    }

    #[test]
    fn records_are_split_with_their_lines() {
        let settings = CsvSettings::default();
        let schema = Arc::new(Schema::empty());
        let mut counts = Default::default();
        let cx = DecodeContext {
            path: std::path::Path::new("f.csv"),
            data_schema: &schema,
            mode: crate::ParseMode::FailFast,
            counts: &mut counts,
        };
        let bytes = b"a,b\r\n\"multi\nline\",2\n\n3,4";
        let records = split_records(bytes, &settings, &cx).unwrap();
        assert_eq!(
            records,
            [
                (1, &b"a,b"[..]),
                (2, &b"\"multi\nline\",2"[..]),
                (5, &b"3,4"[..])
            ]
        );
    }

    #[test]
    fn null_value_matches_the_value_and_empty_values_only() {
        let re = CsvSettings::null_value_regex("N.A").unwrap();
        assert!(re.is_match("N.A") && re.is_match(""));
        assert!(!re.is_match("NxA") && !re.is_match("N.A."));
    }
}
