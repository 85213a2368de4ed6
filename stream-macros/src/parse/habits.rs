//! Spark's and SQL's ways of writing an expression that a `stream!` block writes
//! otherwise: `and`/`or`, `=`, `count(*)`, `col("x")`, `lit(1)`, `.alias(..)`.
//!
//! They are looked for only once an operator's arguments failed to parse (or to convert
//! into the DSL's expressions), so that a block that parses is never touched: the error
//! is then put on the first habit, with the arguments rewritten as the block writes
//! them as the help line.

use proc_macro2::{Delimiter, Group, Ident, Punct, Spacing, Span, TokenStream, TokenTree};

/// The operators whose arguments are expressions.
pub(crate) const EXPRESSION_OPERATORS: &[&str] = &[
    "filter",
    "where_",
    "select",
    "with_column",
    "group_by",
    "agg",
];

/// The error for the first Spark or SQL habit in `tokens` (the arguments of
/// `op(..)`), with the arguments rewritten; `None` when there is none.
pub(crate) fn spot(op: &str, tokens: &TokenStream) -> Option<syn::Error> {
    let mut first: Option<(Span, String)> = None;
    let rewritten = rewrite(tokens.clone(), &mut first);
    let (span, message) = first?;
    Some(syn::Error::new(
        span,
        format!("{message}\n\n= help: write `{op}({})`", show(&rewritten)),
    ))
}

/// Tokens as a person writes them: `count() as n`, `f(a, b)`, `x.y`, `a && b`.
pub(crate) fn show(tokens: &TokenStream) -> String {
    let mut out = String::new();
    let mut prev: Option<TokenTree> = None;
    // whether `prev` is the second character of a two-character operator (`::`, `&&`)
    let mut joint_before = false;
    for tree in tokens.clone() {
        let tight = match (&prev, &tree) {
            (None, _) => true,
            (_, TokenTree::Punct(p)) if matches!(p.as_char(), ',' | '.') => true,
            (Some(TokenTree::Punct(p)), _) if p.as_char() == '.' => true,
            (Some(TokenTree::Punct(p)), _) if p.spacing() == Spacing::Joint => true,
            // `a: T`, `a::b`, `&[T]`
            (_, TokenTree::Punct(p)) if p.as_char() == ':' => true,
            (Some(TokenTree::Punct(p)), _) if p.as_char() == ':' && joint_before => true,
            (Some(TokenTree::Punct(p)), _) if p.as_char() == '&' && !joint_before => true,
            (Some(TokenTree::Ident(_)), TokenTree::Group(g)) => {
                g.delimiter() == Delimiter::Parenthesis
            }
            _ => false,
        };
        if !tight {
            out.push(' ');
        }
        joint_before = matches!(&prev, Some(TokenTree::Punct(p)) if p.spacing() == Spacing::Joint)
            && matches!(&tree, TokenTree::Punct(_));
        match &tree {
            TokenTree::Group(g) => {
                let inner = show(&g.stream());
                match g.delimiter() {
                    Delimiter::Parenthesis => out.push_str(&format!("({inner})")),
                    Delimiter::Bracket => out.push_str(&format!("[{inner}]")),
                    Delimiter::Brace => out.push_str(&format!("{{ {inner} }}")),
                    Delimiter::None => out.push_str(&inner),
                }
            }
            other => out.push_str(&other.to_string()),
        }
        prev = Some(tree);
    }
    out
}

fn note(first: &mut Option<(Span, String)>, span: Span, message: &str) {
    if first.is_none() {
        *first = Some((span, message.to_string()));
    }
}

