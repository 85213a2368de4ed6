//! The operators of a chain: `.filter(..)`, `.select(..)`, `.write(..)`, ...

use proc_macro2::{Span, TokenStream, TokenTree};
use syn::parse::{Parse, ParseStream};
use syn::{Ident, parenthesized};

use super::{Expr, OptionArg, OptionValue, parse_kind_and_options};

/// `.name(args)` with the arguments read as that operator takes them.
pub(crate) struct OpCall {
    pub(crate) name: Ident,
    pub(crate) op: Op,
    /// The first and last token inside the parentheses (the condition of a filter).
    pub(crate) args: (Span, Span),
}

/// An operator and its arguments.
pub(crate) enum Op {
    Filter(Expr),
    Select(Vec<SelectItem>),
    WithColumn(Ident, Expr),
    WithColumnRenamed(Ident, Ident),
    Drop(Vec<Ident>),
    /// `map(Out, f)` (`flat: false`) or `flat_map(Out, f)`: a Rust closure or fn over
    /// the rows, returning rows of schema `Out` (one, or an iterator of them).
    Map {
        flat: bool,
        output: Ident,
        f: syn::Expr,
    },
    Union(Ident),
    /// `join({table}, schema = Region, on = key, how = inner | left)` or
    /// `join(read(parquet, path = "..", schema = Region), on = key, ..)`: each row with
    /// the rows of a static table whose key columns are equal.
    Join {
        table: StaticArg,
        options: Vec<OptionArg>,
    },
    /// `join(other, on = key, within = "10 seconds")`: a stream–stream join of each row
    /// with the rows of the stream `other` whose `on` columns are equal.
    StreamJoin {
        other: Ident,
        options: Vec<OptionArg>,
    },
    /// `with_watermark(column, "10 minutes")`.
    WithWatermark(Ident, OptionValue),
    /// `group_by(keys..)`: must be followed by `agg`.
    GroupBy(Vec<SelectItem>),
    /// `agg(aggregates..)`.
    Agg(Vec<SelectItem>),
    /// `drop_duplicates(cols..)` (`within: false`) or
    /// `drop_duplicates_within_watermark(cols..)`.
    DropDuplicates {
        within: bool,
        cols: Vec<Ident>,
    },
    /// `order_by(keys..)` or `sort(keys..)`: each key a column, `asc(col)`, `desc(col)`
    /// or one of the `_nulls_first` / `_nulls_last` forms; checked in `ops/sort.rs`.
    OrderBy(Vec<syn::Expr>),
    /// `limit(n)`: checked in `ops/limit.rs`.
    Limit(syn::Expr),
    Write(Ident, Vec<OptionArg>),
    /// `late_rows(kind, options..)`: a second sink, as `write` takes it, for the rows
    /// the stateful operator drops as late.
    LateRows(Ident, Vec<OptionArg>),
    /// `output_mode(append | update | complete)`; read as an option value, so that a
    /// capture gets an error that says why the mode must be written out.
    OutputMode(OptionValue),
    /// `watermark_policy(min | max)`: how several watermarks make the query's.
    WatermarkPolicy(OptionValue),
    Trigger(TriggerSpec),
    Checkpoint(OptionValue),
    QueryName(OptionValue),
}

/// The static side of `join`: a captured `StaticTable`, or files read when the query
/// starts.
pub(crate) enum StaticArg {
    Capture(syn::ExprBlock),
    Read(super::ReadCall),
}

/// An expression of `select`, with its `as` alias.
pub(crate) struct SelectItem {
    pub(crate) expr: Expr,
    pub(crate) alias: Option<Ident>,
    /// The first and last token of the expression (before `as`).
    pub(crate) range: (Span, Span),
}

/// What `.trigger(..)` names (checked into a `plan::Trigger`).
pub(crate) enum TriggerSpec {
    Default,
    Once,
    AvailableNow,
    /// `processing_time(..)`: its interval, not checked yet.
    ProcessingTime(OptionValue),
    /// `trigger({value})`: a captured `stream_core::Trigger`.
    Capture(syn::ExprBlock),
}

