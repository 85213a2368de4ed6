//! The functions of the DSL: their names, arity and type rules. Codegen for each sits
//! in `codegen/functions.rs` under the same name.

use super::expr::{TExpr, TKind};
use super::{Checker, Schema};
use crate::diag::did_you_mean;
use crate::parse::Expr;
use crate::types::{ColType, DslType};

/// The names of every function, for errors and suggestions.
pub(crate) const FUNCTIONS: &[&str] = &[
    "is_null",
    "is_not_null",
    "coalesce",
    "lower",
    "upper",
    "length",
    "trim",
    "abs",
];

/// Types a call of a DSL function.
pub(crate) fn check_call(
    cx: &mut Checker,
    name: &syn::Ident,
    args: &[Expr],
    schema: &Schema,
) -> Option<TExpr> {
    let fname = name.to_string();
    let Some(&function) = FUNCTIONS.iter().find(|f| **f == fname) else {
        let help = match did_you_mean(&fname, FUNCTIONS.iter().copied()) {
            Some(s) => format!("did you mean `{s}`?"),
            None => format!("the functions are: {}", FUNCTIONS.join(", ")),
        };
        cx.cx
            .error(name.span(), format!("unknown function `{fname}`"), help);
        return None;
    };
    let expected = match function {
        "coalesce" => None,
        _ => Some(1),
    };
    if let Some(n) = expected {
        if args.len() != n {
            cx.cx.error(
                name.span(),
                format!(
                    "`{function}` takes {n} argument(s) but {} were given",
                    args.len()
                ),
                format!("call it as `{function}(column)` or `column.{function}()`"),
            );
            return None;
        }
    } else if args.len() < 2 {
        cx.cx.error(
            name.span(),
            "`coalesce` takes at least 2 arguments",
            "`coalesce(a, b, ..)` gives the first value that is not null",
        );
        return None;
    }
    let mut typed = Vec::with_capacity(args.len());
    let mut hint = None;
    for a in args {
        let t = cx.check_expr(a, schema, hint)?;
        hint = hint.or(Some(t.ty.ty));
        typed.push(t);
    }
    let first = typed[0].ty;
    let result = match function {
        "is_null" | "is_not_null" => ColType {
            ty: DslType::Bool,
            nullable: false,
        },
        "coalesce" => {
            if let Some(bad) = typed.iter().find(|t| t.ty.ty != first.ty) {
                cx.cx.error(
                    bad.span,
                    format!(
                        "`coalesce` arguments must have one type; this is `{}`, the first is `{}`",
                        bad.ty.ty.name(),
                        first.ty.name()
                    ),
                    "cast the arguments to one type",
                );
                return None;
            }
            ColType {
                ty: first.ty,
                nullable: typed.iter().all(|t| t.ty.nullable),
            }
        }
        "lower" | "upper" | "trim" => {
            require(cx, &typed[0], function, DslType::String)?;
            first
        }
        "length" => {
            require(cx, &typed[0], function, DslType::String)?;
            ColType {
                ty: DslType::I32,
                nullable: first.nullable,
            }
        }
        "abs" => {
            if !first.ty.is_numeric() {
                cx.cx.error(
                    typed[0].span,
                    format!("`abs` takes a number, not `{}`", first),
                    "pass a numeric column",
                );
                return None;
            }
            first
        }
        _ => unreachable!("every name in FUNCTIONS has a rule"),
    };
    let constant = typed.iter().all(|t| t.constant);
    Some(TExpr {
        kind: TKind::Call {
            function,
            args: typed,
        },
        ty: result,
        constant,
        span: name.span(),
    })
}

fn require(cx: &mut Checker, arg: &TExpr, function: &str, ty: DslType) -> Option<()> {
    if arg.ty.ty == ty {
        return Some(());
    }
    cx.cx.error(
        arg.span,
        format!("`{function}` takes a `{}`, not `{}`", ty.name(), arg.ty),
        format!("cast it first: `{function}(x as {})`", ty.name()),
    );
    None
}
