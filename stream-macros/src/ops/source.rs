//! `read(kind, options..)`: the sources.
//!
//! - `read(json | csv | parquet, path = "landing/", schema = Event, options..)` and
//!   `read(text, path = "logs/")` (one `value` column): see `file_source.rs`
//! - `read(memory, stream = {input}, schema = Event)` (a `MemoryStream` from the caller)
//! - `read(rate, rows_per_second = 10, num_partitions = 2)` (`timestamp`, `value`)
//! - `read(kafka, bootstrap_servers = "host:9092", subscribe = "events", options..)`
//!   (`key`, `value`, `topic`, `partition`, `offset`, `timestamp`, `timestamp_type`; with
//!   `value_schema = Event`, `Event`'s columns in place of `value`): see `kafka.rs`

use crate::check::{Checker, StreamState, option_u64};
use crate::parse::{OptionValue, ReadCall};
use crate::plan::{Column, FileFormat, SourceKind, SourcePlan};
use crate::types::{ColType, DslType};

/// The source kinds, for errors.
const KINDS: &[&str] = &["json", "csv", "parquet", "text", "memory", "rate", "kafka"];

pub(crate) fn check(cx: &mut Checker, read: &ReadCall) -> Option<StreamState> {
    let kind = &read.kind;
    let kind_name = kind.to_string();
    let file_format = FileFormat::from_name(&kind_name);
    let file_known: Vec<&str>;
    let (known, example): (&[&str], &str) = match (file_format, kind_name.as_str()) {
        (Some(format), _) => {
            file_known = super::file_source::LANDING
                .iter()
                .copied()
                .filter(|o| format != FileFormat::Text || *o != "schema")
                .chain(super::file_source::format_options(format).iter().copied())
                .collect();
            (
                &file_known,
                match format {
                    FileFormat::Text => "read(text, path = \"logs/\")",
                    FileFormat::Csv => {
                        "read(csv, path = \"landing/\", schema = Event, header = true)"
                    }
                    FileFormat::Parquet => "read(parquet, path = \"landing/\", schema = Event)",
                    FileFormat::Json => "read(json, path = \"landing/\", schema = Event)",
                },
            )
        }
        (None, "memory") => (
            &["stream", "schema"],
            "read(memory, stream = {input}, schema = Event)",
        ),
        (None, "rate") => (
            &["rows_per_second", "num_partitions"],
            "read(rate, rows_per_second = 10)",
        ),
        (None, "kafka") => (super::kafka::SOURCE_OPTIONS, super::kafka::SOURCE_EXAMPLE),
        (None, other) => {
            let help = match crate::diag::did_you_mean(other, KINDS.iter().copied()) {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!("the sources are: {}", KINDS.join(", ")),
            };
            cx.cx
                .error(kind.span(), format!("unknown source `{other}`"), help);
            return None;
        }
    };
    let options = super::options::by_name(cx, "source", kind, &read.options, known)?;
    let schema_of = |cx: &mut Checker| -> Option<Vec<Column>> {
        let option = super::options::require(cx, kind, &options, "schema", example)?;
        match &option.value {
            OptionValue::Name(name) => cx.named_schema(name),
            other => {
                cx.cx.error(
                    other.span(),
                    "`schema` names a schema of the block",
                    "write `schema = Event`",
                );
                None
            }
        }
    };
    let (source_kind, schema) = match (file_format, kind_name.as_str()) {
        (Some(format), _) => {
            let schema = if format == FileFormat::Text {
                Some(vec![Column {
                    name: "value".into(),
                    ty: ColType {
                        ty: DslType::String,
                        nullable: false,
                    },
                }])
            } else {
                schema_of(cx)
            };
            let path = super::options::require(cx, kind, &options, "path", example)
                .filter(|o| super::options::text(cx, o, "path = \"landing/\""))
                .map(|o| o.value.clone());
            let file_options = super::file_source::check_options(cx, &options);
            (
                SourceKind::File {
                    format,
                    path: path?,
                    options: file_options?,
                },
                schema?,
            )
        }
        (None, "memory") => {
            let schema = schema_of(cx);
            let stream = super::options::require(cx, kind, &options, "stream", example)?;
            if !matches!(stream.value, OptionValue::Capture(_)) {
                cx.cx.error(
                    stream.value.span(),
                    "`stream` takes a `MemoryStream` from outside the block",
                    "capture it: `stream = {input}`",
                );
                return None;
            }
            (
                SourceKind::Memory {
                    stream: stream.value.clone(),
                },
                schema?,
            )
        }
        (None, "kafka") => super::kafka::check_source(cx, kind, &options, &read.options)?,
        _ => {
            let rows = super::options::require(cx, kind, &options, "rows_per_second", example)?;
            // a captured value is checked by `RateSource` when the query starts
            let rows_per_second = match super::options::capture(rows) {
                Some(value) => Some(value),
                None => at_least_one(cx, rows).map(|n| quote::quote!(#n)),
            };
            let num_partitions = options.get("num_partitions").map(|o| {
                super::options::capture(o).or_else(|| {
                    at_least_one(cx, o).map(|n| {
                        let n = n as usize;
                        quote::quote!(#n)
                    })
                })
            });
            let rows_per_second = rows_per_second?;
            let num_partitions = match num_partitions {
                Some(n) => Some(n?),
                None => None,
            };
            let schema = vec![
                Column {
                    name: "timestamp".into(),
                    ty: ColType {
                        ty: DslType::TimestampUs,
                        nullable: false,
                    },
                },
                Column {
                    name: "value".into(),
                    ty: ColType {
                        ty: DslType::I64,
                        nullable: false,
                    },
                },
            ];
            (
                SourceKind::Rate {
                    rows_per_second,
                    num_partitions,
                },
                schema,
            )
        }
    };
    Some(cx.add_source(SourcePlan {
        kind: source_kind,
        schema,
        span: read.kw,
    }))
}

/// A whole-number option that Spark requires to be positive (`rows_per_second`,
/// `num_partitions`, Kafka's `max_offsets_per_trigger` and `min_partitions`).
pub(crate) fn at_least_one(cx: &mut Checker, option: &crate::parse::OptionArg) -> Option<u64> {
    match option_u64(&mut cx.cx, option, 1, usize::MAX as u64)? {
        0 => {
            cx.cx.error(
                option.value.span(),
                format!("`{}` must be at least 1", option.name),
                format!("write `{} = 1` or more", option.name),
            );
            None
        }
        n => Some(n),
    }
}
