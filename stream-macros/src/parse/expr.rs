//! Expressions: Rust syntax, read by syn, turned into the DSL's own tree.
//!
//! A bare name is a column; `{ .. }` captures a Rust value from outside the block;
//! `f(a, b)` and `a.f(b)` are the same function call; `x as f64` is a cast; `None` is
//! null.

use proc_macro2::Span;
use syn::spanned::Spanned;

use super::TypeDecl;

/// A binary operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
}

impl BinOp {
    pub(crate) fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Rem => "%",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::And => "&&",
            BinOp::Or => "||",
        }
    }

    pub(crate) fn is_arithmetic(self) -> bool {
        matches!(
            self,
            BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Rem
        )
    }

    pub(crate) fn is_comparison(self) -> bool {
        matches!(
            self,
            BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge
        )
    }
}

/// A unary operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum UnOp {
    Not,
    Neg,
}

/// An expression of the DSL.
#[derive(Clone)]
pub(crate) enum Expr {
    Column(syn::Ident),
    Lit(syn::Lit),
    Null(Span),
    Capture(syn::ExprBlock),
    Binary {
        op: BinOp,
        op_span: Span,
        left: Box<Expr>,
        right: Box<Expr>,
    },
    Unary {
        op: UnOp,
        op_span: Span,
        expr: Box<Expr>,
    },
    Call {
        name: syn::Ident,
        args: Vec<Expr>,
    },
    Cast {
        expr: Box<Expr>,
        ty: TypeDecl,
    },
}

impl Expr {
    /// The span errors about this expression point at.
    pub(crate) fn span(&self) -> Span {
        match self {
            Expr::Column(i) => i.span(),
            Expr::Lit(l) => l.span(),
            Expr::Null(s) => *s,
            Expr::Capture(b) => b.block.brace_token.span.join(),
            Expr::Binary { op_span, .. } | Expr::Unary { op_span, .. } => *op_span,
            Expr::Call { name, .. } => name.span(),
            Expr::Cast { ty, .. } => ty.base.span(),
        }
    }

    /// The expression as a block writes it, for help lines (a binary or cast operand
    /// in parentheses).
    pub(crate) fn text(&self) -> String {
        let operand = |e: &Expr| match e {
            Expr::Binary { .. } | Expr::Cast { .. } => format!("({})", e.text()),
            _ => e.text(),
        };
        match self {
            Expr::Column(i) => i.to_string(),
            Expr::Lit(l) => quote::ToTokens::to_token_stream(l).to_string(),
            Expr::Null(_) => "None".to_string(),
            Expr::Capture(b) => super::habits::show(&quote::ToTokens::to_token_stream(b)),
            Expr::Binary {
                op, left, right, ..
            } => format!("{} {} {}", operand(left), op.symbol(), operand(right)),
            Expr::Unary { op, expr, .. } => {
                let sign = if *op == UnOp::Not { "!" } else { "-" };
                format!("{sign}{}", operand(expr))
            }
            Expr::Call { name, args } => format!(
                "{name}({})",
                args.iter().map(Expr::text).collect::<Vec<_>>().join(", ")
            ),
            Expr::Cast { expr, ty } => format!("{} as {}", operand(expr), ty.base),
        }
    }

