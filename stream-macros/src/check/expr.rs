//! Typing expressions against a schema: the typed tree that codegen reads.

use proc_macro2::Span;

use super::{Checker, functions};
use crate::diag::did_you_mean;
use crate::parse::{BinOp, Expr, UnOp};
use crate::plan::Schema;
use crate::types::{ColType, DslType};

/// A literal value.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum LitValue {
    Int(i64),
    Float(f64),
    Str(String),
    Bool(bool),
    Null,
}

/// A typed expression.
#[derive(Clone, Debug)]
pub(crate) struct TExpr {
    pub(crate) kind: TKind,
    pub(crate) ty: ColType,
    /// Depends on no column: evaluated once per batch as a scalar.
    pub(crate) constant: bool,
    pub(crate) span: Span,
}

/// The shape of a typed expression. Operands of arithmetic and comparisons are already
/// brought to a common type by `Cast` nodes.
#[derive(Clone, Debug)]
pub(crate) enum TKind {
    Column {
        index: usize,
        name: String,
    },
    Lit(LitValue),
    Capture(usize),
    Binary {
        op: BinOp,
        left: Box<TExpr>,
        right: Box<TExpr>,
    },
    Unary {
        op: UnOp,
        expr: Box<TExpr>,
    },
    Cast {
        expr: Box<TExpr>,
        to: DslType,
    },
    Call {
        function: crate::plan::Function,
        args: Vec<TExpr>,
    },
}

impl TExpr {
    pub(crate) fn columns(&self, out: &mut Vec<usize>) {
        match &self.kind {
            TKind::Column { index, .. } => out.push(*index),
            TKind::Lit(_) | TKind::Capture(_) => {}
            TKind::Binary { left, right, .. } => {
                left.columns(out);
                right.columns(out);
            }
            TKind::Unary { expr, .. } | TKind::Cast { expr, .. } => expr.columns(out),
            TKind::Call { args, .. } => args.iter().for_each(|a| a.columns(out)),
        }
    }

    /// Wraps `self` in a cast to `to` unless it has that type already.
    pub(crate) fn cast_to(self, to: DslType) -> TExpr {
        if self.ty.ty == to {
            return self;
        }
        let (ty, constant, span) = (
            ColType {
                ty: to,
                nullable: self.ty.nullable,
            },
            self.constant,
            self.span,
        );
        TExpr {
            kind: TKind::Cast {
                expr: Box::new(self),
                to,
            },
            ty,
            constant,
            span,
        }
    }
}

/// A placeholder after an error, so that checking goes on without cascades.
fn error_expr(span: Span) -> Option<TExpr> {
    let _ = span;
    None
}

impl Checker {
    /// Types `expr` against `schema`; `hint` types a `None` or a captured value that has
    /// nothing else to take its type from. `None` means an error was recorded.
    pub(crate) fn check_expr(
        &mut self,
        expr: &Expr,
        schema: &Schema,
        hint: Option<DslType>,
    ) -> Option<TExpr> {
        let span = expr.span();
        match expr {
            Expr::Column(ident) => self.column(ident, schema),
            Expr::Lit(lit) => self.literal(lit),
            Expr::Null(span) => match hint {
                Some(ty) => Some(TExpr {
                    kind: TKind::Lit(LitValue::Null),
                    ty: ColType { ty, nullable: true },
                    constant: true,
                    span: *span,
                }),
                None => {
                    self.cx.error(
                        *span,
                        "cannot tell the type of `None` here",
                        "compare or combine it with a column, or cast it: `None as f64`",
                    );
                    None
                }
            },
            Expr::Capture(block) => match hint {
                Some(ty) => Some(TExpr {
                    kind: TKind::Capture(self.capture(block.clone(), ty)),
                    ty: ColType {
                        ty,
                        nullable: false,
                    },
                    constant: true,
                    span,
                }),
                None => {
                    self.cx.error(
                        span,
                        "cannot tell the type of this captured value",
                        "use it beside a column (`amount > {limit}`) or cast it: `{limit} as f64`",
                    );
                    None
                }
            },
            Expr::Binary {
                op,
                op_span,
                left,
                right,
            } => self.binary(*op, *op_span, left, right, schema),
            Expr::Unary { op, op_span, expr } => self.unary(*op, *op_span, expr, schema),
            Expr::Cast { expr, ty } => {
                let to = match self.base_type(&ty.base) {
                    Some(t) => t,
                    None => return error_expr(span),
                };
                let inner = self.check_expr(expr, schema, Some(to))?;
                if !castable(inner.ty.ty, to) {
                    self.cx.error(
                        ty.base.span(),
                        format!("cannot cast `{}` to `{}`", inner.ty.ty.name(), to.name()),
                        "casts go between numbers, to and from strings, between dates and timestamps, and between timestamps and `i64` seconds",
                    );
                    return None;
                }
                let from_string = inner.ty.ty == DslType::String && to != DslType::String;
                let from_binary = inner.ty.ty == DslType::Binary && to == DslType::String;
                let seconds_overflow = inner.ty.ty == DslType::I64
                    && matches!(to, DslType::TimestampMs | DslType::TimestampUs);
                let mut cast = inner.cast_to(to);
                // a string that does not parse becomes null, and so do bytes that are
                // not UTF-8 and seconds past the timestamps' range
                cast.ty.nullable |= from_string || from_binary || seconds_overflow;
                cast.span = ty.base.span();
                Some(cast)
            }
            Expr::Call { name, args } => functions::check_call(self, name, args, schema),
        }
    }

