//! The console sink: prints every micro-batch as a table, exactly as Spark's console sink
//! does (`Dataset.showString(numRows, truncate = 20)` under a `Batch: N` banner).

use std::fmt::Write as _;
use std::io::Write as _;
use std::sync::{Arc, Mutex};

use arrow_array::cast::AsArray;
use arrow_array::temporal_conversions::as_datetime;
use arrow_array::types::{
    ArrowTimestampType, Float32Type, Float64Type, TimestampMicrosecondType,
    TimestampMillisecondType, TimestampNanosecondType, TimestampSecondType,
};
use arrow_array::{Array, ArrowPrimitiveType, MapArray, PrimitiveArray, RecordBatch, StructArray};
use arrow_buffer::ArrowNativeType;
use arrow_cast::display::{
    ArrayFormatter, ArrayFormatterFactory, DisplayIndex, FormatOptions, FormatResult,
};
use arrow_schema::{ArrowError, DataType, Field, Schema, TimeUnit};
use chrono::Timelike;

use super::{Sink, SinkBatch};
use crate::{OutputMode, Result, StreamError};

/// The name the sink reports in progress records and errors.
const DESCRIPTION: &str = "ConsoleSink";
/// Spark's banner line above and below `Batch: N`.
const BANNER: &str = "-------------------------------------------";
/// Spark's `truncate = true`: cells longer than this are cut.
const TRUNCATE_WIDTH: usize = 20;
/// Spark's minimum column width.
const MIN_COLUMN_WIDTH: usize = 3;
/// How Spark shows a null cell (`ToPrettyString`).
const NULL_TEXT: &str = "NULL";

/// Prints the rows of every micro-batch as a table, like Spark's `console` sink.
///
/// Each batch is written as Spark writes it: a `Batch: N` banner, then the table of
/// `Dataset.show(num_rows, truncate)`: the header, `+---+` separators, cells right-aligned
/// when truncating (left-aligned otherwise), each column at least 3 wide, cells longer
/// than 20 characters cut to 17 and `...` when truncating, nulls shown as `NULL`, and
/// `only showing top N rows` when the batch had more rows than are shown; then a blank
/// line. Timestamps are shown in UTC as `yyyy-MM-dd HH:mm:ss[.fraction]`.
///
/// The console is not idempotent: a batch replayed after a crash is printed again, as in
/// Spark. It takes every output mode.
///
/// ```
/// use stream_core::{ConsoleSink, OutputMode, Sink};
///
/// let sink = ConsoleSink::new().num_rows(5).truncate(false);
/// assert_eq!(sink.description(), "ConsoleSink");
/// assert!(sink.supports(OutputMode::Complete));
///
/// // For tests and documentation, print into a buffer instead of stdout.
/// let (sink, output) = ConsoleSink::to_buffer();
/// assert_eq!(output.text(), "");
/// # drop(sink);
/// ```
#[derive(Debug)]
pub struct ConsoleSink {
    num_rows: usize,
    truncate: bool,
    target: Target,
}

/// Where a [`ConsoleSink`] writes.
#[derive(Debug)]
enum Target {
    Stdout,
    Buffer(ConsoleOutput),
}

/// A clonable handle on the text a [`ConsoleSink`] made by [`ConsoleSink::to_buffer`]
/// has printed.
///
/// ```
/// use stream_core::ConsoleSink;
///
/// let (_sink, output) = ConsoleSink::to_buffer();
/// let same = output.clone();
/// assert_eq!(same.text(), "");
/// ```
#[derive(Clone, Debug, Default)]
pub struct ConsoleOutput {
    buffer: Arc<Mutex<Vec<u8>>>,
}