/// The operator names, for errors and suggestions.
pub(crate) const OPERATORS: &[&str] = &[
    "filter",
    "where_",
    "select",
    "with_column",
    "with_column_renamed",
    "drop",
    "map",
    "flat_map",
    "union",
    "join",
    "with_watermark",
    "group_by",
    "agg",
    "drop_duplicates",
    "drop_duplicates_within_watermark",
    "order_by",
    "sort",
    "limit",
    "write",
    "late_rows",
    "output_mode",
    "watermark_policy",
    "trigger",
    "checkpoint",
    "query_name",
];

/// How each operator is written, for the help line of a malformed call.
fn usage(op: &str) -> &'static str {
    match op {
        "filter" => "filter(amount > 10.0)",
        "where_" => "where_(amount > 10.0)",
        "select" => "select(user, amount * 2.0 as doubled)",
        "with_column" => "with_column(total, amount * qty)",
        "with_column_renamed" => "with_column_renamed(old_name, new_name)",
        "drop" => "drop(column, other_column)",
        "map" => "map(Enriched, |row| Enriched { user: row.user, total: row.amount * 2.0 })",
        "flat_map" => {
            "flat_map(Word, |line| line.text.split(' ').map(|w| Word { word: w.to_string() }).collect::<Vec<_>>())"
        }
        "union" => "union(other_stream)",
        "join" => "join({regions}, schema = Region, on = country, how = left)",
        "with_watermark" => "with_watermark(ts, \"10 minutes\")",
        "group_by" => "group_by(window(ts, \"1 minute\"), country)",
        "agg" => "agg(count() as n, sum(amount) as total)",
        "drop_duplicates" => "drop_duplicates(user, ts)",
        "drop_duplicates_within_watermark" => "drop_duplicates_within_watermark(user)",
        "order_by" => "order_by(desc(n), country)",
        "sort" => "sort(desc(n), country)",
        "limit" => "limit(10)",
        "write" => "write(console, num_rows = 20)",
        "late_rows" => "late_rows(memory, name = \"late\")",
        "output_mode" => "output_mode(append)",
        "watermark_policy" => "watermark_policy(min)",
        "trigger" => "trigger(processing_time(\"10 seconds\"))",
        "checkpoint" => "checkpoint(\"checkpoints/q\")",
        "query_name" => "query_name(\"q\")",
        _ => "name(arguments)",
    }
}

/// The first and last span of `tokens`, or `fallback` when there are none.
pub(crate) fn token_range(tokens: &TokenStream, fallback: Span) -> (Span, Span) {
    let mut iter = tokens.clone().into_iter();
    let first = iter.next().map_or(fallback, |t| t.span());
    let last = iter.last().map_or(first, |t| t.span());
    (first, last)
}

/// Adds the operator's usage as a help line to an error that has none.
fn with_usage(error: syn::Error, op: &str) -> syn::Error {
    let message = error.to_string();
    if message.contains("= help:") {
        return error;
    }
    syn::Error::new(
        error.span(),
        format!(
            "{message} in `{op}(..)`\n\n= help: write it as `{}`",
            usage(op)
        ),
    )
}