    pub(crate) fn column(&mut self, ident: &syn::Ident, schema: &Schema) -> Option<TExpr> {
        let name = ident.to_string();
        match schema.iter().position(|c| c.name == name) {
            Some(index) if matches!(schema[index].ty.ty, DslType::List(_)) => {
                self.cx.error(
                    ident.span(),
                    format!(
                        "`{name}` is a {}; expressions do not take lists",
                        schema[index].ty.ty.name()
                    ),
                    "a list column goes to the sink as it is: filter or compute on the values before `collect_list` / `collect_set`, or drop it with `drop`",
                );
                None
            }
            Some(index) if schema[index].ty.ty == DslType::Headers => {
                self.cx.error(
                    ident.span(),
                    format!("`{name}` holds Kafka headers; expressions do not take them"),
                    "the headers go to the sink as they are: keep them by name in `select`, or drop them with `drop`",
                );
                None
            }
            Some(index) => Some(TExpr {
                kind: TKind::Column { index, name },
                ty: schema[index].ty,
                constant: false,
                span: ident.span(),
            }),
            None => {
                let help = match did_you_mean(&name, schema.iter().map(|c| c.name.as_str())) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => format!(
                        "the columns here are: {}; to use a Rust variable, capture it: `{{{name}}}`",
                        schema
                            .iter()
                            .map(|c| format!("`{}`", c.name))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                };
                self.cx.error(
                    ident.span(),
                    format!("no column `{name}` in this stream"),
                    help,
                );
                None
            }
        }
    }

    fn literal(&mut self, lit: &syn::Lit) -> Option<TExpr> {
        let (value, ty) = match lit {
            syn::Lit::Int(i) => {
                let ty = match i.suffix() {
                    "" | "i64" => DslType::I64,
                    "i32" => DslType::I32,
                    other => {
                        self.cx.error(
                            lit.span(),
                            format!("integer suffix `{other}` is not a column type"),
                            "use `i32` or `i64`, or no suffix",
                        );
                        return None;
                    }
                };
                match i.base10_parse::<i64>() {
                    Ok(v) => (LitValue::Int(v), ty),
                    Err(_) => {
                        self.cx.error(
                            lit.span(),
                            format!(
                                "integer literal `{}` does not fit in `i64`",
                                i.base10_digits()
                            ),
                            "use a float literal (`1e20`) for larger values",
                        );
                        return None;
                    }
                }
            }
            syn::Lit::Float(f) => {
                let ty = if f.suffix() == "f32" {
                    DslType::F32
                } else {
                    DslType::F64
                };
                match f.base10_parse::<f64>() {
                    Ok(v) if v.is_finite() => (LitValue::Float(v), ty),
                    // `1e400`: the generated code could not hold it (and quoting an
                    // infinite f64 panicked in the macro; found by the macro_edit target)
                    Ok(_) => {
                        self.cx.error(
                            lit.span(),
                            format!(
                                "the float literal `{}` is too large for f64",
                                f.base10_digits()
                            ),
                            "an f64 holds values up to about 1.8e308",
                        );
                        return None;
                    }
                    Err(_) => {
                        self.cx.error(
                            lit.span(),
                            format!("cannot read the float literal `{}`", f.base10_digits()),
                            "write a decimal number such as `2.5` or `1e-3`",
                        );
                        return None;
                    }
                }
            }
            syn::Lit::Str(s) => (LitValue::Str(s.value()), DslType::String),
            syn::Lit::Bool(b) => (LitValue::Bool(b.value), DslType::Bool),
            other => {
                self.cx.error(
                    other.span(),
                    "this literal has no column type",
                    "use numbers, strings or `true`/`false`",
                );
                return None;
            }
        };
        Some(TExpr {
            kind: TKind::Lit(value),
            ty: ColType {
                ty,
                nullable: false,
            },
            constant: true,
            span: lit.span(),
        })
    }

    /// Types both sides; an untyped side (`None`, a capture) takes the other's type.
    fn operands(
        &mut self,
        left: &Expr,
        right: &Expr,
        schema: &Schema,
        hint: Option<DslType>,
    ) -> Option<(TExpr, TExpr)> {
        let untyped = |e: &Expr| matches!(e, Expr::Null(_) | Expr::Capture(_));
        if untyped(left) && !untyped(right) {
            let r = self.check_expr(right, schema, hint);
            let l = self.check_expr(left, schema, r.as_ref().map(|r| r.ty.ty));
            return Some((l?, r?));
        }
        let l = self.check_expr(left, schema, hint);
        let r = self.check_expr(right, schema, l.as_ref().map(|l| l.ty.ty).or(hint));
        Some((l?, r?))
    }

