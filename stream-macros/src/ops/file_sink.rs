//! `write(parquet | json | csv | delta, path = .., partition_by = [..], options..)`: the
//! file sinks and the Delta Lake sink, checked here and emitted as the `FileSink` /
//! `DeltaSink` builder calls they stand for.
//!
//! - `write(parquet, path = "out/events", partition_by = [country])`, with
//!   `compression = snappy | zstd | uncompressed`
//! - `write(json, path = ..)`, `write(csv, path = ..)`
//! - every file format: `max_rows_per_file`, `target_file_size` (bytes),
//!   `compact_interval` (batches between manifest compactions), `retention = "7 days"`
//! - `write(delta, path = .., partition_by = [..], target_file_size = .., app_id = "..")`

use std::collections::HashMap;

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};

use crate::check::{Checker, option_u64};
use crate::parse::{OptionArg, OptionValue};
use crate::plan::{FileFormat, Schema, SinkPlan};

/// The options of `write(kind, ..)` for the sinks of this module.
pub(crate) fn options_of(kind: &str) -> Option<&'static [&'static str]> {
    Some(match kind {
        "parquet" => &[
            "path",
            "partition_by",
            "compression",
            "max_rows_per_file",
            "target_file_size",
            "compact_interval",
            "retention",
        ],
        "json" | "csv" => &[
            "path",
            "partition_by",
            "max_rows_per_file",
            "target_file_size",
            "compact_interval",
            "retention",
        ],
        "delta" => &["path", "partition_by", "target_file_size", "app_id"],
        _ => return None,
    })
}

