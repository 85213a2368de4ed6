//! `read(json | csv | parquet | text, path = .., schema = .., options..)`: the file
//! sources and Spark's landing-zone options, checked here and emitted as the
//! `FileSource` builder calls they stand for.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};

use crate::check::{Checker, option_u64};
use crate::parse::{OptionArg, OptionValue};
use crate::plan::FileFormat;

/// The options every file format takes.
pub(crate) const LANDING: &[&str] = &[
    "path",
    "schema",
    "max_files_per_trigger",
    "max_bytes_per_trigger",
    "latest_first",
    "max_file_age",
    "clean_source",
    "source_archive_dir",
    "file_name_only",
    "ignore_missing_files",
    "ignore_corrupt_files",
    "compact_interval",
];

/// The options of one format, beyond [`LANDING`].
pub(crate) fn format_options(format: FileFormat) -> &'static [&'static str] {
    match format {
        FileFormat::Json => &["mode", "column_name_of_corrupt_record"],
        FileFormat::Csv => &[
            "mode",
            "column_name_of_corrupt_record",
            "header",
            "delimiter",
            "sep",
            "quote",
            "escape",
            "null_value",
        ],
        FileFormat::Parquet | FileFormat::Text => &[],
    }
}

/// A checked option, as the builder call it becomes.
#[derive(Clone)]
pub(crate) struct FileOption(pub(crate) TokenStream);