    fn binary(
        &mut self,
        op: BinOp,
        op_span: Span,
        left: &Expr,
        right: &Expr,
        schema: &Schema,
    ) -> Option<TExpr> {
        let hint = matches!(op, BinOp::And | BinOp::Or).then_some(DslType::Bool);
        let (l, r) = self.operands(left, right, schema, hint)?;
        let nullable = l.ty.nullable || r.ty.nullable;
        let constant = l.constant && r.constant;
        let (l, r, ty) = if op.is_arithmetic() {
            let Some(common) = DslType::common_numeric(l.ty.ty, r.ty.ty) else {
                self.mismatch(
                    op,
                    op_span,
                    &l,
                    &r,
                    "arithmetic needs numbers on both sides",
                );
                return None;
            };
            // Spark: `/` is a division of doubles, and x / 0 is null
            let common = if op == BinOp::Div {
                DslType::F64
            } else {
                common
            };
            let nullable = nullable || matches!(op, BinOp::Div | BinOp::Rem);
            (
                l.cast_to(common),
                r.cast_to(common),
                ColType {
                    ty: common,
                    nullable,
                },
            )
        } else if op.is_comparison() {
            let common = DslType::common(l.ty.ty, r.ty.ty);
            let (l, r) = match common {
                Some(common) => (l.cast_to(common), r.cast_to(common)),
                None if l.ty.ty == r.ty.ty && l.ty.ty != DslType::Binary => (l, r),
                None => {
                    self.mismatch(
                        op,
                        op_span,
                        &l,
                        &r,
                        "compare values of the same type, or numbers with numbers",
                    );
                    return None;
                }
            };
            (
                l,
                r,
                ColType {
                    ty: DslType::Bool,
                    nullable,
                },
            )
        } else {
            if l.ty.ty != DslType::Bool || r.ty.ty != DslType::Bool {
                self.mismatch(
                    op,
                    op_span,
                    &l,
                    &r,
                    "`&&` and `||` combine conditions (bool)",
                );
                return None;
            }
            (
                l,
                r,
                ColType {
                    ty: DslType::Bool,
                    nullable,
                },
            )
        };
        Some(TExpr {
            kind: TKind::Binary {
                op,
                left: Box::new(l),
                right: Box::new(r),
            },
            ty,
            constant,
            span: op_span,
        })
    }

    fn mismatch(&mut self, op: BinOp, span: Span, l: &TExpr, r: &TExpr, help: &str) {
        self.cx.error(
            span,
            format!(
                "cannot apply `{}` to `{}` and `{}`",
                op.symbol(),
                l.ty,
                r.ty
            ),
            help,
        );
    }

    fn unary(&mut self, op: UnOp, op_span: Span, expr: &Expr, schema: &Schema) -> Option<TExpr> {
        let hint = match op {
            UnOp::Not => Some(DslType::Bool),
            UnOp::Neg => None,
        };
        let inner = self.check_expr(expr, schema, hint)?;
        let ok = match op {
            UnOp::Not => inner.ty.ty == DslType::Bool,
            UnOp::Neg => inner.ty.ty.is_numeric(),
        };
        if !ok {
            let (sym, want) = match op {
                UnOp::Not => ("!", "a condition (bool)"),
                UnOp::Neg => ("-", "a number"),
            };
            self.cx.error(
                op_span,
                format!("cannot apply `{sym}` to `{}`", inner.ty),
                format!("`{sym}` takes {want}"),
            );
            return None;
        }
        Some(TExpr {
            ty: inner.ty,
            constant: inner.constant,
            span: op_span,
            kind: TKind::Unary {
                op,
                expr: Box::new(inner),
            },
        })
    }

    /// A type name of the DSL, or an error on it.
    pub(crate) fn base_type(&mut self, ident: &syn::Ident) -> Option<DslType> {
        let name = ident.to_string();
        if let Some(t) = DslType::from_name(&name) {
            return Some(t);
        }
        let names: Vec<&str> = DslType::ALL.iter().map(|t| t.name()).collect();
        let help = match did_you_mean(&name, names.iter().copied()) {
            Some(s) => format!("did you mean `{s}`?"),
            None => format!("the column types are: {}", names.join(", ")),
        };
        self.cx
            .error(ident.span(), format!("unknown type `{name}`"), help);
        None
    }
}

/// Whether arrow can cast `from` to `to` as the DSL allows.
fn castable(from: DslType, to: DslType) -> bool {
    use DslType::*;
    from == to
        || (from.is_numeric() && to.is_numeric())
        || to == String
        || from == String
        || (from == Bool && to.is_numeric())
        || (from.is_numeric() && to == Bool)
        || matches!(
            (from, to),
            (Date, TimestampMs | TimestampUs)
                | (TimestampMs | TimestampUs, Date)
                | (TimestampMs, TimestampUs)
                | (TimestampUs, TimestampMs)
        )
        || matches!(
            (from, to),
            (I64, TimestampMs | TimestampUs) | (TimestampMs | TimestampUs, I64)
        )
}
