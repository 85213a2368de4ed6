//! `join({table}, schema = Region, on = country, how = inner | left)`: a stream–static
//! join. Each row is joined with the rows of a static table (a captured
//! `stream_core::StaticTable`, declared by a schema of the block) whose `on` columns are
//! equal; a null key matches nothing. The output is the stream's columns, then the
//! table's columns other than the keys (nullable after a left outer join); column
//! pruning may leave out the ones nothing after the join reads (`TypedOp::Join`'s
//! `left_out` and `right_out`). The table is indexed once, when the first batch needs it,
//! and checked against its whole declared schema then, whatever the pipeline reads of it.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

use crate::check::{Checker, RowRole, StreamState};
use crate::codegen::key_columns::{self, KeyColumn};
use crate::parse::{OptionArg, OptionValue, ReadCall, StaticArg};
use crate::plan::{Column, FileFormat, Schema, TypedOp};
use crate::types::ColType;

/// The static side of a join, as the block gives it.
#[derive(Clone)]
pub(crate) enum StaticSide {
    /// `join({table}, schema = Region, ..)`: the user's `StaticTable` expression.
    Capture(syn::ExprBlock),
    /// `join(read(parquet, path = "..", schema = Region), ..)`: files read when the
    /// query starts, as the file source reads them (its builder calls for the options).
    File {
        format: FileFormat,
        path: OptionValue,
        options: Vec<super::file_source::FileOption>,
        /// The `read` token, where the code that reads them points.
        span: Span,
    },
}

/// A checked join: what the pipeline holds and each batch runs.
#[derive(Clone)]
pub(crate) struct JoinPlan {
    /// The user's table expression, or the files to read.
    pub(crate) table: StaticSide,
    /// The table's schema, as the block declares it.
    pub(crate) right: Schema,
    /// The key columns in the table (the stream's are in each branch's
    /// `TypedOp::Join`, which pruning renumbers).
    pub(crate) right_key: Vec<usize>,
    pub(crate) left_outer: bool,
    /// The key struct (index into the plan's rows).
    pub(crate) key_row: usize,
}

const OPTIONS: &str = "`schema = Name`, `on = column` (or `on = [a, b]`) and `how = inner | left`";

/// The formats a static table is read from.
const STATIC_FORMATS: &str = "`json`, `csv` or `parquet`";

/// `read(json | csv | parquet, path = .., schema = Name, format options..)` inside
/// `join`: the files and the schema's name. The streaming options of a file source
/// (`max_files_per_trigger`, ..) are refused: the files are read once.
fn static_read(cx: &mut Checker, read: &ReadCall) -> Option<(StaticSide, syn::Ident)> {
    let kind = &read.kind;
    let format = match FileFormat::from_name(&kind.to_string()) {
        Some(f @ (FileFormat::Json | FileFormat::Csv | FileFormat::Parquet)) => f,
        _ => {
            cx.cx.error(
                kind.span(),
                format!("a static table is not read from `{kind}`"),
                format!("read it from {STATIC_FORMATS} files: `join(read(parquet, path = \"regions/\", schema = Region), on = country)`"),
            );
            return None;
        }
    };
    let known: Vec<&str> = ["path", "schema"]
        .into_iter()
        .chain(super::file_source::format_options(format).iter().copied())
        .collect();
    let example = format!("read({format}, path = \"regions/\", schema = Region)");
    let options = super::options::by_name(cx, "static table", kind, &read.options, &known)?;
    let schema = super::options::require(cx, kind, &options, "schema", &example);
    let path = super::options::require(cx, kind, &options, "path", &example)
        .filter(|o| super::options::text(cx, o, "path = \"regions/\""))
        .map(|o| o.value.clone());
    let schema = match schema.map(|o| &o.value) {
        Some(OptionValue::Name(name)) => Some(name.clone()),
        Some(other) => {
            cx.cx.error(
                other.span(),
                "`schema` names a schema of the block",
                "write `schema = Region`",
            );
            None
        }
        None => None,
    };
    let file_options = super::file_source::check_options(cx, &options);
    Some((
        StaticSide::File {
            format,
            path: path?,
            options: file_options?,
            span: read.kw,
        },
        schema?,
    ))
}