/// `tokens` with every habit replaced; the first one's span and message in `first`.
fn rewrite(tokens: TokenStream, first: &mut Option<(Span, String)>) -> TokenStream {
    let trees: Vec<TokenTree> = tokens.into_iter().collect();
    let mut out: Vec<TokenTree> = Vec::new();
    let mut i = 0;
    while i < trees.len() {
        let tree = &trees[i];
        let next = trees.get(i + 1);
        match tree {
            // `and` / `or` between two operands (a column may be called `and`)
            TokenTree::Ident(id) if i > 0 && next.is_some() && is_word(id, &["and", "or"]) => {
                let and = id.to_string().eq_ignore_ascii_case("and");
                let (symbol, message) = if and {
                    ("&&", "SQL's `and` is `&&` in a `stream!` expression")
                } else {
                    ("||", "SQL's `or` is `||` in a `stream!` expression")
                };
                note(first, id.span(), message);
                out.extend(joint(symbol, id.span()));
            }
            // `=` alone, not part of `==`, `<=`, `>=`, `!=` or `=>`
            TokenTree::Punct(p)
                if p.as_char() == '='
                    && p.spacing() == Spacing::Alone
                    && !matches!(out.last(), Some(TokenTree::Punct(q)) if q.spacing() == Spacing::Joint) =>
            {
                note(
                    first,
                    p.span(),
                    "`=` assigns in Rust: SQL's `=` is `==` in a `stream!` expression",
                );
                out.extend(joint("==", p.span()));
            }
            // `col("x")`, `column("x")`, `col(x)`: the column by its bare name
            TokenTree::Ident(id) if is_word(id, &["col", "column"]) && !after_dot(&out) => {
                if let Some(TokenTree::Group(g)) = next
                    && g.delimiter() == Delimiter::Parenthesis
                    && let Some(name) = column_name(g.stream())
                {
                    note(
                        first,
                        id.span(),
                        "a column is named by itself in a `stream!` expression, not with `col(..)`",
                    );
                    out.push(TokenTree::Ident(Ident::new(&name, id.span())));
                    i += 2;
                    continue;
                }
                out.push(tree.clone());
            }
            // `lit(1)`: a literal is written as it is
            TokenTree::Ident(id) if id == "lit" && !after_dot(&out) => {
                if let Some(TokenTree::Group(g)) = next
                    && g.delimiter() == Delimiter::Parenthesis
                    && g.stream().into_iter().count() == 1
                {
                    note(
                        first,
                        id.span(),
                        "a literal is written as it is in a `stream!` expression, not with `lit(..)`",
                    );
                    out.extend(rewrite(g.stream(), first));
                    i += 2;
                    continue;
                }
                out.push(tree.clone());
            }
            // `.alias(name)` / `.alias("name")` / `.name(..)`: `as name`
            TokenTree::Punct(p) if p.as_char() == '.' => {
                if let (Some(TokenTree::Ident(m)), Some(TokenTree::Group(g))) =
                    (next, trees.get(i + 2))
                    && (m == "alias" || m == "as_")
                    && g.delimiter() == Delimiter::Parenthesis
                    && let Some(name) = column_name(g.stream())
                {
                    note(
                        first,
                        m.span(),
                        "a `stream!` block names a column with `as`, not with `.alias(..)`",
                    );
                    out.push(TokenTree::Ident(Ident::new("as", m.span())));
                    out.push(TokenTree::Ident(Ident::new(&name, m.span())));
                    i += 3;
                    continue;
                }
                out.push(tree.clone());
            }
            TokenTree::Group(g) => {
                let inner: Vec<TokenTree> = g.stream().into_iter().collect();
                // `count(*)`: SQL's count of the rows
                let star = matches!(inner.as_slice(), [TokenTree::Punct(p)] if p.as_char() == '*');
                let mut group = if star {
                    note(
                        first,
                        inner[0].span(),
                        "`count(*)` is SQL's: `count()` counts the rows in a `stream!` block",
                    );
                    Group::new(g.delimiter(), TokenStream::new())
                } else {
                    Group::new(g.delimiter(), rewrite(g.stream(), first))
                };
                group.set_span(g.span());
                out.push(TokenTree::Group(group));
            }
            _ => out.push(tree.clone()),
        }
        i += 1;
    }
    out.into_iter().collect()
}

fn is_word(id: &Ident, words: &[&str]) -> bool {
    let s = id.to_string();
    words.iter().any(|w| s.eq_ignore_ascii_case(w))
}

/// Whether the last token is a `.` (`x.col(..)` is a method, not Spark's `col`).
fn after_dot(out: &[TokenTree]) -> bool {
    matches!(out.last(), Some(TokenTree::Punct(p)) if p.as_char() == '.')
}

/// A name given as `x` or `"x"` that can be a column of the block.
fn column_name(tokens: TokenStream) -> Option<String> {
    let trees: Vec<TokenTree> = tokens.into_iter().collect();
    let name = match trees.as_slice() {
        [TokenTree::Ident(id)] => id.to_string(),
        [TokenTree::Literal(l)] => syn::parse_str::<syn::LitStr>(&l.to_string()).ok()?.value(),
        _ => return None,
    };
    syn::parse_str::<syn::Ident>(&name).ok().map(|_| name)
}

/// A two-character operator (`&&`, `||`, `==`) as tokens.
fn joint(symbol: &str, span: Span) -> Vec<TokenTree> {
    let chars: Vec<char> = symbol.chars().collect();
    chars
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            let spacing = if i + 1 < chars.len() {
                Spacing::Joint
            } else {
                Spacing::Alone
            };
            let mut p = Punct::new(c, spacing);
            p.set_span(span);
            TokenTree::Punct(p)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use quote::quote;

    use super::*;

    fn help(op: &str, tokens: TokenStream) -> Option<String> {
        spot(op, &tokens).map(|e| e.to_string())
    }

    #[test]
    fn each_habit_is_rewritten_as_the_block_writes_it() {
        let cases = [
            (
                "filter",
                quote!(x > 1.0 and y < 2 or z == 3),
                "SQL's `and` is `&&`",
                "write `filter(x > 1.0 && y < 2 || z == 3)`",
            ),
            (
                "filter",
                quote!(country = "DE" && x >= 1),
                "`=` assigns in Rust",
                "write `filter(country == \"DE\" && x >= 1)`",
            ),
            (
                "agg",
                quote!(count(*) as n),
                "`count(*)` is SQL's",
                "write `agg(count() as n)`",
            ),
            (
                "filter",
                quote!(col("amount") > lit(10)),
                "not with `col(..)`",
                "write `filter(amount > 10)`",
            ),
            (
                "select",
                quote!(user, (amount * 2.0).alias("doubled")),
                "not with `.alias(..)`",
                "write `select(user, (amount * 2.0) as doubled)`",
            ),
        ];
        for (op, tokens, message, fix) in cases {
            let text = help(op, tokens).expect("a habit");
            assert!(text.contains(message), "{text}");
            assert!(text.contains(fix), "{text}");
        }
    }

    #[test]
    fn comparisons_and_keyword_columns_are_no_habit() {
        assert!(help("filter", quote!(x == 1 && y <= 2 && z >= 3 && w != 4)).is_none());
        // a column called `and` at the start, and `col` as a method
        assert!(help("filter", quote!(and > 1)).is_none());
        assert!(help("select", quote!(x.col(1))).is_none());
    }
}