impl ConsoleOutput {
    /// Everything written so far.
    ///
    /// ```
    /// let (_sink, output) = stream_core::ConsoleSink::to_buffer();
    /// assert!(output.text().is_empty());
    /// ```
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.lock()).into_owned()
    }

    /// Forgets everything written so far.
    ///
    /// ```
    /// let (_sink, output) = stream_core::ConsoleSink::to_buffer();
    /// output.clear();
    /// assert_eq!(output.text(), "");
    /// ```
    pub fn clear(&self) {
        self.lock().clear();
    }

    fn append(&self, text: &str) {
        self.lock().extend_from_slice(text.as_bytes());
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<u8>> {
        self.buffer.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Default for ConsoleSink {
    fn default() -> Self {
        Self::new()
    }
}

impl ConsoleSink {
    /// A console sink that prints to stdout, showing up to 20 rows per batch, truncated.
    ///
    /// ```
    /// let sink = stream_core::ConsoleSink::new();
    /// # drop(sink);
    /// ```
    pub fn new() -> Self {
        ConsoleSink {
            num_rows: 20,
            truncate: true,
            target: Target::Stdout,
        }
    }

    /// A console sink that prints into a buffer, and the handle to read that buffer.
    ///
    /// ```
    /// let (sink, output) = stream_core::ConsoleSink::to_buffer();
    /// assert_eq!(output.text(), "");
    /// # drop(sink);
    /// ```
    pub fn to_buffer() -> (ConsoleSink, ConsoleOutput) {
        let output = ConsoleOutput::default();
        let sink = ConsoleSink {
            target: Target::Buffer(output.clone()),
            ..ConsoleSink::new()
        };
        (sink, output)
    }

    /// Prints into `output`'s buffer instead of stdout, as [`ConsoleSink::to_buffer`]
    /// does: for a sink made elsewhere (`write(console, buffer = {output})` in a
    /// `stream!` block) whose text a test reads.
    ///
    /// ```
    /// use stream_core::{ConsoleOutput, ConsoleSink};
    ///
    /// let output = ConsoleOutput::default();
    /// let sink = ConsoleSink::new().buffer(output.clone());
    /// assert_eq!(output.text(), "");
    /// # drop(sink);
    /// ```
    #[must_use]
    pub fn buffer(mut self, output: ConsoleOutput) -> Self {
        self.target = Target::Buffer(output);
        self
    }

    /// How many rows of each batch to show (Spark's `numRows` option, default 20).
    ///
    /// ```
    /// let sink = stream_core::ConsoleSink::new().num_rows(3);
    /// # drop(sink);
    /// ```
    #[must_use]
    pub fn num_rows(mut self, num_rows: usize) -> Self {
        self.num_rows = num_rows;
        self
    }

    /// Whether to cut cells longer than 20 characters and right-align cells (Spark's
    /// `truncate` option, default `true`).
    ///
    /// ```
    /// let sink = stream_core::ConsoleSink::new().truncate(false);
    /// # drop(sink);
    /// ```
    #[must_use]
    pub fn truncate(mut self, truncate: bool) -> Self {
        self.truncate = truncate;
        self
    }

    /// The table Spark's `Dataset.showString` prints for these rows, with this sink's
    /// `num_rows` and `truncate`, without the `Batch: N` banner.
    ///
    /// Fails if a batch has not as many columns as `schema`, or a value cannot be shown.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arrow_array::{Float64Array, RecordBatch, StringArray};
    /// use arrow_schema::{DataType, Field, Schema};
    /// use stream_core::ConsoleSink;
    ///
    /// let schema = Arc::new(Schema::new(vec![
    ///     Field::new("user", DataType::Utf8, true),
    ///     Field::new("amount", DataType::Float64, false),
    /// ]));
    /// let batch = RecordBatch::try_new(schema.clone(), vec![
    ///     Arc::new(StringArray::from(vec![Some("ann"), None])),
    ///     Arc::new(Float64Array::from(vec![1.0, 107.25])),
    /// ])?;
    /// let table = ConsoleSink::new().show_string(&schema, &[batch])?;
    /// assert_eq!(table, "\
    /// +----+------+
    /// |user|amount|
    /// +----+------+
    /// | ann|   1.0|
    /// |NULL|107.25|
    /// +----+------+
    /// ");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn show_string(&self, schema: &Schema, batches: &[RecordBatch]) -> Result<String> {
        let header: Vec<String> = schema
            .fields()
            .iter()
            .map(|f| escape_meta_characters(f.name()))
            .collect();
        let rows = self.cell_rows(schema, batches)?;
        let total: usize = batches.iter().map(RecordBatch::num_rows).sum();
        let shown_of_more = (total > self.num_rows).then_some(self.num_rows);
        Ok(render_table(&header, &rows, self.truncate, shown_of_more))
    }

    /// The text of the first `num_rows` rows, cell by cell.
    fn cell_rows(&self, schema: &Schema, batches: &[RecordBatch]) -> Result<Vec<Vec<String>>> {
        let mut rows = Vec::new();
        for batch in batches {
            let remaining = self.num_rows.saturating_sub(rows.len());
            if remaining == 0 {
                break;
            }
            check_columns(schema, batch)?;
            rows.extend(self.format_rows(batch, remaining)?);
        }
        Ok(rows)
    }

    /// The cells of the first `limit` rows of one record batch.
    fn format_rows(&self, batch: &RecordBatch, limit: usize) -> Result<Vec<Vec<String>>> {
        let options = spark_format_options();
        let schema = batch.schema_ref();
        let formatters = batch
            .columns()
            .iter()
            .zip(schema.fields())
            .map(|(column, field)| column_formatter(column.as_ref(), field, &options))
            .collect::<Result<Vec<_>, ArrowError>>()?;
        let mut rows = Vec::new();
        for row in 0..batch.num_rows().min(limit) {
            let cells = formatters
                .iter()
                .map(|f| self.format_cell(f, row))
                .collect::<Result<Vec<_>, ArrowError>>()?;
            rows.push(cells);
        }
        Ok(rows)
    }

    /// One cell as Spark shows it: escaped, and cut when truncating.
    fn format_cell(
        &self,
        formatter: &ArrayFormatter<'_>,
        row: usize,
    ) -> Result<String, ArrowError> {
        let mut text = String::new();
        formatter.value(row).write(&mut text)?;
        let text = escape_meta_characters(&text);
        Ok(if self.truncate {
            truncate_cell(text)
        } else {
            text
        })
    }

    /// What the sink prints for one batch: the banner, the table and a blank line.
    fn render_batch(&self, batch: &SinkBatch<'_>) -> Result<String> {
        let table = self.show_string(&batch.schema, &batch.batches)?;
        Ok(format!(
            "{BANNER}\nBatch: {}\n{BANNER}\n{table}\n",
            batch.batch_id
        ))
    }

    fn write_out(&self, text: &str) -> std::io::Result<()> {
        match &self.target {
            Target::Buffer(output) => {
                output.append(text);
                Ok(())
            }
            Target::Stdout => {
                let mut stdout = std::io::stdout().lock();
                stdout.write_all(text.as_bytes())?;
                stdout.flush()
            }
        }
    }
}

impl Sink for ConsoleSink {
    fn description(&self) -> String {
        DESCRIPTION.to_string()
    }

    fn supports(&self, _mode: OutputMode) -> bool {
        true
    }

    fn add_batch(&mut self, batch: SinkBatch<'_>) -> Result<()> {
        let batch_id = batch.batch_id;
        let sink_error = |message: String| StreamError::Sink {
            sink: DESCRIPTION.to_string(),
            batch_id,
            message,
        };
        let text = self
            .render_batch(&batch)
            .map_err(|e| sink_error(e.to_string()))?;
        self.write_out(&text)
            .map_err(|e| sink_error(format!("cannot write to stdout: {e}")))
    }
}

/// A batch whose column count differs from the schema would misalign the table.
fn check_columns(schema: &Schema, batch: &RecordBatch) -> Result<()> {
    let (expected, found) = (schema.fields().len(), batch.num_columns());
    if expected == found {
        return Ok(());
    }
    Err(StreamError::SchemaMismatch {
        context: DESCRIPTION.to_string(),
        message: format!("the schema has {expected} columns but a batch has {found}"),
    })
}

/// Lays out the header and the rows as Spark's `showString` does (not vertical).
/// `shown_of_more` is `Some(num_rows)` when there were more rows than shown.
fn render_table(
    header: &[String],
    rows: &[Vec<String>],
    truncate: bool,
    shown_of_more: Option<usize>,
) -> String {
    let widths = column_widths(header, rows);
    let separator: String = widths
        .iter()
        .fold(String::from("+"), |line, &w| line + &"-".repeat(w) + "+")
        + "\n";
    let mut out = separator.clone();
    out.push_str(&render_row(header, &widths, truncate));
    out.push_str(&separator);
    for row in rows {
        out.push_str(&render_row(row, &widths, truncate));
    }
    out.push_str(&separator);
    if let Some(n) = shown_of_more {
        let noun = if n == 1 { "row" } else { "rows" };
        let _ = writeln!(out, "only showing top {n} {noun}");
    }
    out
}

/// Each column is as wide as its widest cell (header included), and at least 3.
fn column_widths(header: &[String], rows: &[Vec<String>]) -> Vec<usize> {
    let mut widths = vec![MIN_COLUMN_WIDTH; header.len()];
    for row in std::iter::once(header).chain(rows.iter().map(Vec::as_slice)) {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(half_width(cell));
        }
    }
    widths
}

