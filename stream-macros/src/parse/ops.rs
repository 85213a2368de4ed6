//! The operators of a chain: `.filter(..)`, `.select(..)`, `.write(..)`, ...

use proc_macro2::{Span, TokenStream, TokenTree};
use syn::parse::{Parse, ParseStream};
use syn::{Ident, parenthesized};

use super::{Expr, OptionArg, OptionValue, parse_kind_and_options};

/// `.name(args)` with the arguments read as that operator takes them.
pub(crate) struct OpCall {
    pub(crate) name: Ident,
    pub(crate) op: Op,
}

/// An operator and its arguments.
pub(crate) enum Op {
    Filter(Expr),
    Select(Vec<SelectItem>),
    WithColumn(Ident, Expr),
    WithColumnRenamed(Ident, Ident),
    Drop(Vec<Ident>),
    Union(Ident),
    Write(Ident, Vec<OptionArg>),
    OutputMode(Ident),
    Trigger(TriggerSpec),
    Checkpoint(OptionValue),
    QueryName(OptionValue),
}

/// An expression of `select`, with its `as` alias.
pub(crate) struct SelectItem {
    pub(crate) expr: Expr,
    pub(crate) alias: Option<Ident>,
}

/// What `.trigger(..)` names.
pub(crate) enum TriggerSpec {
    Default(Span),
    Once(Span),
    AvailableNow(Span),
    ProcessingTime(Span, OptionValue),
}

/// The operator names, for errors and suggestions.
pub(crate) const OPERATORS: &[&str] = &[
    "filter",
    "where_",
    "select",
    "with_column",
    "with_column_renamed",
    "drop",
    "union",
    "write",
    "output_mode",
    "trigger",
    "checkpoint",
    "query_name",
];

impl Parse for OpCall {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let name: Ident = input.parse()?;
        let content;
        parenthesized!(content in input);
        let op = match name.to_string().as_str() {
            "filter" | "where_" => Op::Filter(parse_expr(content.parse()?)?),
            "select" => Op::Select(parse_select(content.parse()?)?),
            "with_column" => {
                let column: Ident = content.parse()?;
                content.parse::<syn::Token![,]>()?;
                Op::WithColumn(column, parse_expr(content.parse()?)?)
            }
            "with_column_renamed" => {
                let from: Ident = content.parse()?;
                content.parse::<syn::Token![,]>()?;
                let to: Ident = content.parse()?;
                Op::WithColumnRenamed(from, to)
            }
            "drop" => Op::Drop(
                syn::punctuated::Punctuated::<Ident, syn::Token![,]>::parse_terminated(&content)?
                    .into_iter()
                    .collect(),
            ),
            "union" => Op::Union(content.parse()?),
            "write" => {
                let (kind, options) = parse_kind_and_options(&content)?;
                Op::Write(kind, options)
            }
            "output_mode" => Op::OutputMode(content.parse()?),
            "trigger" => Op::Trigger(content.parse()?),
            "checkpoint" => Op::Checkpoint(content.parse()?),
            "query_name" => Op::QueryName(content.parse()?),
            other => {
                let help = match crate::diag::did_you_mean(other, OPERATORS.iter().copied()) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => format!("the operators are: {}", OPERATORS.join(", ")),
                };
                return Err(syn::Error::new(
                    name.span(),
                    format!("unknown operator `{other}`\n\n= help: {help}"),
                ));
            }
        };
        if !content.is_empty() {
            return Err(content.error(format!("unexpected tokens in `{name}(..)`")));
        }
        Ok(OpCall { name, op })
    }
}

impl Parse for TriggerSpec {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let name: Ident = input.parse()?;
        let span = name.span();
        match name.to_string().as_str() {
            "default" => Ok(TriggerSpec::Default(span)),
            "once" => Ok(TriggerSpec::Once(span)),
            "available_now" => Ok(TriggerSpec::AvailableNow(span)),
            "processing_time" => {
                let content;
                parenthesized!(content in input);
                Ok(TriggerSpec::ProcessingTime(span, content.parse()?))
            }
            other => Err(syn::Error::new(
                span,
                format!(
                    "unknown trigger `{other}`\n\n= help: use `default`, `once`, `available_now` or `processing_time(\"10 seconds\")`"
                ),
            )),
        }
    }
}

fn parse_expr(tokens: TokenStream) -> syn::Result<Expr> {
    Expr::from_syn(syn::parse2(tokens)?)
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
        if n >= 3 {
            if let (TokenTree::Ident(kw), TokenTree::Ident(name)) =
                (&current[n - 2], &current[n - 1])
            {
                if kw == "as" && crate::types::DslType::from_name(&name.to_string()).is_none() {
                    alias = Some(name.clone());
                    current.truncate(n - 2);
                }
            }
        }
        let expr = parse_expr(current.drain(..).collect())?;
        items.push(SelectItem { expr, alias });
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