    /// Converts syn's expression, or explains on the token what the DSL does not take.
    pub(crate) fn from_syn(expr: syn::Expr) -> syn::Result<Expr> {
        match expr {
            syn::Expr::Path(p)
                if p.qself.is_none()
                    && p.path.segments.len() == 1
                    && p.path.leading_colon.is_none() =>
            {
                let ident = p.path.segments[0].ident.clone();
                if ident == "None" {
                    Ok(Expr::Null(ident.span()))
                } else {
                    Ok(Expr::Column(ident))
                }
            }
            syn::Expr::Lit(l) => Ok(Expr::Lit(l.lit)),
            syn::Expr::Block(b) if b.label.is_none() => Ok(Expr::Capture(b)),
            syn::Expr::Paren(p) => Expr::from_syn(*p.expr),
            syn::Expr::Group(g) => Expr::from_syn(*g.expr),
            syn::Expr::Binary(b) => {
                let op_span = b.op.span();
                let op = bin_op(&b.op).ok_or_else(|| {
                    syn::Error::new(
                        op_span,
                        "this operator is not supported in a pipeline expression\n\n= help: use + - * / % == != < <= > >= && ||",
                    )
                })?;
                Ok(Expr::Binary {
                    op,
                    op_span,
                    left: Box::new(Expr::from_syn(*b.left)?),
                    right: Box::new(Expr::from_syn(*b.right)?),
                })
            }
            syn::Expr::Unary(u) => {
                let op_span = u.op.span();
                let op = match u.op {
                    syn::UnOp::Not(_) => UnOp::Not,
                    syn::UnOp::Neg(_) => UnOp::Neg,
                    _ => {
                        return Err(syn::Error::new(
                            op_span,
                            "dereferencing is not supported in a pipeline expression\n\n= help: columns are values; write the column name",
                        ));
                    }
                };
                let inner = Expr::from_syn(*u.expr)?;
                // `-1.5` is a negative literal, not a negation of a column
                if let (UnOp::Neg, Expr::Lit(lit)) = (op, &inner)
                    && let Some(neg) = negate_literal(lit)
                {
                    return Ok(Expr::Lit(neg));
                }
                Ok(Expr::Unary {
                    op,
                    op_span,
                    expr: Box::new(inner),
                })
            }
            syn::Expr::Call(c) => {
                let name = match *c.func {
                    syn::Expr::Path(p) if p.path.segments.len() == 1 && p.qself.is_none() => {
                        p.path.segments[0].ident.clone()
                    }
                    other => {
                        return Err(syn::Error::new(
                            other.span(),
                            "only functions of the DSL can be called here\n\n= help: call a DSL function by its name, like `lower(user)`; capture Rust values with `{ .. }`",
                        ));
                    }
                };
                // Spark's `col("x")` and `lit(1)`: the rewrite is `parse::habits`' help
                if name == "col" || name == "column" || name == "lit" {
                    return Err(syn::Error::new(
                        name.span(),
                        format!(
                            "`{name}(..)` is Spark's: a `stream!` expression names a column by itself and writes a literal as it is\n\n= help: write `amount > 10`, not `col(\"amount\") > lit(10)`"
                        ),
                    ));
                }
                let args = c
                    .args
                    .into_iter()
                    .map(Expr::from_syn)
                    .collect::<syn::Result<Vec<_>>>()?;
                Ok(Expr::Call { name, args })
            }
            syn::Expr::MethodCall(m) if m.method == "alias" => Err(syn::Error::new(
                m.method.span(),
                "a `stream!` block names a column with `as`, not with `.alias(..)`\n\n= help: write `amount * 2.0 as doubled`",
            )),
            syn::Expr::MethodCall(m) => {
                let mut args = vec![Expr::from_syn(*m.receiver)?];
                for a in m.args {
                    args.push(Expr::from_syn(a)?);
                }
                Ok(Expr::Call {
                    name: m.method,
                    args,
                })
            }
            syn::Expr::Cast(c) => {
                let ty = match *c.ty {
                    syn::Type::Path(p) if p.path.segments.len() == 1 => TypeDecl {
                        base: p.path.segments[0].ident.clone(),
                        nullable: false,
                    },
                    other => {
                        return Err(syn::Error::new(
                            other.span(),
                            "cast to a column type\n\n= help: one of bool, i32, i64, f32, f64, string, binary, date, timestamp_ms, timestamp_us",
                        ));
                    }
                };
                Ok(Expr::Cast {
                    expr: Box::new(Expr::from_syn(*c.expr)?),
                    ty,
                })
            }
            other => Err(syn::Error::new(
                other.span(),
                "this is not a pipeline expression\n\n= help: use column names, literals, operators, DSL functions, and `{ .. }` to capture a Rust value",
            )),
        }
    }
}

fn bin_op(op: &syn::BinOp) -> Option<BinOp> {
    Some(match op {
        syn::BinOp::Add(_) => BinOp::Add,
        syn::BinOp::Sub(_) => BinOp::Sub,
        syn::BinOp::Mul(_) => BinOp::Mul,
        syn::BinOp::Div(_) => BinOp::Div,
        syn::BinOp::Rem(_) => BinOp::Rem,
        syn::BinOp::Eq(_) => BinOp::Eq,
        syn::BinOp::Ne(_) => BinOp::Ne,
        syn::BinOp::Lt(_) => BinOp::Lt,
        syn::BinOp::Le(_) => BinOp::Le,
        syn::BinOp::Gt(_) => BinOp::Gt,
        syn::BinOp::Ge(_) => BinOp::Ge,
        syn::BinOp::And(_) => BinOp::And,
        syn::BinOp::Or(_) => BinOp::Or,
        _ => return None,
    })
}

fn negate_literal(lit: &syn::Lit) -> Option<syn::Lit> {
    // a literal token may already be negative (`-1` passed through a `$l:literal` of a
    // macro_rules macro): `--1` is no literal, and `LitInt::new` panicked on it (found by
    // the `macro_edit` fuzz target)
    let negated = |token: String| match token.strip_prefix('-') {
        Some(positive) => positive.to_string(),
        None => format!("-{token}"),
    };
    match lit {
        syn::Lit::Int(i) => Some(syn::Lit::Int(syn::LitInt::new(
            &negated(i.token().to_string()),
            i.span(),
        ))),
        syn::Lit::Float(f) => Some(syn::Lit::Float(syn::LitFloat::new(
            &negated(f.token().to_string()),
            f.span(),
        ))),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use proc_macro2::Literal;
    use quote::quote;

    use super::*;

    #[test]
    fn negating_a_negative_literal_token_gives_the_positive_literal() {
        for (text, expected) in [("-1", "1"), ("-2.5", "2.5"), ("3", "-3")] {
            let lit = Literal::from_str(text).unwrap();
            let expr: syn::Expr = syn::parse2(quote!(- #lit)).unwrap();
            match Expr::from_syn(expr).unwrap() {
                Expr::Lit(syn::Lit::Int(i)) => assert_eq!(i.token().to_string(), expected),
                Expr::Lit(syn::Lit::Float(f)) => assert_eq!(f.token().to_string(), expected),
                _ => panic!("`-{text}` is not a literal"),
            }
        }
    }
}