pub(crate) fn check(
    cx: &mut Checker,
    stream: StreamState,
    op: &syn::Ident,
    table: &StaticArg,
    options: &[OptionArg],
) -> Option<StreamState> {
    if let Some(seen) = &stream.stateful {
        cx.cx.error(
            op.span(),
            format!(
                "a join with a static table after `{}` is not supported yet",
                seen.op
            ),
            "join the rows before the stateful operator",
        );
        return None;
    }
    let mut schema_name = None;
    let mut on: Vec<syn::Ident> = Vec::new();
    let mut left_outer = false;
    let mut ok = true;
    let (side, read_schema) = match table {
        StaticArg::Capture(block) => (Some(StaticSide::Capture(block.clone())), None),
        StaticArg::Read(read) => match static_read(cx, read) {
            Some((side, schema)) => (Some(side), Some(schema)),
            None => (None, None),
        },
    };
    let reads = matches!(table, StaticArg::Read(_));
    ok &= side.is_some();
    for option in options {
        match (option.name.to_string().as_str(), &option.value) {
            ("schema", _) if reads => {
                cx.cx.error(
                    option.name.span(),
                    "the table's schema is the `schema` of its `read`",
                    "leave out `schema` of `join`: `join(read(parquet, path = \"regions/\", schema = Region), on = country)`",
                );
                ok = false;
            }
            ("schema", OptionValue::Name(name)) => schema_name = Some(name.clone()),
            ("on", OptionValue::Name(name)) => on = vec![name.clone()],
            ("on", OptionValue::List(_, names)) if !names.is_empty() => on = names.clone(),
            ("how", OptionValue::Name(how)) => match how.to_string().as_str() {
                "inner" => left_outer = false,
                "left" | "left_outer" => left_outer = true,
                other => {
                    cx.cx.error(
                        how.span(),
                        format!("unknown join type `{other}`"),
                        "a stream–static join is `inner` or `left` (left outer)",
                    );
                    ok = false;
                }
            },
            (name @ ("schema" | "on" | "how"), value) => {
                cx.cx.error(
                    value.span(),
                    format!("`{name}` of `join` takes a name"),
                    format!("the options are {OPTIONS}"),
                );
                ok = false;
            }
            (other, _) => {
                cx.cx.error(
                    option.name.span(),
                    format!("unknown option `{other}` of `join`"),
                    format!("the options are {OPTIONS}"),
                );
                ok = false;
            }
        }
    }
    if reads {
        if !ok || read_schema.is_none() {
            return None;
        }
        schema_name = read_schema;
    }
    let Some(schema_name) = schema_name else {
        cx.cx.error(
            op.span(),
            "`join` needs the table's schema",
            "name it: `join({regions}, schema = Region, on = country)`",
        );
        return None;
    };
    if on.is_empty() {
        cx.cx.error(
            op.span(),
            "`join` needs its key columns",
            "name them: `join({regions}, schema = Region, on = country)`",
        );
        return None;
    }
    let right = cx.named_schema(&schema_name)?;
    let keys = key_columns(
        cx,
        &on,
        &stream.schema,
        &right,
        &format!("`{schema_name}`"),
        "join on a column that both the stream and the table have",
    );
    ok &= keys.is_some();
    let (left_key, right_key, key_schema) = keys.unwrap_or_default();
    // the table's columns but its keys (by name, so that a key already reported above
    // is not reported again as a second column)
    let right_out: Vec<usize> = (0..right.len())
        .filter(|&r| !on.iter().any(|k| *k == right[r].name))
        .collect();
    let mut output = stream.schema.clone();
    for &r in &right_out {
        let column = &right[r];
        if output.iter().any(|c| c.name == column.name) {
            cx.cx.error(
                schema_name.span(),
                format!("the join gives two columns named `{}`", column.name),
                format!(
                    "rename the stream's one first: `.with_column_renamed({0}, other_{0})`",
                    column.name
                ),
            );
            ok = false;
            continue;
        }
        output.push(Column {
            name: column.name.clone(),
            ty: ColType {
                ty: column.ty.ty,
                nullable: column.ty.nullable || left_outer,
            },
        });
    }
    let (true, Some(side)) = (ok, side) else {
        return None;
    };
    let index = cx.joins.len();
    let key_row = cx.internal_row(key_schema, format!("JoinKey{index}"), RowRole::Key);
    cx.joins.push(JoinPlan {
        table: side,
        right,
        right_key,
        left_outer,
        key_row,
    });
    let op = TypedOp::Join {
        join: index,
        input: stream.schema.clone(),
        output: output.clone(),
        left_key,
        left_out: (0..stream.schema.len()).collect(),
        right_out,
    };
    Some(super::push(stream, op, output))
}