/// Checks the options of a file or Delta sink against the stream it writes (`schema`,
/// `None` when the stream had errors: the partition columns are then not checked).
pub(crate) fn check(
    cx: &mut Checker,
    kind: &syn::Ident,
    options: &HashMap<String, &OptionArg>,
    schema: Option<&Schema>,
) -> Option<SinkPlan> {
    let format = kind.to_string();
    // `None`: delta
    let file_format = FileFormat::from_name(&format);
    let mut ok = true;
    let path = super::options::require(
        cx,
        kind,
        options,
        "path",
        &format!("write({format}, path = \"out/events\")"),
    );
    let path = match path {
        Some(p) if super::options::text(cx, p, "path = \"out/events\"") => Some(p.value.clone()),
        _ => None,
    };
    if file_format == Some(FileFormat::Csv)
        && let Some(list) = schema.and_then(|s| s.iter().find(|c| c.ty.ty.is_opaque()))
    {
        cx.cx.error(
            kind.span(),
            format!(
                "csv cannot hold the list column `{}` (a {})",
                list.name,
                list.ty.ty.name()
            ),
            "write it as `json` or `parquet`, which take lists, or `drop` the column first",
        );
        ok = false;
    }
    let mut calls = Vec::new();
    let mut names: Vec<&String> = options.keys().collect();
    names.sort();
    for name in names {
        let o = options[name];
        let span = o.value.span();
        // a captured value goes to the builder call as it is: rustc checks its type, and
        // the sink its value when the query starts, as it does a literal's
        if let Some(value) = super::options::capture(o) {
            let call = match name.as_str() {
                "path" | "app_id" | "partition_by" => None,
                "compression" => Some(quote_spanned!(span=> .parquet_compression(#value))),
                "retention" => Some(quote_spanned!(span=> .retention(#value))),
                other => {
                    let method = syn::Ident::new(other, span);
                    Some(quote_spanned!(span=> .#method(#value)))
                }
            };
            if let Some(call) = call {
                calls.push(call);
                continue;
            }
        }
        let call = match name.as_str() {
            "path" => continue,
            "partition_by" => match partition_columns(cx, o, schema) {
                Some(columns) => quote_spanned!(span=> .partition_by([#(#columns),*])),
                None => {
                    ok = false;
                    continue;
                }
            },
            "compression" => {
                let variant = match &o.value {
                    OptionValue::Name(n) if n == "snappy" => quote!(Snappy),
                    OptionValue::Name(n) if n == "zstd" => quote!(Zstd),
                    OptionValue::Name(n) if n == "uncompressed" || n == "none" => {
                        quote!(Uncompressed)
                    }
                    other => {
                        cx.cx.error(
                            other.span(),
                            "`compression` is `snappy`, `zstd` or `uncompressed`",
                            "write `compression = zstd` (Spark's default is snappy), or capture a `ParquetCompression`: `compression = {compression}`",
                        );
                        ok = false;
                        continue;
                    }
                };
                quote_spanned!(span=> .parquet_compression(::stream_core::ParquetCompression::#variant))
            }
            "max_rows_per_file" | "target_file_size" | "compact_interval" => {
                match at_least_one(cx, o) {
                    Some(n) => {
                        let method = syn::Ident::new(name, span);
                        if name == "max_rows_per_file" {
                            let n = n as usize;
                            quote_spanned!(span=> .#method(#n))
                        } else {
                            quote_spanned!(span=> .#method(#n))
                        }
                    }
                    None => {
                        ok = false;
                        continue;
                    }
                }
            }
            "retention" => match super::options::duration(cx, o, "the retention", "7 days") {
                Some(retention) => quote_spanned!(span=> .retention(#retention)),
                None => {
                    ok = false;
                    continue;
                }
            },
            "app_id" => {
                if !super::options::text(cx, o, "app_id = \"events-ingest\"") {
                    ok = false;
                    continue;
                }
                let id = crate::codegen::option_text(&o.value);
                quote_spanned!(span=> .app_id(#id))
            }
            _ => continue,
        };
        calls.push(call);
    }
    let path = path?;
    if !ok {
        return None;
    }
    Some(match file_format {
        Some(format) => SinkPlan::Files {
            format,
            kind: kind.clone(),
            path,
            calls,
        },
        None => SinkPlan::Delta {
            kind: kind.clone(),
            path,
            calls,
        },
    })
}

/// `partition_by = [a, b]` or `partition_by = a`: columns of the written stream, each
/// at most once, not every column (a partition holds no data otherwise).
fn partition_columns(
    cx: &mut Checker,
    o: &OptionArg,
    schema: Option<&Schema>,
) -> Option<Vec<String>> {
    let names: Vec<syn::Ident> = match &o.value {
        OptionValue::Name(n) => vec![n.clone()],
        OptionValue::List(_, names) if !names.is_empty() => names.clone(),
        other => {
            cx.cx.error(
                other.span(),
                "`partition_by` takes column names",
                "write `partition_by = [country, day]`",
            );
            return None;
        }
    };
    let mut ok = true;
    let mut seen: Vec<String> = Vec::new();
    for name in &names {
        if let Some(schema) = schema
            && cx.column(name, schema).is_none()
        {
            ok = false;
            continue;
        }
        let text = name.to_string();
        if seen.contains(&text) {
            cx.cx.error(
                name.span(),
                format!("`{text}` is named twice in `partition_by`"),
                "keep one of them",
            );
            ok = false;
            continue;
        }
        seen.push(text);
    }
    if ok
        && let Some(schema) = schema
        && seen.len() == schema.len()
    {
        cx.cx.error(
            o.value.span(),
            "`partition_by` names every column of the stream",
            "leave at least one column out of it: the files hold the columns that are not partition folders",
        );
        ok = false;
    }
    ok.then_some(seen)
}

fn at_least_one(cx: &mut Checker, o: &OptionArg) -> Option<u64> {
    match option_u64(&mut cx.cx, o, 1, usize::MAX as u64)? {
        0 => {
            cx.cx.error(
                o.value.span(),
                format!("`{}` must be at least 1", o.name),
                "give a positive number, or leave the option out",
            );
            None
        }
        n => Some(n),
    }
}

/// The sink expression of a checked file or Delta sink. A format whose stream-core
/// feature is off fails to build on the format's name, with the feature in the message.
pub(crate) fn emit(sink: &SinkPlan) -> TokenStream {
    match sink {
        SinkPlan::Files {
            format,
            kind,
            path,
            calls,
        } => {
            let path = crate::codegen::option_text(path);
            let (variant, feature) = match format {
                FileFormat::Json => (quote!(Json), quote!(__feature_json)),
                FileFormat::Csv => (quote!(Csv), quote!(__feature_csv)),
                // the check gives a file sink no other format
                FileFormat::Parquet | FileFormat::Text => {
                    (quote!(Parquet), quote!(__feature_parquet))
                }
            };
            let feature = quote_spanned!(kind.span()=> ::stream_core::__private::#feature!());
            quote!({
                #feature;
                ::stream_core::FileSink::new(#path)
                    .format(::stream_core::FileSinkFormat::#variant)
                    #(#calls)*
            })
        }
        SinkPlan::Delta { kind, path, calls } => {
            let path = crate::codegen::option_text(path);
            let new = quote_spanned!(kind.span()=> ::stream_core::__private::__delta_sink!(#path));
            quote!(#new #(#calls)*)
        }
        _ => TokenStream::new(),
    }
}