impl Parse for OpCall {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        // `where` is a Rust keyword, which no identifier can be
        if input.peek(syn::Token![where]) {
            let kw = input.parse::<syn::Token![where]>()?;
            let args = if input.peek(syn::token::Paren) {
                let content;
                parenthesized!(content in input);
                super::habits::show(&content.parse()?)
            } else {
                "..".to_string()
            };
            return Err(syn::Error::new(
                kw.span,
                format!(
                    "`where` is a Rust keyword, so no operator of a `stream!` block can be called `where`\n\n= help: write `.filter({args})`, Spark's other name for `where` (or `.where_({args})`)"
                ),
            ));
        }
        let name: Ident = input.parse()?;
        let op_name = name.to_string();
        if !OPERATORS.contains(&op_name.as_str()) {
            let help = match crate::diag::did_you_mean(&op_name, OPERATORS.iter().copied()) {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!("the operators are: {}", OPERATORS.join(", ")),
            };
            return Err(syn::Error::new(
                name.span(),
                format!("unknown operator `{op_name}`\n\n= help: {help}"),
            ));
        }
        if !input.peek(syn::token::Paren) {
            return Err(syn::Error::new(
                name.span(),
                format!(
                    "`{op_name}` takes its arguments in parentheses\n\n= help: write it as `{}`",
                    usage(&op_name)
                ),
            ));
        }
        let content;
        let paren = parenthesized!(content in input);
        let tokens: TokenStream = content.fork().parse()?;
        let args = token_range(&tokens, paren.span.join());
        // arguments that do not parse may hold a Spark or SQL habit: say what to write
        let habit = |e: syn::Error| {
            if super::habits::EXPRESSION_OPERATORS.contains(&op_name.as_str()) {
                super::habits::spot(&op_name, &tokens).unwrap_or(e)
            } else {
                e
            }
        };
        let op = parse_args(&op_name, &content).map_err(|e| habit(with_usage(e, &op_name)))?;
        if !content.is_empty() {
            if content.peek(syn::Token![,]) {
                content.parse::<syn::Token![,]>()?;
            }
            let span = content
                .cursor()
                .token_tree()
                .map_or(args.1, |(t, _)| t.span());
            return Err(habit(syn::Error::new(
                span,
                format!(
                    "unexpected argument in `{op_name}(..)`\n\n= help: write it as `{}`",
                    usage(&op_name)
                ),
            )));
        }
        Ok(OpCall { name, op, args })
    }
}

/// The arguments of operator `name`, read as it takes them.
fn parse_args(name: &str, content: ParseStream<'_>) -> syn::Result<Op> {
    Ok(match name {
        "filter" | "where_" => Op::Filter(Expr::from_syn(content.parse()?)?),
        "select" => Op::Select(parse_select(content.parse()?)?),
        "with_column" => {
            let column: Ident = content.parse()?;
            content.parse::<syn::Token![,]>()?;
            Op::WithColumn(column, Expr::from_syn(content.parse()?)?)
        }
        "with_column_renamed" => {
            let from: Ident = content.parse()?;
            content.parse::<syn::Token![,]>()?;
            let to: Ident = content.parse()?;
            Op::WithColumnRenamed(from, to)
        }
        "drop" => Op::Drop(
            syn::punctuated::Punctuated::<Ident, syn::Token![,]>::parse_terminated(content)?
                .into_iter()
                .collect(),
        ),
        "map" | "flat_map" => {
            let output: Ident = content.parse()?;
            content.parse::<syn::Token![,]>()?;
            Op::Map {
                flat: name == "flat_map",
                output,
                f: content.parse()?,
            }
        }
        "union" => Op::Union(content.parse()?),
        "join" => {
            // a `{ .. }` block is a static table; a name is a stream of the block
            enum With {
                Table(StaticArg),
                Stream(Ident),
            }
            let with = if content.peek(syn::token::Brace) {
                With::Table(StaticArg::Capture(content.parse()?))
            } else if content.peek(super::kw::read) && content.peek2(syn::token::Paren) {
                With::Table(StaticArg::Read(content.parse()?))
            } else {
                With::Stream(content.parse()?)
            };
            let mut options = Vec::new();
            while content.peek(syn::Token![,]) {
                content.parse::<syn::Token![,]>()?;
                if content.is_empty() {
                    break;
                }
                options.push(content.parse()?);
            }
            match with {
                With::Table(table) => Op::Join { table, options },
                With::Stream(other) => Op::StreamJoin { other, options },
            }
        }
        "with_watermark" => {
            let column: Ident = content.parse()?;
            content.parse::<syn::Token![,]>()?;
            Op::WithWatermark(column, content.parse()?)
        }
        "group_by" => Op::GroupBy(parse_select(content.parse()?)?),
        "agg" => Op::Agg(parse_select(content.parse()?)?),
        "drop_duplicates" | "drop_duplicates_within_watermark" => Op::DropDuplicates {
            within: name == "drop_duplicates_within_watermark",
            cols: syn::punctuated::Punctuated::<Ident, syn::Token![,]>::parse_terminated(content)?
                .into_iter()
                .collect(),
        },
        "order_by" | "sort" => Op::OrderBy(
            syn::punctuated::Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated(content)?
                .into_iter()
                .collect(),
        ),
        "limit" => Op::Limit(content.parse()?),
        "write" => {
            let (kind, options) = parse_kind_and_options(content)?;
            Op::Write(kind, options)
        }
        "late_rows" => {
            let (kind, options) = parse_kind_and_options(content)?;
            Op::LateRows(kind, options)
        }
        "output_mode" => Op::OutputMode(content.parse()?),
        "watermark_policy" => Op::WatermarkPolicy(content.parse()?),
        "trigger" => Op::Trigger(content.parse()?),
        "checkpoint" => Op::Checkpoint(content.parse()?),
        _ => Op::QueryName(content.parse()?),
    })
}