/// The key columns `on` of a join, in the stream (`left`) and in the other side
/// (`right`, named `right_name` in errors), and the key struct's schema (nullable
/// columns of the keys' type). Each key must be in both, by name, with the same type,
/// and not be an opaque column. `None` after an error (every key is checked first).
pub(crate) fn key_columns(
    cx: &mut Checker,
    on: &[syn::Ident],
    left: &Schema,
    right: &Schema,
    right_name: &str,
    missing_help: &str,
) -> Option<(Vec<usize>, Vec<usize>, Schema)> {
    let mut ok = true;
    let mut left_key = Vec::new();
    let mut right_key = Vec::new();
    let mut key_schema = Schema::new();
    for key in on {
        let name = key.to_string();
        let l = left.iter().position(|c| c.name == name);
        let r = right.iter().position(|c| c.name == name);
        let (Some(l), Some(r)) = (l, r) else {
            let missing = if l.is_none() {
                "the stream"
            } else {
                right_name
            };
            cx.cx.error(
                key.span(),
                format!("no column `{name}` in {missing}"),
                missing_help,
            );
            ok = false;
            continue;
        };
        let (lt, rt) = (left[l].ty.ty, right[r].ty.ty);
        if lt != rt {
            cx.cx.error(
                key.span(),
                format!(
                    "cannot join on `{name}`: it is `{}` in the stream and `{}` in {right_name}",
                    lt.name(),
                    rt.name()
                ),
                "cast one side so that both have the same type",
            );
            ok = false;
            continue;
        }
        if lt.is_opaque() {
            cx.cx.error(
                key.span(),
                format!("cannot join on `{name}`: a `{}` is not a key", lt.name()),
                "join on numbers, strings, booleans, dates or timestamps",
            );
            ok = false;
            continue;
        }
        left_key.push(l);
        right_key.push(r);
        key_schema.push(Column {
            name,
            ty: ColType {
                ty: lt,
                nullable: true,
            },
        });
    }
    ok.then_some((left_key, right_key, key_schema))
}

/// The pipeline's field holding join `index`'s table.
pub(crate) fn field(index: usize) -> syn::Ident {
    format_ident!("__j{}", index)
}