/// `|a|b|` with each cell padded to its column: right-aligned when truncating.
fn render_row(cells: &[String], widths: &[usize], truncate: bool) -> String {
    let mut line = String::from("|");
    for (cell, &width) in cells.iter().zip(widths) {
        let padding = " ".repeat(width.saturating_sub(half_width(cell)));
        if truncate {
            line.push_str(&padding);
            line.push_str(cell);
        } else {
            line.push_str(cell);
            line.push_str(&padding);
        }
        line.push('|');
    }
    line.push('\n');
    line
}

/// Spark's truncation: longer than 20 characters becomes the first 17 and `...`.
fn truncate_cell(text: String) -> String {
    if text.chars().count() <= TRUNCATE_WIDTH {
        return text;
    }
    let mut cut: String = text.chars().take(TRUNCATE_WIDTH - 3).collect();
    cut.push_str("...");
    cut
}

/// Spark's `Utils.stringHalfWidth`: the display width, a full-width (East Asian)
/// character counting as two.
fn half_width(text: &str) -> usize {
    text.chars()
        .map(|c| if is_full_width(c) { 2 } else { 1 })
        .sum()
}

/// The character ranges Spark's `fullWidthRegex` treats as full width.
fn is_full_width(c: char) -> bool {
    matches!(c,
        '\u{1100}'..='\u{115F}'
        | '\u{2E80}'..='\u{A4CF}'
        | '\u{AC00}'..='\u{D7A3}'
        | '\u{F900}'..='\u{FAFF}'
        | '\u{FE10}'..='\u{FE19}'
        | '\u{FE30}'..='\u{FE6F}'
        | '\u{FF00}'..='\u{FF60}'
        | '\u{FFE0}'..='\u{FFE6}')
}

