//! The text format: one row per line, in a non-null `value: Utf8` column.

use std::sync::Arc;

use arrow_array::{RecordBatch, StringArray};

use super::{DecodeContext, Piece, lines};
use crate::source::file::ParseMode;
use crate::{Result, StreamError};

/// The name of the text format's one column.
pub(crate) const VALUE: &str = "value";

/// Splits a file into lines (at `\n`, `\r\n` or `\r`, as Spark's text source). A line
/// that is not UTF-8 is malformed: an error under [`ParseMode::FailFast`], dropped under
/// [`ParseMode::DropMalformed`], decoded with U+FFFD replacement characters under
/// [`ParseMode::Permissive`] (what Spark's text source does).
pub(super) fn decode(bytes: &[u8], cx: &mut DecodeContext<'_>) -> Result<Vec<Piece>> {
    let fields = cx.data_schema.fields();
    if fields.len() != 1 || fields[0].name() != VALUE {
        let extra: Vec<String> = fields
            .iter()
            .filter(|f| f.name() != VALUE)
            .map(|f| format!("`{}`", f.name()))
            .collect();
        return Err(cx.bad_file(format!(
            "the text format has only the column `value`; {} must come from `key=value` \
             partition folders, but the path of this file has no such folder",
            extra.join(", ")
        )));
    }
    let mut values: Vec<String> = Vec::new();
    for (number, line) in lines(bytes) {
        match std::str::from_utf8(line) {
            Ok(text) => values.push(text.to_string()),
            Err(_) => match cx.mode {
                ParseMode::Permissive => values.push(String::from_utf8_lossy(line).into_owned()),
                ParseMode::DropMalformed | ParseMode::FailFast => {
                    let mut ignored = Vec::new();
                    cx.on_malformed(
                        &mut ignored,
                        number,
                        line,
                        super::describe::not_utf8(line).unwrap_or_default(),
                    )?;
                }
            },
        }
    }
    let array = Arc::new(StringArray::from(values));
    let batch = RecordBatch::try_new(cx.data_schema.clone(), vec![array]).map_err(|e| {
        StreamError::BadInputFile {
            path: cx.path.to_path_buf(),
            message: format!("the `value` column must be a Utf8 column: {e}"),
        }
    })?;
    Ok(vec![Piece::Rows(batch)])
}
