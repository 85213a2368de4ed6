//! The grammar of a `stream!` block: one syn type per DSL node.
//!
//! ```text
//! block     := item*
//! item      := schema | let | chain ';'?
//! schema    := 'schema' Name '{' (field ':' type),* '}'
//!            | 'schema' Name '=' path ';'?      (a struct with `#[derive(Schema)]`)
//!            | 'schema' Name '=' 'file' '(' "path" ')' ';'?   (Spark's schema JSON)
//! fields    := '@fields' Name '{' (field ':' type),* '}'   (internal: the derive's callback)
//! type      := bool | i32 | i64 | f32 | f64 | string | binary | date
//!            | timestamp_ms | timestamp_us | Option<type>
//! let       := 'let' name '=' chain ';'
//! chain     := head ('.' op '(' args ')')*
//! head      := name | 'read' '(' kind (',' option)* ')'
//! option    := name '=' (literal | name | '[' name,* ']' | '{' rust expression '}')
//! ```

mod expr;
mod habits;
mod ops;

use proc_macro2::{Span, TokenStream};
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Ident, Token, braced, parenthesized};

pub(crate) use expr::{BinOp, Expr, UnOp};
pub(crate) use habits::show as show_tokens;
pub(crate) use ops::{Op, OpCall, SelectItem, StaticArg, TriggerSpec};

mod kw {
    syn::custom_keyword!(schema);
    syn::custom_keyword!(read);
    syn::custom_keyword!(file);
}

/// The whole block.
pub(crate) struct Block {
    pub(crate) items: Vec<Item>,
}

/// A top-level item.
pub(crate) enum Item {
    Schema(SchemaDecl),
    Let(LetStream),
    Query(Chain),
}

/// `schema Event { ts: timestamp_ms, user: string, amount: Option<f64> }`, or
/// `schema Event = path::to::Event;`
pub(crate) struct SchemaDecl {
    pub(crate) name: Ident,
    pub(crate) fields: Vec<FieldDecl>,
    /// The struct of `schema Event = path::to::Event;` (`None` for an inline schema).
    pub(crate) derived: Option<DerivedSchema>,
    /// The file of `schema Event = file("schemas/event.json");`, read when checking.
    pub(crate) file: Option<syn::LitStr>,
}

/// A schema taken from a struct with `#[derive(Schema)]`: its fields come into the block
/// as `@fields Event { .. }`, put there by the struct's callback macro (see `derive.rs`).
pub(crate) struct DerivedSchema {
    pub(crate) path: syn::Path,
    /// Whether the callback has put the fields in already.
    pub(crate) injected: bool,
}

impl Block {
    /// Whether a chain of the block writes to a memory sink.
    pub(crate) fn writes_memory(&self) -> bool {
        self.items.iter().any(|item| {
            let chain = match item {
                Item::Let(l) => &l.chain,
                Item::Query(c) => c,
                Item::Schema(_) => return false,
            };
            chain
                .ops
                .iter()
                .any(|call| matches!(&call.op, ops::Op::Write(kind, _) if kind == "memory"))
        })
    }

    /// The `let` streams that no chain of the block names (as its head, or in `union` or
    /// `join`), but those whose name starts with `_`, as rustc leaves such variables be.
    pub(crate) fn unused_lets(&self) -> Vec<&Ident> {
        let mut used: Vec<&Ident> = Vec::new();
        for item in &self.items {
            let chain = match item {
                Item::Let(l) => &l.chain,
                Item::Query(c) => c,
                Item::Schema(_) => continue,
            };
            if let Head::Stream(name) = &chain.head {
                used.push(name);
            }
            for call in &chain.ops {
                match &call.op {
                    ops::Op::Union(other) | ops::Op::StreamJoin { other, .. } => used.push(other),
                    _ => {}
                }
            }
        }
        self.items
            .iter()
            .filter_map(|item| match item {
                Item::Let(l) => Some(&l.name),
                _ => None,
            })
            .filter(|name| !name.to_string().starts_with('_') && !used.contains(name))
            .collect()
    }

    /// The first schema taken from a struct whose fields are not in the block yet.
    pub(crate) fn pending_derived(&self) -> Option<(&Ident, &syn::Path)> {
        self.items.iter().find_map(|item| match item {
            Item::Schema(SchemaDecl {
                name,
                derived: Some(d),
                ..
            }) if !d.injected => Some((name, &d.path)),
            _ => None,
        })
    }
}

/// `@fields Event { user: string, .. }`: the fields of a derived schema, from its callback.
struct InjectedFields {
    at: Span,
    name: Ident,
    fields: Vec<FieldDecl>,
}