/// Spark's `SchemaUtils.escapeMetaCharacters`: control characters that would break the
/// table are shown as their escape sequences.
fn escape_meta_characters(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{0C}' => out.push_str("\\f"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0B}' => out.push_str("\\v"),
            '\u{07}' => out.push_str("\\a"),
            other => out.push(other),
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// Cell text: arrow's display, with Spark's look where the two differ.
// ---------------------------------------------------------------------------------------

/// Formatters for the types whose text differs between arrow and Spark: floats (Java's
/// `Double.toString`), timestamps (`yyyy-MM-dd HH:mm:ss[.fraction]` in UTC), binary
/// (`[0A FF]`), structs (`{v1, v2}`) and maps (`{k -> v}`). Arrow also consults it for
/// the values nested in lists, structs, maps and dictionaries.
#[derive(Debug)]
struct SparkFormatters;

static SPARK_FORMATTERS: SparkFormatters = SparkFormatters;

/// Arrow's format options with Spark's null text and Spark's formatters.
fn spark_format_options() -> FormatOptions<'static> {
    FormatOptions::new()
        .with_null(NULL_TEXT)
        .with_formatter_factory(Some(&SPARK_FORMATTERS))
}

/// The formatter of a top-level column (arrow asks the factory only for nested values).
fn column_formatter<'a>(
    array: &'a dyn Array,
    field: &'a Field,
    options: &FormatOptions<'a>,
) -> Result<ArrayFormatter<'a>, ArrowError> {
    match SPARK_FORMATTERS.create_array_formatter(array, options, Some(field))? {
        Some(formatter) => Ok(formatter),
        None => ArrayFormatter::try_new(array, options),
    }
}

impl ArrayFormatterFactory for SparkFormatters {
    fn create_array_formatter<'f>(
        &self,
        array: &'f dyn Array,
        options: &FormatOptions<'f>,
        _field: Option<&'f Field>,
    ) -> Result<Option<ArrayFormatter<'f>>, ArrowError> {
        let null = options.null();
        let display: Box<dyn DisplayIndex + 'f> = match array.data_type() {
            DataType::Float32 => Box::new(FloatDisplay::<Float32Type>::new(array, null)),
            DataType::Float64 => Box::new(FloatDisplay::<Float64Type>::new(array, null)),
            DataType::Timestamp(unit, _) => timestamp_display(array, *unit, null),
            DataType::Binary
            | DataType::LargeBinary
            | DataType::BinaryView
            | DataType::FixedSizeBinary(_) => Box::new(BinaryDisplay { array, null }),
            DataType::Struct(_) => Box::new(StructDisplay::new(array.as_struct(), options)?),
            DataType::Map(..) => Box::new(MapDisplay::new(array.as_map(), options)?),
            _ => return Ok(None),
        };
        Ok(Some(ArrayFormatter::new(display, options.safe())))
    }
}

/// Floats as Java's `toString` writes them, which is what Spark shows.
trait JavaFloat: Copy {
    fn java_string(self) -> String;
}

impl JavaFloat for f64 {
    fn java_string(self) -> String {
        java_float_text(
            self.is_nan(),
            self.is_infinite(),
            self.is_sign_negative(),
            self.abs(),
            || format!("{self}"),
            || format!("{self:e}"),
        )
    }
}

impl JavaFloat for f32 {
    fn java_string(self) -> String {
        java_float_text(
            self.is_nan(),
            self.is_infinite(),
            self.is_sign_negative(),
            f64::from(self.abs()),
            || format!("{self}"),
            || format!("{self:e}"),
        )
    }
}

/// Java's rules: `NaN`, `Infinity`, plain decimals with at least one fractional digit in
/// `[1e-3, 1e7)`, and `d.dddE±n` outside it. The digits are the shortest that round-trip.
fn java_float_text(
    nan: bool,
    infinite: bool,
    negative: bool,
    magnitude: f64,
    plain: impl Fn() -> String,
    scientific: impl Fn() -> String,
) -> String {
    if nan {
        return "NaN".into();
    }
    if infinite {
        return if negative { "-Infinity" } else { "Infinity" }.into();
    }
    if magnitude == 0.0 || (1e-3..1e7).contains(&magnitude) {
        let text = plain();
        return if text.contains('.') {
            text
        } else {
            text + ".0"
        };
    }
    let text = scientific();
    let (mantissa, exponent) = text.split_once('e').unwrap_or((&text, "0"));
    let dot = if mantissa.contains('.') { "" } else { ".0" };
    format!("{mantissa}{dot}E{exponent}")
}

struct FloatDisplay<'a, T: ArrowPrimitiveType> {
    array: &'a PrimitiveArray<T>,
    null: &'a str,
}

impl<'a, T: ArrowPrimitiveType> FloatDisplay<'a, T> {
    /// `array` must be a `PrimitiveArray<T>`: the factory matched its data type.
    fn new(array: &'a dyn Array, null: &'a str) -> Self {
        FloatDisplay {
            array: array.as_primitive::<T>(),
            null,
        }
    }
}

