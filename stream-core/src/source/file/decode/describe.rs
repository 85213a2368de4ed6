//! What a decoder's complaint about a record means in the user's terms: the column, the
//! type the schema declares for it (as the `stream!` DSL names types) and the value
//! found, instead of arrow's internal wording (`Json error: whilst decoding field ...`,
//! `Parser error: ... Row data: '[...]'`) or raw bytes.

#[cfg(feature = "csv")]
use std::sync::LazyLock;

#[cfg(any(feature = "json", feature = "csv"))]
use arrow_schema::Schema;
use arrow_schema::{DataType, TimeUnit};
#[cfg(feature = "csv")]
use regex::Regex;

/// At most this many characters of a value are quoted in a message.
#[cfg(any(feature = "json", feature = "csv"))]
const MAX_VALUE_CHARS: usize = 60;

/// The name of `data_type` as a schema declares it: the `stream!` DSL's type names
/// (`i64`, `string`, `timestamp_ms`, ...), and arrow's for types the DSL has not.
pub(crate) fn type_name(data_type: &DataType) -> String {
    match data_type {
        DataType::Boolean => "bool".into(),
        DataType::Int8 => "i8".into(),
        DataType::Int16 => "i16".into(),
        DataType::Int32 => "i32".into(),
        DataType::Int64 => "i64".into(),
        DataType::UInt8 => "u8".into(),
        DataType::UInt16 => "u16".into(),
        DataType::UInt32 => "u32".into(),
        DataType::UInt64 => "u64".into(),
        DataType::Float32 => "f32".into(),
        DataType::Float64 => "f64".into(),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => "string".into(),
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView => "binary".into(),
        DataType::Date32 | DataType::Date64 => "date".into(),
        DataType::Timestamp(TimeUnit::Millisecond, _) => "timestamp_ms".into(),
        DataType::Timestamp(TimeUnit::Microsecond, _) => "timestamp_us".into(),
        DataType::Timestamp(_, _) => "timestamp".into(),
        DataType::Decimal128(p, s) | DataType::Decimal256(p, s) => format!("decimal({p},{s})"),
        DataType::List(item) | DataType::LargeList(item) => {
            format!("list<{}>", type_name(item.data_type()))
        }
        DataType::Struct(_) => "struct".into(),
        other => other.to_string(),
    }
}

/// `value` quoted for a message, cut after [`MAX_VALUE_CHARS`] characters.
#[cfg(any(feature = "json", feature = "csv"))]
fn quoted(value: &str) -> String {
    let mut chars = value.chars();
    let head: String = chars.by_ref().take(MAX_VALUE_CHARS).collect();
    if chars.next().is_some() {
        format!("`{head}...`")
    } else {
        format!("`{head}`")
    }
}

/// Why a line of text is not UTF-8, with the 1-based column (in bytes) of the first
/// byte that is not; `None` if it is UTF-8.
pub(crate) fn not_utf8(line: &[u8]) -> Option<String> {
    std::str::from_utf8(line).err().map(|e| {
        format!(
            "the line is not UTF-8 text: byte {} (0x{:02X}) is not a valid character",
            e.valid_up_to() + 1,
            line[e.valid_up_to()]
        )
    })
}

/// Why the JSON line `line` did not decode against `schema`, given arrow-json's
/// `message`: the line is not UTF-8, is not JSON (with the column where it stops being
/// JSON), or holds a value that is not of its column's type.
#[cfg(feature = "json")]
pub(crate) fn json_record(line: &[u8], schema: &Schema, message: &str) -> String {
    if let Some(why) = not_utf8(line) {
        return why;
    }
    let value = match serde_json::from_slice::<serde_json::Value>(line) {
        Ok(value) => value,
        Err(e) => {
            return format!(
                "it is not JSON: {} at column {}",
                json_syntax(&e),
                e.column()
            );
        }
    };
    let Some(object) = value.as_object() else {
        return "a record must be a JSON object (`{...}`)".into();
    };
    let path = decoded_fields(message);
    let Some((first, nested)) = path.split_first() else {
        return without_prefix(message);
    };
    let Ok(field) = schema.field_with_name(first) else {
        return without_prefix(message);
    };
    // follow the nested fields of a struct column as far as the schema has them
    let mut data_type = field.data_type();
    let mut found = object.get(*first);
    for name in nested {
        let DataType::Struct(fields) = data_type else {
            break;
        };
        let Some((_, inner)) = fields.find(name) else {
            break;
        };
        data_type = inner.data_type();
        found = found.and_then(|v| v.get(name));
    }
    let column = path.join(".");
    match found {
        Some(found) => format!(
            "column `{column}` is declared {} but the record holds {}",
            type_name(data_type),
            quoted(&found.to_string())
        ),
        None => format!(
            "column `{column}` is declared {} but the record's value is not one",
            type_name(data_type)
        ),
    }
}