impl Parse for InjectedFields {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let at = input.parse::<Token![@]>()?.span;
        let kw: Ident = input.parse()?;
        if kw != "fields" {
            return Err(syn::Error::new(
                at,
                "unexpected `@`\n\n= help: a block holds `schema`, `let` and streams",
            ));
        }
        let name: Ident = input.parse()?;
        let content;
        braced!(content in input);
        let fields = Punctuated::<FieldDecl, Token![,]>::parse_terminated(&content)?;
        Ok(InjectedFields {
            at,
            name,
            fields: fields.into_iter().collect(),
        })
    }
}

/// `amount: Option<f64>`
pub(crate) struct FieldDecl {
    pub(crate) name: Ident,
    pub(crate) ty: TypeDecl,
}

/// A type as written: its base name and whether it was wrapped in `Option<..>`.
#[derive(Clone)]
pub(crate) struct TypeDecl {
    pub(crate) base: Ident,
    pub(crate) nullable: bool,
}

/// `let big = events.filter(amount > 50.0);`
pub(crate) struct LetStream {
    pub(crate) name: Ident,
    pub(crate) chain: Chain,
}

/// A stream expression: where it starts and the operators applied to it.
pub(crate) struct Chain {
    pub(crate) head: Head,
    pub(crate) ops: Vec<OpCall>,
}

/// Where a chain starts.
pub(crate) enum Head {
    Stream(Ident),
    Read(ReadCall),
}

/// `read(json, path = "landing", schema = Event)`
pub(crate) struct ReadCall {
    pub(crate) kw: Span,
    pub(crate) kind: Ident,
    pub(crate) options: Vec<OptionArg>,
}

/// `name = value` in `read(..)` and `write(..)`.
pub(crate) struct OptionArg {
    pub(crate) name: Ident,
    pub(crate) value: OptionValue,
}

/// The value of an option.
#[derive(Clone)]
pub(crate) enum OptionValue {
    Lit(syn::Lit),
    Name(Ident),
    /// `[a, b]`: column names (`partition_by`).
    List(syn::token::Bracket, Vec<Ident>),
    Capture(syn::ExprBlock),
}

impl OptionValue {
    pub(crate) fn span(&self) -> Span {
        match self {
            OptionValue::Lit(l) => l.span(),
            OptionValue::Name(i) => i.span(),
            OptionValue::List(bracket, _) => bracket.span.join(),
            OptionValue::Capture(b) => b.block.brace_token.span.join(),
        }
    }
}

impl Parse for Block {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut items = Vec::new();
        let mut injected = Vec::new();
        while !input.is_empty() {
            if input.peek(Token![@]) {
                injected.push(input.parse::<InjectedFields>()?);
                continue;
            }
            items.push(input.parse()?);
        }
        for fields in injected {
            let decl = items.iter_mut().find_map(|item| match item {
                Item::Schema(decl)
                    if decl.name == fields.name
                        && decl.derived.as_ref().is_some_and(|d| !d.injected) =>
                {
                    Some(decl)
                }
                _ => None,
            });
            let Some(decl) = decl else {
                return Err(syn::Error::new(
                    fields.at,
                    format!(
                        "`@fields` is put in by `#[derive(Schema)]`\n\n= help: name the struct instead: `schema {} = path::to::{};`",
                        fields.name, fields.name
                    ),
                ));
            };
            decl.fields = fields.fields;
            if let Some(d) = &mut decl.derived {
                d.injected = true;
            }
        }
        Ok(Block { items })
    }
}

impl Parse for Item {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        if input.peek(kw::schema) {
            return input.parse().map(Item::Schema);
        }
        if input.peek(Token![let]) {
            return input.parse().map(Item::Let);
        }
        let chain: Chain = input.parse()?;
        if input.peek(Token![;]) {
            input.parse::<Token![;]>()?;
        }
        Ok(Item::Query(chain))
    }
}