impl Parse for TriggerSpec {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        if input.peek(syn::token::Brace) {
            return input.parse().map(TriggerSpec::Capture);
        }
        let name: Ident = input.parse()?;
        let span = name.span();
        match name.to_string().as_str() {
            "default" => Ok(TriggerSpec::Default),
            "once" => Ok(TriggerSpec::Once),
            "available_now" => Ok(TriggerSpec::AvailableNow),
            "processing_time" => {
                let content;
                parenthesized!(content in input);
                Ok(TriggerSpec::ProcessingTime(content.parse()?))
            }
            other => Err(syn::Error::new(
                span,
                format!(
                    "unknown trigger `{other}`\n\n= help: use `default`, `once`, `available_now` or `processing_time(\"10 seconds\")`, or capture a `stream_core::Trigger`: `trigger({{trigger}})`"
                ),
            )),
        }
    }
}

/// Parses `tokens` as one expression; an error at their end points at `end` (the last
/// token) rather than at the whole macro.
fn parse_expr(tokens: TokenStream, end: Span) -> syn::Result<Expr> {
    let mut group = proc_macro2::Group::new(proc_macro2::Delimiter::Parenthesis, tokens);
    group.set_span(end);
    let parser = |input: ParseStream<'_>| -> syn::Result<syn::Expr> {
        let content;
        parenthesized!(content in input);
        let expr = content.parse()?;
        if !content.is_empty() {
            return Err(content.error("unexpected tokens after the expression"));
        }
        Ok(expr)
    };
    Expr::from_syn(syn::parse::Parser::parse2(
        parser,
        TokenStream::from(TokenTree::Group(group)),
    )?)
}

/// Splits `a, b * 2 as c` at top-level commas; a trailing `as name` is an alias.
fn parse_select(tokens: TokenStream) -> syn::Result<Vec<SelectItem>> {
    let mut items = Vec::new();
    let mut current: Vec<TokenTree> = Vec::new();
    let mut flush = |current: &mut Vec<TokenTree>| -> syn::Result<()> {
        if current.is_empty() {
            return Ok(());
        }
        let mut alias = None;
        let n = current.len();
        if n >= 3
            && let (TokenTree::Ident(kw), TokenTree::Ident(name)) =
                (&current[n - 2], &current[n - 1])
            && kw == "as"
            && crate::types::DslType::from_name(&name.to_string()).is_none()
        {
            alias = Some(name.clone());
            current.truncate(n - 2);
        }
        let tokens: TokenStream = current.drain(..).collect();
        let range = token_range(&tokens, Span::call_site());
        let expr = parse_expr(tokens, range.1)?;
        items.push(SelectItem { expr, alias, range });
        Ok(())
    };
    for tt in tokens {
        match &tt {
            TokenTree::Punct(p) if p.as_char() == ',' => flush(&mut current)?,
            _ => current.push(tt),
        }
    }
    flush(&mut current)?;
    Ok(items)
}