impl<T: ArrowPrimitiveType> DisplayIndex for FloatDisplay<'_, T>
where
    T::Native: JavaFloat,
{
    fn write(&self, idx: usize, f: &mut dyn std::fmt::Write) -> FormatResult {
        if self.array.is_null(idx) {
            f.write_str(self.null)?;
        } else {
            f.write_str(&self.array.value(idx).java_string())?;
        }
        Ok(())
    }
}

fn timestamp_display<'a>(
    array: &'a dyn Array,
    unit: TimeUnit,
    null: &'a str,
) -> Box<dyn DisplayIndex + 'a> {
    match unit {
        TimeUnit::Second => Box::new(TimestampDisplay::<TimestampSecondType>::new(array, null)),
        TimeUnit::Millisecond => Box::new(TimestampDisplay::<TimestampMillisecondType>::new(
            array, null,
        )),
        TimeUnit::Microsecond => Box::new(TimestampDisplay::<TimestampMicrosecondType>::new(
            array, null,
        )),
        TimeUnit::Nanosecond => Box::new(TimestampDisplay::<TimestampNanosecondType>::new(
            array, null,
        )),
    }
}

/// Timestamps as Spark shows them with the session time zone UTC: the instant in UTC
/// as `yyyy-MM-dd HH:mm:ss`, then the fraction of a second without trailing zeros.
struct TimestampDisplay<'a, T: ArrowTimestampType> {
    array: &'a PrimitiveArray<T>,
    null: &'a str,
}

impl<'a, T: ArrowTimestampType> TimestampDisplay<'a, T> {
    /// `array` must be a `PrimitiveArray<T>`: the factory matched its data type.
    fn new(array: &'a dyn Array, null: &'a str) -> Self {
        TimestampDisplay {
            array: array.as_primitive::<T>(),
            null,
        }
    }
}

impl<T: ArrowTimestampType> DisplayIndex for TimestampDisplay<'_, T> {
    fn write(&self, idx: usize, f: &mut dyn std::fmt::Write) -> FormatResult {
        if self.array.is_null(idx) {
            f.write_str(self.null)?;
            return Ok(());
        }
        let value = self.array.value(idx);
        let time = as_datetime::<T>(value).ok_or_else(|| {
            ArrowError::CastError(format!("timestamp {value} is out of the displayable range"))
        })?;
        write!(f, "{}", time.format("%Y-%m-%d %H:%M:%S"))?;
        let nanos = time.nanosecond() % 1_000_000_000;
        if nanos != 0 {
            let digits = format!("{nanos:09}");
            write!(f, ".{}", digits.trim_end_matches('0'))?;
        }
        Ok(())
    }
}

/// Binary values as Spark shows them: upper-case hex bytes, `[0A FF]`.
struct BinaryDisplay<'a> {
    array: &'a dyn Array,
    null: &'a str,
}

impl BinaryDisplay<'_> {
    fn bytes(&self, idx: usize) -> &[u8] {
        let any = self.array.as_any();
        if let Some(a) = self.array.as_binary_opt::<i32>() {
            a.value(idx)
        } else if let Some(a) = self.array.as_binary_opt::<i64>() {
            a.value(idx)
        } else if let Some(a) = self.array.as_binary_view_opt() {
            a.value(idx)
        } else if let Some(a) = any.downcast_ref::<arrow_array::FixedSizeBinaryArray>() {
            a.value(idx)
        } else {
            &[]
        }
    }
}

impl DisplayIndex for BinaryDisplay<'_> {
    fn write(&self, idx: usize, f: &mut dyn std::fmt::Write) -> FormatResult {
        if self.array.is_null(idx) {
            f.write_str(self.null)?;
            return Ok(());
        }
        f.write_char('[')?;
        for (i, byte) in self.bytes(idx).iter().enumerate() {
            let space = if i == 0 { "" } else { " " };
            write!(f, "{space}{byte:02X}")?;
        }
        f.write_char(']')?;
        Ok(())
    }
}

/// Structs as Spark shows them: the field values only, `{v1, v2}`.
struct StructDisplay<'a> {
    array: &'a StructArray,
    fields: Vec<ArrayFormatter<'a>>,
    null: &'a str,
}

impl<'a> StructDisplay<'a> {
    fn new(array: &'a StructArray, options: &FormatOptions<'a>) -> Result<Self, ArrowError> {
        let fields = array
            .columns()
            .iter()
            .zip(array.fields())
            .map(|(column, field)| column_formatter(column.as_ref(), field, options))
            .collect::<Result<_, _>>()?;
        Ok(StructDisplay {
            array,
            fields,
            null: options.null(),
        })
    }
}

impl DisplayIndex for StructDisplay<'_> {
    fn write(&self, idx: usize, f: &mut dyn std::fmt::Write) -> FormatResult {
        if self.array.is_null(idx) {
            f.write_str(self.null)?;
            return Ok(());
        }
        f.write_char('{')?;
        for (i, field) in self.fields.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            field.value(idx).write(f)?;
        }
        f.write_char('}')?;
        Ok(())
    }
}