/// The fields arrow-json names in `message` (`whilst decoding field 'a': whilst decoding
/// field 'b': ...`), outermost first.
#[cfg(feature = "json")]
fn decoded_fields(message: &str) -> Vec<&str> {
    const MARK: &str = "whilst decoding field '";
    let mut fields = Vec::new();
    let mut rest = message;
    while let Some(at) = rest.find(MARK) {
        rest = &rest[at + MARK.len()..];
        let Some(end) = rest.find('\'') else {
            break;
        };
        fields.push(&rest[..end]);
        rest = &rest[end..];
    }
    fields
}

/// serde_json's description of a syntax error, without its position (given separately).
#[cfg(feature = "json")]
fn json_syntax(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rfind(" at line ") {
        Some(at) => text[..at].to_string(),
        None => text,
    }
}

/// Why the CSV record `raw` did not decode, given arrow-csv's `message` (with the line
/// numbers already removed) and the file's columns (`file_schema`, in file order).
#[cfg(feature = "csv")]
pub(crate) fn csv_record(raw: &[u8], file_schema: &Schema, message: &str) -> String {
    static PARSE: LazyLock<Option<Regex>> = LazyLock::new(|| {
        Regex::new(r"(?s)Error while parsing value '(.*)' as type '[^']*' for column (\d+)").ok()
    });
    static COLUMN: LazyLock<Option<Regex>> =
        LazyLock::new(|| Regex::new(r"(?s)Error parsing column (\d+).*?from '(.*)':").ok());
    static UTF8: LazyLock<Option<Regex>> =
        LazyLock::new(|| Regex::new(r"invalid UTF-8 data in field (\d+)").ok());
    static FIELDS: LazyLock<Option<Regex>> = LazyLock::new(|| {
        Regex::new(r"incorrect number of fields, expected (\d+) got (more than )?(\d+)").ok()
    });
    let captures = |re: &LazyLock<Option<Regex>>| re.as_ref().and_then(|re| re.captures(message));
    let column = |index: &str| {
        let index: usize = index.parse().ok()?;
        file_schema.fields().get(index).map(|f| (index, f))
    };
    let named = |index: usize, name: &str| {
        if name.starts_with("_c") {
            format!("field {}", index + 1)
        } else {
            format!("column `{name}` (field {})", index + 1)
        }
    };
    if let Some(c) = captures(&PARSE)
        && let Some((index, field)) = column(&c[2])
    {
        return format!(
            "{} is declared {} but the record holds {}",
            named(index, field.name()),
            type_name(field.data_type()),
            quoted(&c[1])
        );
    }
    if let Some(c) = captures(&COLUMN)
        && let Some((index, field)) = column(&c[1])
    {
        return format!(
            "{} is declared {} but the record holds {}",
            named(index, field.name()),
            type_name(field.data_type()),
            quoted(&c[2])
        );
    }
    if let Some(c) = captures(&UTF8)
        && let Ok(field) = c[1].parse::<usize>()
    {
        let name = file_schema
            .fields()
            .get(field.saturating_sub(1))
            .map_or_else(|| format!("field {field}"), |f| named(field - 1, f.name()));
        return format!("{name} is not UTF-8 text");
    }
    if let Some(c) = captures(&FIELDS) {
        let more = c.get(2).map_or("", |_| "more than ");
        return format!(
            "the record has {more}{} fields but the file has {} columns (wrong number of fields)",
            &c[3], &c[1]
        );
    }
    if let Some(why) = not_utf8(raw) {
        return why;
    }
    without_prefix(message)
}