/// The field's type and its value: the user's table, checked by rustc on its own tokens
/// as a `StaticTable` (or what converts into one).
pub(crate) fn field_and_init(
    index: usize,
    join: &JoinPlan,
    key: &TokenStream,
    right_schema: TokenStream,
) -> (TokenStream, TokenStream) {
    let field = field(index);
    let init = match &join.table {
        StaticSide::Capture(block) => {
            let span: Span = block.span();
            // the expression inside the braces: `Into::into({x})` would warn (`unused_braces`)
            let table = crate::codegen::capture_inner(&OptionValue::Capture(block.clone()));
            let value = quote_spanned! {span=>
                ::core::convert::Into::<::stream_core::StaticTable>::into(#table)
            };
            quote!(::stream_core::__private::JoinTable::new(#value, #right_schema))
        }
        StaticSide::File {
            format,
            path,
            options,
            span,
        } => {
            let path = crate::codegen::capture_inner(path);
            let calls = options.iter().map(|o| &o.0);
            let format = syn::Ident::new(format.as_str(), *span);
            // named at the call site: the user's `read` span may carry another hygiene
            let schema = syn::Ident::new("__schema", Span::call_site());
            let files = quote_spanned! {*span=>
                ::stream_core::FileSource::#format(#path, ::core::clone::Clone::clone(&#schema)) #(#calls)*
            };
            quote! {{
                let #schema: ::stream_core::__private::arrow_schema::SchemaRef = #right_schema;
                ::stream_core::__private::JoinTable::from_file(#files, #schema)
            }}
        }
    };
    (
        quote!(#field: ::stream_core::__private::JoinTable<#key>),
        quote!(#field: #init),
    )
}

/// What the pipeline checks of join `index` when the query starts: a table of files
/// is read then (a file that does not match the schema stops the start).
pub(crate) fn start_check(index: usize, join: &JoinPlan) -> Option<TokenStream> {
    let field = field(index);
    matches!(join.table, StaticSide::File { .. }).then(|| quote!(self.#field.load()))
}

/// The columns a join step reads and outputs in one branch (`TypedOp::Join`'s).
pub(crate) struct JoinColumns<'a> {
    /// The key columns in the step's input.
    pub(crate) left_key: &'a [usize],
    /// The input's columns in the output.
    pub(crate) left_out: &'a [usize],
    /// The table's columns in the output.
    pub(crate) right_out: &'a [usize],
}

/// The code of a join step over `__batch`; `key_schema` is the key struct's columns and
/// `schema` the output schema's index in the pipeline's `__schemas`. The left keys are
/// read in place into one scratch key (as an aggregation's map side does), so a string
/// key costs no allocation per row. Only the columns of `step` are taken into the
/// output.
pub(crate) fn emit(
    index: usize,
    join: &JoinPlan,
    step: &JoinColumns<'_>,
    key: &TokenStream,
    key_schema: &Schema,
    schema: usize,
) -> TokenStream {
    let field = field(index);
    let typed = quote!(::stream_core::types::TypedRow);
    let right_key = &join.right_key;
    let (left_key, left_out, right_out) = (step.left_key, step.left_out, step.right_out);
    let left_outer = join.left_outer;
    let columns: Vec<KeyColumn> = key_schema
        .iter()
        .enumerate()
        .map(|(n, column)| {
            let value = column.ty.ty.value();
            KeyColumn {
                reader: format_ident!("__kr{}", n),
                column: column.name.clone(),
                field: crate::codegen::rows::field_ident(&column.name),
                ty: quote!(::core::option::Option<#value>),
            }
        })
        .collect();
    let readers = key_columns::readers(&columns, &quote!(&__batch), &format!("JoinKey{index}"));
    let reads = key_columns::reuse(&columns);
    let fields = key_columns::fields(&columns);
    quote! {
        let __index = self.#field.index(&[#(#right_key),*], |__right| <#key as #typed>::from_batch(__right))?;
        #(#readers)*
        let mut __scratch: ::core::option::Option<#key> = ::core::option::Option::None;
        __index.probe_with(
            &__batch,
            &[#(#left_key),*],
            #left_outer,
            &[#(#left_out),*],
            &[#(#right_out),*],
            &self.__schemas[#schema],
            |__i| {
                let __key = match &mut __scratch {
                    ::core::option::Option::Some(__s) => {
                        #(#reads)*
                        __s
                    }
                    ::core::option::Option::None => __scratch.insert(#key { #(#fields),* }),
                };
                ::core::result::Result::Ok(__index.rows(__key))
            },
        )?
    }
}