/// Checks the options of a file source (other than `path` and `schema`); `None` after
/// an error.
pub(crate) fn check_options(
    cx: &mut Checker,
    options: &std::collections::HashMap<String, &OptionArg>,
) -> Option<Vec<FileOption>> {
    let mut out = Vec::new();
    let mut ok = true;
    let mut names: Vec<&String> = options.keys().collect();
    names.sort();
    if let (Some(files), Some(bytes)) = (
        options.get("max_files_per_trigger"),
        options.get("max_bytes_per_trigger"),
    ) {
        let _ = files;
        cx.cx.error(
            bytes.name.span(),
            "`max_files_per_trigger` and `max_bytes_per_trigger` cannot be used together",
            "keep one limit: files per batch, or bytes per batch",
        );
        ok = false;
    }
    for name in names {
        let o = options[name];
        let span = o.value.span();
        let method = syn::Ident::new(if name == "sep" { "delimiter" } else { name }, span);
        // a captured value goes to the builder call as it is: rustc checks its type, and
        // `FileSource::validate` its value when the query starts, as it does a literal's
        if let Some(value) = super::options::capture(o) {
            let call = match name.as_str() {
                "path" | "schema" | "source_archive_dir" => continue,
                "clean_source" => {
                    if let Some(dir) = options.get("source_archive_dir") {
                        cx.cx.error(
                            dir.name.span(),
                            "`source_archive_dir` is only for `clean_source = archive`",
                            "a captured `clean_source` is a whole `CleanSource`: remove `source_archive_dir` and capture `CleanSource::Archive { dir }`",
                        );
                        ok = false;
                        continue;
                    }
                    quote_spanned!(span=> .clean_source(#value))
                }
                _ => quote_spanned!(span=> .#method(#value)),
            };
            out.push(FileOption(call));
            continue;
        }
        let call = match name.as_str() {
            "path" | "schema" | "source_archive_dir" => continue,
            "max_files_per_trigger" => match positive(cx, o) {
                Some(n) => {
                    let n = n as usize;
                    quote_spanned!(span=> .max_files_per_trigger(#n))
                }
                None => {
                    ok = false;
                    continue;
                }
            },
            "compact_interval" => match positive(cx, o) {
                Some(n) => quote_spanned!(span=> .compact_interval(#n)),
                None => {
                    ok = false;
                    continue;
                }
            },
            "max_bytes_per_trigger" => match positive(cx, o) {
                Some(n) => quote_spanned!(span=> .max_bytes_per_trigger(#n)),
                None => {
                    ok = false;
                    continue;
                }
            },
            "latest_first"
            | "file_name_only"
            | "ignore_missing_files"
            | "ignore_corrupt_files"
            | "header" => match boolean(cx, o) {
                Some(b) => quote_spanned!(span=> .#method(#b)),
                None => {
                    ok = false;
                    continue;
                }
            },
            "max_file_age" => match super::options::duration(cx, o, "the age", "7 days") {
                Some(age) => quote_spanned!(span=> .max_file_age(#age)),
                None => {
                    ok = false;
                    continue;
                }
            },
            "clean_source" => {
                let value = match &o.value {
                    OptionValue::Name(n) => n.to_string(),
                    OptionValue::Lit(syn::Lit::Str(s)) => s.value(),
                    _ => String::new(),
                };
                let dir = options.get("source_archive_dir");
                match (value.as_str(), dir) {
                    ("off", None) => quote!(.clean_source(::stream_core::CleanSource::Off)),
                    ("delete", None) => {
                        quote!(.clean_source(::stream_core::CleanSource::Delete))
                    }
                    ("archive", Some(d)) => {
                        if !super::options::text(cx, d, "source_archive_dir = \"archive/\"") {
                            ok = false;
                            continue;
                        }
                        let dir = crate::codegen::option_text(&d.value);
                        quote! {
                            .clean_source(::stream_core::CleanSource::Archive {
                                dir: ::std::path::PathBuf::from(#dir),
                            })
                        }
                    }
                    ("archive", None) => {
                        cx.cx.error(
                            span,
                            "`clean_source = archive` needs `source_archive_dir`",
                            "say where the files go: `source_archive_dir = \"archive/\"`",
                        );
                        ok = false;
                        continue;
                    }
                    ("off" | "delete", Some(d)) => {
                        cx.cx.error(
                            d.name.span(),
                            "`source_archive_dir` is only for `clean_source = archive`",
                            "remove it, or write `clean_source = archive`",
                        );
                        ok = false;
                        continue;
                    }
                    _ => {
                        cx.cx.error(
                            span,
                            "`clean_source` is `off`, `archive` or `delete`",
                            "write `clean_source = delete`, or `clean_source = archive, source_archive_dir = \"archive/\"`",
                        );
                        ok = false;
                        continue;
                    }
                }
            }
            "mode" => {
                let value = match &o.value {
                    OptionValue::Name(n) => n.to_string(),
                    _ => String::new(),
                };
                match value.as_str() {
                    "permissive" => quote!(.mode(::stream_core::ParseMode::Permissive)),
                    "drop_malformed" => quote!(.mode(::stream_core::ParseMode::DropMalformed)),
                    "fail_fast" => quote!(.mode(::stream_core::ParseMode::FailFast)),
                    _ => {
                        cx.cx.error(
                            span,
                            "`mode` is `permissive`, `drop_malformed` or `fail_fast`",
                            "write `mode = drop_malformed`",
                        );
                        ok = false;
                        continue;
                    }
                }
            }
            "column_name_of_corrupt_record" | "null_value" => {
                if !super::options::text(cx, o, &format!("{name} = \"..\"")) {
                    ok = false;
                    continue;
                }
                let v = crate::codegen::option_text(&o.value);
                quote_spanned!(span=> .#method(#v))
            }
            "delimiter" | "sep" | "quote" | "escape" => match &o.value {
                OptionValue::Lit(syn::Lit::Str(s)) if s.value().chars().count() == 1 => {
                    let c = s.value().chars().next().unwrap_or(',');
                    quote_spanned!(span=> .#method(#c))
                }
                OptionValue::Lit(syn::Lit::Char(c)) => quote_spanned!(span=> .#method(#c)),
                other => {
                    cx.cx.error(
                        other.span(),
                        format!("`{name}` takes one character"),
                        format!("write `{name} = \";\"`, or capture a `char`: `{name} = {{c}}`"),
                    );
                    ok = false;
                    continue;
                }
            },
            _ => continue,
        };
        out.push(FileOption(call));
    }
    ok.then_some(out)
}

fn positive(cx: &mut Checker, o: &OptionArg) -> Option<u64> {
    match option_u64(&mut cx.cx, o, 1, usize::MAX as u64)? {
        0 => {
            cx.cx.error(
                o.value.span(),
                format!("`{}` must be at least 1", o.name),
                if o.name == "max_files_per_trigger" {
                    "take at least one file per batch, or leave the option out"
                } else if o.name == "compact_interval" {
                    "compact the source's log every 10 entries (the default), or leave the option out"
                } else {
                    "take at least one byte per batch, or leave the option out"
                },
            );
            None
        }
        n => Some(n),
    }
}

pub(crate) fn boolean(cx: &mut Checker, o: &OptionArg) -> Option<bool> {
    match &o.value {
        OptionValue::Lit(syn::Lit::Bool(b)) => Some(b.value),
        other => {
            cx.cx.error(
                other.span(),
                format!("`{}` takes `true` or `false`", o.name),
                format!("write `{} = true`", o.name),
            );
            None
        }
    }
}