/// arrow's message without the name of the error kind it starts with.
#[cfg(any(feature = "json", feature = "csv"))]
fn without_prefix(message: &str) -> String {
    for prefix in [
        "Json error: ",
        "Parser error: ",
        "Csv error: ",
        "Cast error: ",
    ] {
        if let Some(rest) = message.strip_prefix(prefix) {
            return rest.to_string();
        }
    }
    message.to_string()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_schema::{Field, Fields};

    use super::*;

    fn schema() -> Schema {
        Schema::new(vec![
            Field::new("id", DataType::Int64, true),
            Field::new(
                "ts",
                DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
                true,
            ),
            Field::new(
                "inner",
                DataType::Struct(Fields::from(vec![Field::new(
                    "ok",
                    DataType::Boolean,
                    true,
                )])),
                true,
            ),
        ])
    }

    #[cfg(feature = "json")]
    #[test]
    fn a_json_value_of_another_type_names_the_column_the_type_and_the_value() {
        let schema = schema();
        assert_eq!(
            json_record(
                br#"{"id": "two"}"#,
                &schema,
                "Json error: whilst decoding field 'id': failed to parse \"two\" as Int64"
            ),
            "column `id` is declared i64 but the record holds `\"two\"`"
        );
        assert_eq!(
            json_record(
                br#"{"inner": {"ok": 3}}"#,
                &schema,
                "Json error: whilst decoding field 'inner': whilst decoding field 'ok': expected boolean got 3"
            ),
            "column `inner.ok` is declared bool but the record holds `3`"
        );
        let long = format!(r#"{{"ts": "{}"}}"#, "x".repeat(100));
        let message = json_record(
            long.as_bytes(),
            &schema,
            "Json error: whilst decoding field 'ts': failed to parse",
        );
        assert!(
            message.starts_with("column `ts` is declared timestamp_us"),
            "{message}"
        );
        assert!(
            message.ends_with("...`") && message.len() < 140,
            "{message}"
        );
    }

    #[cfg(feature = "json")]
    #[test]
    fn a_line_that_is_not_json_or_not_utf8_says_where() {
        let schema = schema();
        assert_eq!(
            json_record(
                b"{\"id\": 1,, }",
                &schema,
                "Json error: Encountered unexpected ','"
            ),
            "it is not JSON: key must be a string at column 10"
        );
        assert_eq!(
            json_record(
                b"{\"id\": 1}\xff",
                &schema,
                "Json error: Encountered unexpected"
            ),
            "the line is not UTF-8 text: byte 10 (0xFF) is not a valid character"
        );
        assert_eq!(
            json_record(b"[1, 2]", &schema, "Json error: expected { got [1, 2]"),
            "a record must be a JSON object (`{...}`)"
        );
    }

    #[cfg(feature = "csv")]
    #[test]
    fn csv_messages_name_the_column_and_the_value() {
        let file = Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int64, true),
            Field::new("_c1", DataType::Utf8, true),
            Field::new("ts", DataType::Timestamp(TimeUnit::Millisecond, None), true),
        ]));
        assert_eq!(
            csv_record(
                b"zz,,",
                &file,
                "Parser error: Error while parsing value 'zz' as type 'Int64' for column 0. Row data: '[zz,,]'"
            ),
            "column `id` (field 1) is declared i64 but the record holds `zz`"
        );
        assert_eq!(
            csv_record(
                b"1,,yesterday",
                &file,
                "Parser error: Error parsing column 2: Parser error: Error parsing timestamp from 'yesterday': timestamp must contain at least 10 characters"
            ),
            "column `ts` (field 3) is declared timestamp_ms but the record holds `yesterday`"
        );
        assert_eq!(
            csv_record(
                b"1,\xff,",
                &file,
                "Csv error: Encountered invalid UTF-8 data in field 2"
            ),
            "field 2 is not UTF-8 text"
        );
        assert_eq!(
            csv_record(
                b"1",
                &file,
                "Csv error: incorrect number of fields, expected 3 got 1"
            ),
            "the record has 1 fields but the file has 3 columns (wrong number of fields)"
        );
    }

    #[test]
    fn type_names_are_the_dsl_names() {
        assert_eq!(type_name(&DataType::Utf8), "string");
        assert_eq!(
            type_name(&DataType::Timestamp(
                TimeUnit::Millisecond,
                Some("UTC".into())
            )),
            "timestamp_ms"
        );
        assert_eq!(
            type_name(&DataType::List(Arc::new(Field::new(
                "item",
                DataType::Float64,
                true
            )))),
            "list<f64>"
        );
    }
}