impl Parse for SchemaDecl {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        input.parse::<kw::schema>()?;
        let name: Ident = input.parse()?;
        if input.peek(Token![=]) {
            input.parse::<Token![=]>()?;
            if input.peek(kw::file) && input.peek2(syn::token::Paren) {
                input.parse::<kw::file>()?;
                let content;
                parenthesized!(content in input);
                let file: syn::LitStr = content.parse().map_err(|e| {
                    syn::Error::new(
                        e.span(),
                        "`file(..)` takes the path of a schema file, as a string\n\n= help: write `schema Event = file(\"schemas/event.json\");`",
                    )
                })?;
                if input.peek(Token![;]) {
                    input.parse::<Token![;]>()?;
                }
                return Ok(SchemaDecl {
                    name,
                    fields: Vec::new(),
                    derived: None,
                    file: Some(file),
                });
            }
            let path: syn::Path = input.parse()?;
            if let Some(seg) = path.segments.iter().find(|s| !s.arguments.is_empty()) {
                return Err(syn::Error::new_spanned(
                    &seg.arguments,
                    "a schema struct has no generic arguments\n\n= help: name the struct alone: `schema Event = path::to::Event;`",
                ));
            }
            if input.peek(Token![;]) {
                input.parse::<Token![;]>()?;
            }
            return Ok(SchemaDecl {
                name,
                fields: Vec::new(),
                derived: Some(DerivedSchema {
                    path,
                    injected: false,
                }),
                file: None,
            });
        }
        let content;
        braced!(content in input);
        let fields = Punctuated::<FieldDecl, Token![,]>::parse_terminated(&content)?;
        Ok(SchemaDecl {
            name,
            fields: fields.into_iter().collect(),
            derived: None,
            file: None,
        })
    }
}

impl Parse for FieldDecl {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let name = input.call(Ident::parse_any_name)?;
        input.parse::<Token![:]>()?;
        Ok(FieldDecl {
            name,
            ty: input.parse()?,
        })
    }
}

trait ParseAnyName {
    fn parse_any_name(input: ParseStream<'_>) -> syn::Result<Ident>;
}

impl ParseAnyName for Ident {
    /// An identifier, keywords included (a column may be called `type`).
    fn parse_any_name(input: ParseStream<'_>) -> syn::Result<Ident> {
        use syn::ext::IdentExt;
        Ident::parse_any(input)
    }
}

impl Parse for TypeDecl {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let base: Ident = input.parse()?;
        if base == "Option" {
            input.parse::<Token![<]>()?;
            let inner: TypeDecl = input.parse()?;
            input.parse::<Token![>]>()?;
            if inner.nullable {
                return Err(syn::Error::new(
                    base.span(),
                    "`Option<Option<..>>` is not a column type\n\n= help: one `Option` makes a column nullable",
                ));
            }
            return Ok(TypeDecl {
                base: inner.base,
                nullable: true,
            });
        }
        Ok(TypeDecl {
            base,
            nullable: false,
        })
    }
}

impl Parse for LetStream {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        input.parse::<Token![let]>()?;
        let name: Ident = input.parse()?;
        input.parse::<Token![=]>()?;
        let chain: Chain = input.parse()?;
        input.parse::<Token![;]>()?;
        Ok(LetStream { name, chain })
    }
}

impl Parse for Chain {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let head = if input.peek(kw::read) && input.peek2(syn::token::Paren) {
            Head::Read(input.parse()?)
        } else {
            Head::Stream(input.parse()?)
        };
        let mut ops = Vec::new();
        while input.peek(Token![.]) {
            input.parse::<Token![.]>()?;
            ops.push(input.parse()?);
        }
        Ok(Chain { head, ops })
    }
}

impl Parse for ReadCall {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let kw = input.parse::<kw::read>()?.span;
        let content;
        parenthesized!(content in input);
        let (kind, options) = parse_kind_and_options(&content)?;
        Ok(ReadCall { kw, kind, options })
    }
}

/// `kind (, name = value)*` inside `read(..)` / `write(..)`.
pub(crate) fn parse_kind_and_options(
    input: ParseStream<'_>,
) -> syn::Result<(Ident, Vec<OptionArg>)> {
    let kind: Ident = input.parse()?;
    let mut options = Vec::new();
    while input.peek(Token![,]) {
        input.parse::<Token![,]>()?;
        if input.is_empty() {
            break;
        }
        options.push(input.parse()?);
    }
    Ok((kind, options))
}

impl Parse for OptionArg {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let name = input.call(Ident::parse_any_name)?;
        input.parse::<Token![=]>()?;
        Ok(OptionArg {
            name,
            value: input.parse()?,
        })
    }
}

impl Parse for OptionValue {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        if input.peek(syn::token::Brace) {
            return input.parse().map(OptionValue::Capture);
        }
        if input.peek(syn::Lit) {
            return input.parse().map(OptionValue::Lit);
        }
        if input.peek(syn::token::Bracket) {
            let content;
            let bracket = syn::bracketed!(content in input);
            let names = Punctuated::<Ident, Token![,]>::parse_terminated(&content)?;
            return Ok(OptionValue::List(bracket, names.into_iter().collect()));
        }
        input.parse().map(OptionValue::Name)
    }
}

/// Parses a whole block from tokens.
pub(crate) fn parse_block(tokens: TokenStream) -> syn::Result<Block> {
    syn::parse2(tokens)
}