/// Maps as Spark shows them: `{k1 -> v1, k2 -> v2}`.
struct MapDisplay<'a> {
    array: &'a MapArray,
    keys: ArrayFormatter<'a>,
    values: ArrayFormatter<'a>,
    null: &'a str,
}

impl<'a> MapDisplay<'a> {
    fn new(array: &'a MapArray, options: &FormatOptions<'a>) -> Result<Self, ArrowError> {
        let (key_field, value_field) = array.entries_fields();
        Ok(MapDisplay {
            array,
            keys: column_formatter(array.keys().as_ref(), key_field, options)?,
            values: column_formatter(array.values().as_ref(), value_field, options)?,
            null: options.null(),
        })
    }
}

impl DisplayIndex for MapDisplay<'_> {
    fn write(&self, idx: usize, f: &mut dyn std::fmt::Write) -> FormatResult {
        if self.array.is_null(idx) {
            f.write_str(self.null)?;
            return Ok(());
        }
        let offsets = self.array.value_offsets();
        let (start, end) = (offsets[idx].as_usize(), offsets[idx + 1].as_usize());
        f.write_char('{')?;
        for entry in start..end {
            if entry > start {
                f.write_str(", ")?;
            }
            self.keys.value(entry).write(f)?;
            f.write_str(" -> ")?;
            self.values.value(entry).write(f)?;
        }
        f.write_char('}')?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::builder::{Int64Builder, MapBuilder, StringBuilder};
    use arrow_array::{
        ArrayRef, BinaryArray, BooleanArray, Float32Array, Float64Array, Int64Array, StringArray,
        TimestampMicrosecondArray, TimestampMillisecondArray,
    };
    use arrow_schema::SchemaRef;

    use super::*;
    use crate::fault::Faults;

    fn batch(columns: Vec<(&str, ArrayRef)>) -> RecordBatch {
        let fields: Vec<Field> = columns
            .iter()
            .map(|(name, a)| Field::new(*name, a.data_type().clone(), true))
            .collect();
        let schema = Arc::new(Schema::new(fields));
        RecordBatch::try_new(schema, columns.into_iter().map(|(_, a)| a).collect()).unwrap()
    }

    fn ints(name: &str, values: Vec<i64>) -> RecordBatch {
        batch(vec![(name, Arc::new(Int64Array::from(values)))])
    }

    fn show(sink: &ConsoleSink, batches: &[RecordBatch]) -> String {
        sink.show_string(batches[0].schema_ref(), batches).unwrap()
    }

    fn add(
        sink: &mut ConsoleSink,
        id: u64,
        schema: SchemaRef,
        batches: Vec<RecordBatch>,
    ) -> Result<()> {
        sink.add_batch(SinkBatch {
            batch_id: id,
            output_mode: OutputMode::Append,
            schema,
            batches,
            faults: &Faults::default(),
        })
    }

    #[test]
    fn prints_spark_banner_table_and_blank_line() {
        let (mut sink, out) = ConsoleSink::to_buffer();
        let b = batch(vec![
            (
                "user",
                Arc::new(StringArray::from(vec!["user_0009", "ann"])),
            ),
            ("amount", Arc::new(Float64Array::from(vec![107.25, 1.0]))),
        ]);
        add(&mut sink, 0, b.schema(), vec![b]).unwrap();
        assert_eq!(
            out.text(),
            "-------------------------------------------\n\
             Batch: 0\n\
             -------------------------------------------\n\
             +---------+------+\n\
             |     user|amount|\n\
             +---------+------+\n\
             |user_0009|107.25|\n\
             |      ann|   1.0|\n\
             +---------+------+\n\
             \n"
        );
    }

    #[test]
    fn appends_one_block_per_batch() {
        let (mut sink, out) = ConsoleSink::to_buffer();
        let b = ints("n", vec![1]);
        add(&mut sink, 3, b.schema(), vec![b.clone()]).unwrap();
        add(&mut sink, 4, b.schema(), vec![b]).unwrap();
        let text = out.text();
        assert_eq!(text.matches("Batch: ").count(), 2);
        assert!(text.find("Batch: 3").unwrap() < text.find("Batch: 4").unwrap());
        out.clear();
        assert_eq!(out.text(), "");
    }

    #[test]
    fn empty_batch_prints_header_and_empty_table() {
        let (mut sink, out) = ConsoleSink::to_buffer();
        let schema = Arc::new(Schema::new(vec![Field::new("a", DataType::Int64, false)]));
        add(&mut sink, 7, schema, vec![]).unwrap();
        assert_eq!(
            out.text(),
            "-------------------------------------------\n\
             Batch: 7\n\
             -------------------------------------------\n\
             +---+\n|  a|\n+---+\n+---+\n\n"
        );
    }

    #[test]
    fn untruncated_cells_are_left_aligned_and_kept_whole() {
        let long = "abcdefghijklmnopqrstuvwxyz";
        let b = batch(vec![("s", Arc::new(StringArray::from(vec![long, "x"])))]);
        let text = show(&ConsoleSink::new().truncate(false), &[b]);
        let expected = format!(
            "+{d}+\n|s{p}|\n+{d}+\n|{long}|\n|x{p}|\n+{d}+\n",
            d = "-".repeat(26),
            p = " ".repeat(25)
        );
        assert_eq!(text, expected);
    }

    #[test]
    fn truncation_cuts_long_cells_to_17_chars_and_dots() {
        let exactly_20 = "a".repeat(20);
        let b = batch(vec![(
            "s",
            Arc::new(StringArray::from(vec![
                "abcdefghijklmnopqrstuvwxyz",
                &exactly_20,
            ])),
        )]);
        let text = show(&ConsoleSink::new(), &[b]);
        assert!(text.contains("|abcdefghijklmnopq...|\n"), "{text}");
        assert!(text.contains(&format!("|{exactly_20}|\n")), "{text}");
    }

    #[test]
    fn header_is_not_truncated() {
        let name = "a_very_long_column_name_indeed";
        let text = show(&ConsoleSink::new(), &[ints(name, vec![1])]);
        assert!(text.contains(&format!("|{name}|")), "{text}");
    }

    #[test]
    fn more_rows_than_shown_adds_footer() {
        let b = ints("n", vec![1, 2, 3]);
        let text = show(&ConsoleSink::new().num_rows(2), std::slice::from_ref(&b));
        assert_eq!(
            text,
            "+---+\n|  n|\n+---+\n|  1|\n|  2|\n+---+\nonly showing top 2 rows\n"
        );
        let one = show(&ConsoleSink::new().num_rows(1), std::slice::from_ref(&b));
        assert!(
            one.ends_with("|  1|\n+---+\nonly showing top 1 row\n"),
            "{one}"
        );
        let all = show(&ConsoleSink::new().num_rows(3), &[b]);
        assert!(!all.contains("only showing"), "{all}");
    }

    #[test]
    fn rows_span_record_batches_and_limit_counts_all() {
        let text = show(
            &ConsoleSink::new().num_rows(3),
            &[ints("n", vec![1, 2]), ints("n", vec![3, 4])],
        );
        assert_eq!(
            text,
            "+---+\n|  n|\n+---+\n|  1|\n|  2|\n|  3|\n+---+\nonly showing top 3 rows\n"
        );
    }

    #[test]
    fn nulls_booleans_and_doubles_look_like_spark() {
        let b = batch(vec![
            (
                "b",
                Arc::new(BooleanArray::from(vec![Some(true), None, Some(false)])),
            ),
            (
                "d",
                Arc::new(Float64Array::from(vec![Some(1.0), None, Some(1e10)])),
            ),
            (
                "f",
                Arc::new(Float32Array::from(vec![Some(0.5f32), Some(f32::NAN), None])),
            ),
        ]);
        let text = show(&ConsoleSink::new(), &[b]);
        assert_eq!(
            text,
            "+-----+------+----+\n\
             |    b|     d|   f|\n\
             +-----+------+----+\n\
             | true|   1.0| 0.5|\n\
             | NULL|  NULL| NaN|\n\
             |false|1.0E10|NULL|\n\
             +-----+------+----+\n"
        );
    }

    #[test]
    fn java_double_text() {
        let cases = [
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (107.25, "107.25"),
            (0.001, "0.001"),
            (0.0001, "1.0E-4"),
            (1234567.5, "1234567.5"),
            (1e7, "1.0E7"),
            (-1.5e-7, "-1.5E-7"),
            (12345678.9, "1.23456789E7"),
            (f64::INFINITY, "Infinity"),
            (f64::NEG_INFINITY, "-Infinity"),
            (0.1 + 0.2, "0.30000000000000004"),
        ];
        for (value, expected) in cases {
            assert_eq!(value.java_string(), expected, "{value:?}");
        }
        assert_eq!(0.1f32.java_string(), "0.1");
        assert_eq!(3e10f32.java_string(), "3.0E10");
    }

    #[test]
    fn timestamps_look_like_spark_in_utc() {
        // 2024-01-01T00:00:02.428Z, 2024-01-01T00:00:00Z, 2023-12-31T23:58:27.2Z
        let ms = TimestampMillisecondArray::from(vec![
            Some(1_704_067_202_428),
            Some(1_704_067_200_000),
            Some(1_704_067_107_200),
            None,
        ]);
        let us = TimestampMicrosecondArray::from(vec![1_704_067_202_428_001i64; 4])
            .with_timezone("+02:00");
        let b = batch(vec![("ts", Arc::new(ms)), ("utc", Arc::new(us))]);
        let text = show(&ConsoleSink::new().truncate(false), &[b]);
        assert_eq!(
            text,
            "+-----------------------+--------------------------+\n\
             |ts                     |utc                       |\n\
             +-----------------------+--------------------------+\n\
             |2024-01-01 00:00:02.428|2024-01-01 00:00:02.428001|\n\
             |2024-01-01 00:00:00    |2024-01-01 00:00:02.428001|\n\
             |2023-12-31 23:58:27.2  |2024-01-01 00:00:02.428001|\n\
             |NULL                   |2024-01-01 00:00:02.428001|\n\
             +-----------------------+--------------------------+\n"
        );
    }

    #[test]
    fn named_time_zones_do_not_fail() {
        let us = TimestampMillisecondArray::from(vec![1_704_067_202_428]).with_timezone("UTC");
        let b = batch(vec![("ts", Arc::new(us))]);
        let text = show(
            &ConsoleSink::new().truncate(false),
            std::slice::from_ref(&b),
        );
        assert!(text.contains("|2024-01-01 00:00:02.428|"), "{text}");
        // Like Spark, truncation cuts a timestamp with a fraction (23 chars) too.
        let text = show(&ConsoleSink::new(), &[b]);
        assert!(text.contains("|2024-01-01 00:00:...|"), "{text}");
    }

    #[test]
    fn structs_maps_lists_and_binary_look_like_spark() {
        let window = StructArray::from(vec![
            (
                Arc::new(Field::new("start", DataType::Int64, true)),
                Arc::new(Int64Array::from(vec![Some(1), None])) as ArrayRef,
            ),
            (
                Arc::new(Field::new("end", DataType::Float64, true)),
                Arc::new(Float64Array::from(vec![2.0, 3.5])) as ArrayRef,
            ),
        ]);
        let mut map = MapBuilder::new(None, StringBuilder::new(), Int64Builder::new());
        map.keys().append_value("a");
        map.values().append_value(1);
        map.keys().append_value("b");
        map.values().append_null();
        map.append(true).unwrap();
        map.append(false).unwrap();
        let list = arrow_array::ListArray::from_iter_primitive::<Float64Type, _, _>(vec![
            Some(vec![Some(1.0), None]),
            None,
        ]);
        let binary = BinaryArray::from_opt_vec(vec![Some(&[0x0a, 0xff][..]), None]);
        let b = batch(vec![
            ("w", Arc::new(window)),
            ("m", Arc::new(map.finish())),
            ("l", Arc::new(list)),
            ("bin", Arc::new(binary)),
        ]);
        let text = show(&ConsoleSink::new().truncate(false), &[b]);
        assert_eq!(
            text,
            "+-----------+-------------------+-----------+-------+\n\
             |w          |m                  |l          |bin    |\n\
             +-----------+-------------------+-----------+-------+\n\
             |{1, 2.0}   |{a -> 1, b -> NULL}|[1.0, NULL]|[0A FF]|\n\
             |{NULL, 3.5}|NULL               |NULL       |NULL   |\n\
             +-----------+-------------------+-----------+-------+\n"
        );
    }

    #[test]
    fn control_characters_are_escaped_in_cells_and_header() {
        let b = batch(vec![("a\tb", Arc::new(StringArray::from(vec!["x\ny"])))]);
        let text = show(&ConsoleSink::new(), &[b]);
        assert_eq!(text, "+----+\n|a\\tb|\n+----+\n|x\\ny|\n+----+\n");
    }

    #[test]
    fn full_width_characters_count_twice() {
        let b = batch(vec![(
            "名前",
            Arc::new(StringArray::from(vec!["日本", "abc"])),
        )]);
        let text = show(&ConsoleSink::new(), &[b]);
        assert_eq!(text, "+----+\n|名前|\n+----+\n|日本|\n| abc|\n+----+\n");
        assert_eq!(half_width("é日"), 3);
    }

    #[test]
    fn zero_num_rows_shows_only_header() {
        let text = show(&ConsoleSink::new().num_rows(0), &[ints("n", vec![1])]);
        assert_eq!(
            text,
            "+---+\n|  n|\n+---+\n+---+\nonly showing top 0 rows\n"
        );
    }

    #[test]
    fn column_count_mismatch_is_a_sink_error() {
        let (mut sink, _out) = ConsoleSink::to_buffer();
        let schema = Arc::new(Schema::new(vec![
            Field::new("a", DataType::Int64, false),
            Field::new("b", DataType::Int64, false),
        ]));
        let err = add(&mut sink, 5, schema, vec![ints("a", vec![1])]).unwrap_err();
        match err {
            StreamError::Sink {
                sink,
                batch_id,
                message,
            } => {
                assert_eq!((sink.as_str(), batch_id), ("ConsoleSink", 5));
                assert!(message.contains("2 columns"), "{message}");
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn supports_all_modes_and_describes_itself() {
        let sink = ConsoleSink::default();
        assert!(OutputMode::ALL.into_iter().all(|m| sink.supports(m)));
        assert_eq!(sink.description(), "ConsoleSink");
        assert_eq!((sink.num_rows, sink.truncate), (20, true));
    }

    #[test]
    fn nested_struct_in_schema_with_empty_fields() {
        let empty = StructArray::new_empty_fields(1, None);
        let b = batch(vec![("s", Arc::new(empty))]);
        assert_eq!(
            show(&ConsoleSink::new(), &[b]),
            "+---+\n|  s|\n+---+\n| {}|\n+---+\n"
        );
    }
}
