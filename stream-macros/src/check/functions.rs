//! The functions of the DSL: their names, arity and type rules. Codegen for each sits
//! in `codegen/functions.rs` under the same name; the runtime pieces are in
//! `stream_core::__private::kernels`.
//!
//! `f(x, a)` and `x.f(a)` are the same call. Every function follows Spark's semantics,
//! and unless the table says otherwise a null argument gives a null result. "num" is any
//! of `i32`, `i64`, `f32`, `f64`; "int" is `i32` or `i64`; "ts" is `timestamp_ms` or
//! `timestamp_us` (a `date` is taken as its midnight, a `string` is read as by
//! `to_timestamp`). Spark has one timestamp type: values of both units compared, or
//! given to `coalesce` or `when` together, are brought to `timestamp_us` (exactly), and a
//! `date` beside a timestamp to that timestamp.
//!
//! | function | arguments | result | nulls | notes, and where Spark differs |
//! |---|---|---|---|---|
//! | `is_null(x)` | any | `bool` | never null | |
//! | `is_not_null(x)` | any | `bool` | never null | |
//! | `coalesce(a, b, ..)` | 2 or more of one type (numbers widen as `+` does, timestamps to microseconds) | that type | null only if all are | |
//! | `when(c, v).when(c2, v2)..` `.otherwise(x)` | `bool` conditions; values of one type (numbers widen, timestamps to microseconds) | that type | a null condition counts as false; no `otherwise` gives null for unmatched rows | |
//! | `lower(s)`, `upper(s)` | `string` | `string` | | Unicode case mapping (Rust's, not Java's locale rules) |
//! | `trim(s)` | `string` | `string` | | removes leading and trailing spaces (U+0020) only, as Spark; not tabs or newlines |
//! | `length(s)` | `string` | `i32` (characters) | | |
//! | `substring(s, pos[, len])` | `string`, int, int | `string` | | `pos` counts from 1; 0 acts as 1; a negative `pos` counts from the end; `len` in characters (all of the rest when left out). Spark casts any number to an int here; the DSL takes ints only |
//! | `concat(a, b, ..)` | 1 or more `string` | `string` | null if any argument is | Spark casts numbers to text implicitly; here write `x as string` |
//! | `contains(s, sub)`, `starts_with(s, p)`, `ends_with(s, p)` | `string`, `string` | `bool` | | an empty `sub` or `p` matches; Spark spells the last two `startswith`, `endswith` |
//! | `regexp_like(s, "re")` | `string`, a string literal | `bool` | | the pattern is Rust `regex` syntax (no look-around or back-references), checked when the crate compiles; matches anywhere, as Spark's `rlike` |
//! | `abs(x)` | num | same | | the smallest integer stays as it is (wraps), as Spark without ANSI mode |
//! | `round(x[, scale])` | num, an integer literal (default 0) | same as `x` | | HALF_UP, on the shortest decimal form of a double, as Spark's `BigDecimal(d)`; ints change only for a negative scale |
//! | `floor(x)`, `ceil(x)` | num | `i64` | | |
//! | `to_timestamp(s)` | `string` | `timestamp_us` | also null when `s` does not parse | reads `yyyy[-[m]m[-[d]d]]`, then `T` or a space and `[h]h:[m]m[:[s]s[.fraction]]`, then an optional zone (`Z`, `UTC`, `+01:00`); no zone means UTC; Spark's region zone ids are not read |
//! | `to_timestamp(ms)` | int (milliseconds since the epoch) | `timestamp_ms` | | Spark reads a number as *seconds*; this takes milliseconds, the unit event times come in |
//! | `date_trunc("unit", ts)` | a string literal, ts | the type of `ts` (a `date` or `string` gives `timestamp_us`) | | units `year`, `quarter`, `month`, `week`, `day`, `hour`, `minute`, `second` (and Spark's `yyyy`, `yy`, `mon`, `mm`, `dd`), any case; UTC; Spark always returns microseconds |
//! | `hour(ts)`, `minute(ts)` | ts | `i32` | | UTC (Spark uses the session time zone) |
//! | `to_date(x)` | `string`, ts or `date` | `date` | also null when a string does not parse | a string is read as Spark's cast: `yyyy[-[m]m[-[d]d]]`, anything after a space or `T` is ignored; UTC |
//! | `current_timestamp()` | | `timestamp_ms` | never null | the micro-batch's timestamp, one value for the whole batch (Spark's type is microseconds, its value the same milliseconds) |
//!
//! Casts are written `x as T`, or `cast(x as T)` as in Spark (which casts there are:
//! `castable` in `check/expr.rs`). A `binary` cast to `string` is null where its bytes
//! are not UTF-8, as a string cast to a number is where it does not parse. Aggregate
//! functions (`sum`, `count`, ..) are refused here: a stateless pipeline has no group to
//! aggregate.

use proc_macro2::Span;

use super::expr::{LitValue, TExpr, TKind};
use super::{AggPlace, Checker};
use crate::diag::did_you_mean;
use crate::parse::Expr;
use crate::plan::{Function, Schema};
use crate::types::{ColType, DslType};

/// A function's name, how many arguments it takes and how it is called.
pub(crate) struct Signature {
    pub(crate) name: &'static str,
    pub(crate) min: usize,
    /// `None`: any number from `min`.
    pub(crate) max: Option<usize>,
    pub(crate) usage: &'static str,
}

const fn sig(name: &'static str, min: usize, max: usize, usage: &'static str) -> Signature {
    Signature {
        name,
        min,
        max: Some(max),
        usage,
    }
}

/// Every function of the DSL.
pub(crate) const SIGNATURES: &[Signature] = &[
    sig("is_null", 1, 1, "is_null(x)` or `x.is_null()"),
    sig("is_not_null", 1, 1, "is_not_null(x)` or `x.is_not_null()"),
    Signature {
        name: "coalesce",
        min: 2,
        max: None,
        usage: "coalesce(a, b, ..)",
    },
    sig("when", 2, 3, "when(condition, value)"),
    sig("otherwise", 2, 2, "when(condition, value).otherwise(other)"),
    sig("lower", 1, 1, "lower(s)` or `s.lower()"),
    sig("upper", 1, 1, "upper(s)` or `s.upper()"),
    sig("length", 1, 1, "length(s)` or `s.length()"),
    sig("trim", 1, 1, "trim(s)` or `s.trim()"),
    sig("substring", 2, 3, "substring(s, pos, len)"),
    Signature {
        name: "concat",
        min: 1,
        max: None,
        usage: "concat(a, b, ..)",
    },
    sig("contains", 2, 2, "contains(s, sub)` or `s.contains(sub)"),
    sig(
        "starts_with",
        2,
        2,
        "starts_with(s, prefix)` or `s.starts_with(prefix)",
    ),
    sig(
        "ends_with",
        2,
        2,
        "ends_with(s, suffix)` or `s.ends_with(suffix)",
    ),
    sig("regexp_like", 2, 2, "regexp_like(s, \"pattern\")"),
    sig("abs", 1, 1, "abs(x)` or `x.abs()"),
    sig("round", 1, 2, "round(x)` or `round(x, 2)"),
    sig("floor", 1, 1, "floor(x)` or `x.floor()"),
    sig("ceil", 1, 1, "ceil(x)` or `x.ceil()"),
    sig(
        "to_timestamp",
        1,
        1,
        "to_timestamp(s)` or `to_timestamp(millis)",
    ),
    sig("date_trunc", 2, 2, "date_trunc(\"hour\", ts)"),
    sig("hour", 1, 1, "hour(ts)` or `ts.hour()"),
    sig("minute", 1, 1, "minute(ts)` or `ts.minute()"),
    sig("to_date", 1, 1, "to_date(x)` or `x.to_date()"),
    sig("current_timestamp", 0, 0, "current_timestamp()"),
];

/// `cast(x as T)`, Spark's spelling of the cast `x as T`: the cast itself.
fn cast(cx: &mut Checker, name: &syn::Ident, args: &[Expr], schema: &Schema) -> Option<TExpr> {
    match args {
        [cast @ Expr::Cast { .. }] => cx.check_expr(cast, schema, None),
        _ => {
            cx.cx.error(
                name.span(),
                "`cast` takes one cast: `cast(x as string)`",
                "write `cast(value as string)`, or just `value as string`",
            );
            None
        }
    }
}

/// Spark's aggregate functions, refused in a stateless pipeline.
pub(crate) const AGGREGATES: &[&str] = &[
    "sum",
    "count",
    "count_distinct",
    "approx_count_distinct",
    "avg",
    "mean",
    "min",
    "max",
    "first",
    "last",
    "collect_list",
    "collect_set",
    "max_by",
    "min_by",
    "stddev",
    "variance",
];

/// The units of `date_trunc`: the names it takes (any case) and the unit each means.
const TRUNC_UNITS: &[(&str, &str)] = &[
    ("year", "year"),
    ("yyyy", "year"),
    ("yy", "year"),
    ("quarter", "quarter"),
    ("month", "month"),
    ("mon", "month"),
    ("mm", "month"),
    ("week", "week"),
    ("day", "day"),
    ("dd", "day"),
    ("hour", "hour"),
    ("minute", "minute"),
    ("second", "second"),
];

/// Types a call of a DSL function.
pub(crate) fn check_call(
    cx: &mut Checker,
    name: &syn::Ident,
    args: &[Expr],
    schema: &Schema,
) -> Option<TExpr> {
    let fname = name.to_string();
    if fname == "cast" {
        return cast(cx, name, args, schema);
    }
    let Some(sig) = SIGNATURES.iter().find(|s| s.name == fname) else {
        unknown(cx, name, args, &fname);
        return None;
    };
    let function = match Function::from_name(sig.name) {
        // `otherwise` is no function of its own: it ends a `when` chain
        Some(Function::When) | None => return when_chain(cx, name, args, schema),
        Some(f) => f,
    };
    if !arity_ok(cx, sig, name, args.len()) {
        return None;
    }
    let span = name.span();
    match function {
        Function::IsNull | Function::IsNotNull => {
            let typed = typed_args(cx, args, schema, |_| None)?;
            let ty = ColType {
                ty: DslType::Bool,
                nullable: false,
            };
            Some(call(function, typed, ty, span))
        }
        Function::Coalesce => coalesce(cx, name, args, schema),
        Function::Lower | Function::Upper | Function::Trim | Function::Length => {
            let typed = typed_args(cx, args, schema, |_| Some(DslType::String))?;
            require(cx, &typed[0], function.as_str(), DslType::String)?;
            let nullable = typed[0].ty.nullable;
            let ty = if function == Function::Length {
                DslType::I32
            } else {
                DslType::String
            };
            Some(call(function, typed, ColType { ty, nullable }, span))
        }
        Function::Substring => {
            let hint = |i| {
                Some(if i == 0 {
                    DslType::String
                } else {
                    DslType::I64
                })
            };
            let typed = typed_args(cx, args, schema, hint)?;
            let mut ok = require(cx, &typed[0], function.as_str(), DslType::String).is_some();
            for (i, a) in typed.iter().enumerate().skip(1) {
                if !a.ty.ty.is_integer() {
                    let what = if i == 1 { "position" } else { "length" };
                    cx.cx.error(
                        a.span,
                        format!("the {what} of `substring` must be a whole number (`i32` or `i64`), not `{}`", a.ty),
                        "positions count characters from 1: `substring(s, 1, 3)`; cast a number with `as i64`",
                    );
                    ok = false;
                }
            }
            if !ok {
                return None;
            }
            let nullable = typed.iter().any(|t| t.ty.nullable);
            let typed = typed
                .into_iter()
                .enumerate()
                .map(|(i, t)| if i == 0 { t } else { t.cast_to(DslType::I64) })
                .collect();
            let ty = ColType {
                ty: DslType::String,
                nullable,
            };
            Some(call(function, typed, ty, span))
        }
        Function::Concat | Function::Contains | Function::StartsWith | Function::EndsWith => {
            let typed = typed_args(cx, args, schema, |_| Some(DslType::String))?;
            let mut ok = true;
            for a in &typed {
                ok &= require(cx, a, function.as_str(), DslType::String).is_some();
            }
            if !ok {
                return None;
            }
            let nullable = typed.iter().any(|t| t.ty.nullable);
            let ty = if function == Function::Concat {
                DslType::String
            } else {
                DslType::Bool
            };
            Some(call(function, typed, ColType { ty, nullable }, span))
        }
        Function::RegexpLike => {
            let subject = cx.check_expr(&args[0], schema, Some(DslType::String));
            let pattern = regex_literal(cx, &args[1]);
            let subject = subject?;
            require(cx, &subject, function.as_str(), DslType::String)?;
            let pattern = pattern?;
            let ty = ColType {
                ty: DslType::Bool,
                nullable: subject.ty.nullable,
            };
            Some(call(function, vec![subject, pattern], ty, span))
        }
        Function::Abs | Function::Round | Function::Floor | Function::Ceil => {
            let x = cx.check_expr(&args[0], schema, None);
            let scale = match args.get(1) {
                Some(a) => Some(scale_literal(cx, a)?),
                None => None,
            };
            let x = x?;
            if !x.ty.ty.is_numeric() {
                cx.cx.error(
                    x.span,
                    format!("`{function}` takes a number, not `{}`", x.ty),
                    format!("pass a numeric column, or cast it: `{function}(x as f64)`"),
                );
                return None;
            }
            match function {
                Function::Floor | Function::Ceil => {
                    // Spark: the floor or ceiling of any number is a long
                    let wide = if x.ty.ty.is_integer() {
                        DslType::I64
                    } else {
                        DslType::F64
                    };
                    let ty = ColType {
                        ty: DslType::I64,
                        nullable: x.ty.nullable,
                    };
                    Some(call(function, vec![x.cast_to(wide)], ty, span))
                }
                _ => {
                    let ty = x.ty;
                    let mut typed = vec![x];
                    typed.extend(scale);
                    Some(call(function, typed, ty, span))
                }
            }
        }
        Function::ToTimestamp => {
            let x = cx.check_expr(&args[0], schema, None)?;
            let ty = match x.ty.ty {
                DslType::String => ColType {
                    ty: DslType::TimestampUs,
                    nullable: true,
                },
                DslType::I32 | DslType::I64 => ColType {
                    ty: DslType::TimestampMs,
                    nullable: x.ty.nullable,
                },
                DslType::TimestampMs | DslType::TimestampUs => return Some(x),
                DslType::Date => return Some(x.cast_to(DslType::TimestampUs)),
                _ => {
                    cx.cx.error(
                        x.span,
                        format!(
                            "`to_timestamp` takes a string or milliseconds since the epoch (`i64`), not `{}`",
                            x.ty
                        ),
                        "parse text: `to_timestamp(\"2024-01-01 10:00:00\")`, or convert millis: `to_timestamp(ms)`",
                    );
                    return None;
                }
            };
            let x = if x.ty.ty == DslType::String {
                x
            } else {
                x.cast_to(DslType::I64)
            };
            Some(call(function, vec![x], ty, span))
        }
        Function::DateTrunc => {
            let unit = trunc_unit(cx, &args[0], &args[1]);
            let ts = cx.check_expr(&args[1], schema, None);
            let (unit, ts) = (unit?, ts?);
            let ts = timestamp_arg(cx, ts, &args[1], function.as_str())?;
            let ty = ts.ty;
            Some(call(function, vec![unit, ts], ty, span))
        }
        Function::Hour | Function::Minute => {
            let ts = cx.check_expr(&args[0], schema, None)?;
            let ts = timestamp_arg(cx, ts, &args[0], function.as_str())?;
            let ty = ColType {
                ty: DslType::I32,
                nullable: ts.ty.nullable,
            };
            Some(call(function, vec![ts], ty, span))
        }
        Function::ToDate => {
            let x = cx.check_expr(&args[0], schema, None)?;
            let nullable = match x.ty.ty {
                DslType::Date => return Some(x),
                DslType::String => true,
                DslType::TimestampMs | DslType::TimestampUs => x.ty.nullable,
                _ => {
                    cx.cx.error(
                        x.span,
                        format!(
                            "`to_date` takes a string, a timestamp or a date, not `{}`",
                            x.ty
                        ),
                        "for milliseconds since the epoch write `to_date(to_timestamp(ms))`",
                    );
                    return None;
                }
            };
            let ty = ColType {
                ty: DslType::Date,
                nullable,
            };
            Some(call(function, vec![x], ty, span))
        }
        Function::CurrentTimestamp => {
            let ty = ColType {
                ty: DslType::TimestampMs,
                nullable: false,
            };
            Some(call(function, Vec::new(), ty, span))
        }
        // a `when` chain is typed by `when_chain`, above
        Function::When => {
            cx.cx.error(
                span,
                format!("`{function}` has no type rule"),
                "this is a bug in `stream!`; please report it",
            );
            None
        }
    }
}

/// An unknown name: an aggregate, or a misspelt function.
fn unknown(cx: &mut Checker, name: &syn::Ident, args: &[Expr], fname: &str) {
    if AGGREGATES.contains(&fname) {
        // the call as written, when its arguments are columns and literals
        let shown: Option<Vec<String>> = args
            .iter()
            .map(|a| match a {
                Expr::Column(c) => Some(c.to_string()),
                Expr::Lit(l) => Some(quote::ToTokens::to_token_stream(l).to_string()),
                _ => None,
            })
            .collect();
        let call = match &shown {
            Some(shown) => format!("{fname}({})", shown.join(", ")),
            None => format!("{fname}(amount)"),
        };
        let alias = match args.first() {
            Some(Expr::Column(c)) if shown.is_some() => format!("{fname}_{c}"),
            _ if args.is_empty() => "n".to_string(),
            _ => "total".to_string(),
        };
        let (message, help) = match &cx.place {
            Some(AggPlace::GroupKey) => (
                format!(
                    "`{fname}` is an aggregate function, and a `group_by` key is computed from each row, before the rows are grouped"
                ),
                format!(
                    "group by columns or expressions of the row, and aggregate in `agg(..)`: `.agg({call} as {alias})`"
                ),
            ),
            Some(AggPlace::Argument(outer)) => (
                format!(
                    "`{fname}` inside `{outer}(..)`: an aggregate's argument is computed from each row, so aggregate functions do not nest"
                ),
                format!(
                    "give `{outer}` a column or an expression of the row's columns, as in `{outer}(amount)`; to aggregate the results of an aggregation, aggregate its output in a second `group_by(..).agg(..)`"
                ),
            ),
            None => (
                format!(
                    "`{fname}` is an aggregate function, which a stateless pipeline cannot call"
                ),
                "a filter, select or with_column computes one value per row; aggregations need a grouping".to_string(),
            ),
        };
        cx.cx.error(name.span(), message, help);
        return;
    }
    let names = SIGNATURES.iter().map(|s| s.name);
    let help = match did_you_mean(fname, names.clone()) {
        Some(s) => format!("did you mean `{s}`?"),
        None => format!(
            "the functions are: {}",
            names.collect::<Vec<_>>().join(", ")
        ),
    };
    cx.cx
        .error(name.span(), format!("unknown function `{fname}`"), help);
}

fn arity_ok(cx: &mut Checker, sig: &Signature, name: &syn::Ident, given: usize) -> bool {
    let fits = given >= sig.min && sig.max.is_none_or(|max| given <= max);
    if fits {
        return true;
    }
    let f = sig.name;
    if f == "coalesce" {
        cx.cx.error(
            name.span(),
            "`coalesce` takes at least 2 arguments",
            "`coalesce(a, b, ..)` gives the first value that is not null",
        );
        return false;
    }
    let plural = |n: usize| if n == 1 { "argument" } else { "arguments" };
    let takes = match sig.max {
        None => format!("at least {} {}", sig.min, plural(sig.min)),
        Some(max) if max == sig.min => format!("{max} {}", plural(max)),
        Some(max) => format!("{} or {max} arguments", sig.min),
    };
    let were = if given == 1 { "was" } else { "were" };
    cx.cx.error(
        name.span(),
        format!("`{f}` takes {takes} but {given} {were} given"),
        format!("call it as `{}`", sig.usage),
    );
    false
}

/// Types every argument (all of them, so that every error is reported); `hint` types a
/// `None` or captured value at each position.
fn typed_args(
    cx: &mut Checker,
    args: &[Expr],
    schema: &Schema,
    hint: impl Fn(usize) -> Option<DslType>,
) -> Option<Vec<TExpr>> {
    let typed: Vec<Option<TExpr>> = args
        .iter()
        .enumerate()
        .map(|(i, a)| cx.check_expr(a, schema, hint(i)))
        .collect();
    typed.into_iter().collect()
}

fn call(function: Function, args: Vec<TExpr>, ty: ColType, span: Span) -> TExpr {
    let constant = args.iter().all(|t| t.constant);
    TExpr {
        kind: TKind::Call { function, args },
        ty,
        constant,
        span,
    }
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

fn untyped(e: &Expr) -> bool {
    matches!(e, Expr::Null(_) | Expr::Capture(_))
}

fn literal(value: LitValue, ty: DslType, span: Span) -> TExpr {
    TExpr {
        kind: TKind::Lit(value),
        ty: ColType {
            ty,
            nullable: false,
        },
        constant: true,
        span,
    }
}

/// Types values that must end up with one type: those with a type of their own first,
/// then `None`s and captures, which take the common type. Numbers widen as in `a + b`.
/// Returns the values cast to the common type, in order.
fn one_type(
    cx: &mut Checker,
    function: &str,
    values: &[&Expr],
    schema: &Schema,
) -> Option<(Vec<TExpr>, DslType)> {
    let mut typed: Vec<Option<TExpr>> = vec![None; values.len()];
    let mut ok = true;
    let mut common: Option<(DslType, ColType)> = None;
    for (i, v) in values.iter().enumerate() {
        if untyped(v) {
            continue;
        }
        let Some(t) = cx.check_expr(v, schema, None) else {
            ok = false;
            continue;
        };
        common = match common {
            None => Some((t.ty.ty, t.ty)),
            Some((c, first)) if c == t.ty.ty => Some((c, first)),
            Some((c, first)) => match DslType::common(c, t.ty.ty) {
                Some(w) => Some((w, first)),
                None => {
                    cx.cx.error(
                        t.span,
                        format!(
                            "`{function}` values must have one type; this is `{}`, the first is `{}`",
                            t.ty.ty.name(),
                            first.ty.name()
                        ),
                        "cast the values to one type with `as`",
                    );
                    ok = false;
                    Some((c, first))
                }
            },
        };
        typed[i] = Some(t);
    }
    let hint = common.map(|(c, _)| c);
    for (i, v) in values.iter().enumerate() {
        if untyped(v) {
            match cx.check_expr(v, schema, hint) {
                Some(t) => typed[i] = Some(t),
                None => ok = false,
            }
        }
    }
    if !ok {
        return None;
    }
    let common = hint?;
    let values = typed
        .into_iter()
        .map(|t| t.map(|t| t.cast_to(common)))
        .collect::<Option<Vec<_>>>()?;
    Some((values, common))
}

fn coalesce(cx: &mut Checker, name: &syn::Ident, args: &[Expr], schema: &Schema) -> Option<TExpr> {
    let values: Vec<&Expr> = args.iter().collect();
    let (typed, common) = one_type(cx, "coalesce", &values, schema)?;
    let ty = ColType {
        ty: common,
        nullable: typed.iter().all(|t| t.ty.nullable),
    };
    Some(call(Function::Coalesce, typed, ty, name.span()))
}

/// `when(c1, v1).when(c2, v2)...otherwise(x)`, which arrives as nested calls:
/// `otherwise(when(when(c1, v1), c2, v2), x)`. Typed as one call `when` with the
/// arguments `[c1, v1, c2, v2, .., x]` (an odd count means the last is `otherwise`).
fn when_chain(
    cx: &mut Checker,
    name: &syn::Ident,
    args: &[Expr],
    schema: &Schema,
) -> Option<TExpr> {
    let example =
        "`when(amount > 100.0, \"big\").when(amount > 10.0, \"medium\").otherwise(\"small\")`";
    let (mut cur_name, mut cur_args) = (name, args);
    let mut otherwise = None;
    if name == "otherwise" {
        match args {
            [Expr::Call { name: inner, args }, value] if inner == "when" => {
                otherwise = Some(value);
                (cur_name, cur_args) = (inner, args);
            }
            [Expr::Call { name: inner, .. }, _] if inner == "otherwise" => {
                cx.cx.error(
                    name.span(),
                    "`otherwise` is given twice",
                    format!("a chain has one `.otherwise(..)`, at its end: {example}"),
                );
                return None;
            }
            _ => {
                cx.cx.error(
                    name.span(),
                    "`otherwise` without `when`",
                    format!("`.otherwise(..)` ends a chain that starts with `when(condition, value)`: {example}"),
                );
                return None;
            }
        }
    }
    let mut branches: Vec<(&Expr, &Expr)> = Vec::new();
    loop {
        match cur_args {
            [cond, value] => {
                branches.push((cond, value));
                break;
            }
            [Expr::Call { name: inner, args }, cond, value] if inner == "when" => {
                branches.push((cond, value));
                (cur_name, cur_args) = (inner, args);
            }
            [Expr::Call { name: inner, .. }, _, _] if inner == "otherwise" => {
                cx.cx.error(
                    cur_name.span(),
                    "`when` after `otherwise`",
                    format!("put every `.when(..)` before the `.otherwise(..)`: {example}"),
                );
                return None;
            }
            [_, _, _] => {
                cx.cx.error(
                    cur_name.span(),
                    "`when` takes a condition and a value; `.when(..)` only continues a `when(condition, value)` chain",
                    format!("start the chain with the function: {example}"),
                );
                return None;
            }
            _ => {
                let given = cur_args.len();
                cx.cx.error(
                    cur_name.span(),
                    format!(
                        "`when` takes a condition and a value but {given} argument{} given",
                        if given == 1 { " was" } else { "s were" }
                    ),
                    format!("write {example}"),
                );
                return None;
            }
        }
    }
    branches.reverse();

    let mut ok = true;
    let mut conds = Vec::with_capacity(branches.len());
    for (cond, _) in &branches {
        match cx.check_expr(cond, schema, Some(DslType::Bool)) {
            Some(c) if c.ty.ty == DslType::Bool => conds.push(c),
            Some(c) => {
                cx.cx.error(
                    c.span,
                    format!("a `when` condition must be a bool, this is `{}`", c.ty),
                    "compare it: `when(amount > 0.0, ..)`, or test it: `when(name.is_null(), ..)`",
                );
                ok = false;
            }
            None => ok = false,
        }
    }
    let mut values: Vec<&Expr> = branches.iter().map(|(_, v)| *v).collect();
    values.extend(otherwise);
    let typed = one_type(cx, "when", &values, schema);
    let (mut values, common) = typed?;
    if !ok {
        return None;
    }
    let nullable = otherwise.is_none() || values.iter().any(|v| v.ty.nullable);
    let last = otherwise.map(|_| values.pop());
    let mut out = Vec::with_capacity(values.len() * 2 + 1);
    for (c, v) in conds.into_iter().zip(values) {
        out.push(c);
        out.push(v);
    }
    out.extend(last.flatten());
    let ty = ColType {
        ty: common,
        nullable,
    };
    Some(call(Function::When, out, ty, name.span()))
}

/// The pattern of `regexp_like`: a string literal that is a valid regular expression.
fn regex_literal(cx: &mut Checker, arg: &Expr) -> Option<TExpr> {
    let Expr::Lit(syn::Lit::Str(s)) = arg else {
        cx.cx.error(
            arg.span(),
            "the pattern of `regexp_like` must be a string literal",
            "write it in the call, `regexp_like(s, \"^[a-z]+$\")`: it is checked when the crate compiles and compiled once per batch",
        );
        return None;
    };
    let pattern = s.value();
    if let Err(e) = regex_syntax::Parser::new().parse(&pattern) {
        let why = match &e {
            regex_syntax::Error::Parse(e) => e.kind().to_string(),
            regex_syntax::Error::Translate(e) => e.kind().to_string(),
            other => other.to_string(),
        };
        cx.cx.error(
            s.span(),
            format!("invalid regular expression: {why}"),
            "the pattern is Rust `regex` syntax (no look-around or back-references); escape a literal `(` as `\\\\(` or use a raw string `r\"..\"`",
        );
        return None;
    }
    Some(literal(LitValue::Str(pattern), DslType::String, s.span()))
}

/// The scale of `round`: an integer literal.
fn scale_literal(cx: &mut Checker, arg: &Expr) -> Option<TExpr> {
    if let Expr::Lit(syn::Lit::Int(i)) = arg
        && let Ok(scale) = i.base10_parse::<i32>()
    {
        return Some(literal(
            LitValue::Int(i64::from(scale)),
            DslType::I32,
            i.span(),
        ));
    }
    cx.cx.error(
        arg.span(),
        "the scale of `round` must be an integer literal",
        "write the number of decimals in the call: `round(amount, 2)` (negative rounds to tens, hundreds..)",
    );
    None
}

/// The unit of `date_trunc`: a string literal naming a unit, first.
fn trunc_unit(cx: &mut Checker, unit: &Expr, ts: &Expr) -> Option<TExpr> {
    let units = "year, quarter, month, week, day, hour, minute, second";
    let Expr::Lit(syn::Lit::Str(s)) = unit else {
        let help = if matches!(ts, Expr::Lit(syn::Lit::Str(_))) {
            "the unit comes first, as in Spark: `date_trunc(\"hour\", ts)`".to_string()
        } else {
            format!(
                "write the unit as a string literal: `date_trunc(\"hour\", ts)`; the units are {units}"
            )
        };
        cx.cx.error(
            unit.span(),
            "the unit of `date_trunc` must be a string literal",
            help,
        );
        return None;
    };
    let text = s.value().to_lowercase();
    if let Some((_, canonical)) = TRUNC_UNITS.iter().find(|(n, _)| *n == text) {
        return Some(literal(
            LitValue::Str((*canonical).to_string()),
            DslType::String,
            s.span(),
        ));
    }
    let help = match did_you_mean(&text, TRUNC_UNITS.iter().map(|(n, _)| *n)) {
        Some(m) => format!("did you mean `\"{m}\"`? the units are {units}"),
        None => format!("the units are {units}"),
    };
    cx.cx.error(
        s.span(),
        format!("`date_trunc` has no unit `{}`", s.value()),
        help,
    );
    None
}

/// The conversion of `written`, of type `ty`, to a timestamp, as a block writes it (a
/// number is taken as milliseconds since the epoch, which `to_timestamp` reads from an
/// integer): `None` for a type that has none.
pub(crate) fn to_timestamp_help(written: &Expr, ty: DslType) -> Option<String> {
    let text = written.text();
    match ty {
        DslType::String | DslType::I32 | DslType::I64 => Some(format!("to_timestamp({text})")),
        DslType::F32 | DslType::F64 => {
            let operand = match written {
                Expr::Binary { .. } | Expr::Cast { .. } => format!("({text})"),
                _ => text,
            };
            Some(format!("to_timestamp({operand} as i64)"))
        }
        _ => None,
    }
}

/// An argument that must be a timestamp: timestamps pass, a date becomes its midnight,
/// a string is read as by `to_timestamp` (null when it does not parse).
fn timestamp_arg(cx: &mut Checker, arg: TExpr, written: &Expr, function: &str) -> Option<TExpr> {
    match arg.ty.ty {
        DslType::TimestampMs | DslType::TimestampUs => Some(arg),
        DslType::Date => Some(arg.cast_to(DslType::TimestampUs)),
        DslType::String => {
            let span = arg.span;
            let ty = ColType {
                ty: DslType::TimestampUs,
                nullable: true,
            };
            Some(call(Function::ToTimestamp, vec![arg], ty, span))
        }
        _ => {
            cx.cx.error(
                arg.span,
                format!("`{function}` takes a timestamp, not `{}`", arg.ty),
                match to_timestamp_help(written, arg.ty.ty) {
                    Some(fix) => format!("convert it first: `{function}({fix})`"),
                    None => format!("give `{function}` a `timestamp_ms` or `timestamp_us` column"),
                },
            );
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proc_macro2::TokenStream;
    use quote::quote;

    /// The messages of the `compile_error!`s the expansion of `select(items)` holds.
    fn errors(items: TokenStream) -> Vec<String> {
        crate::tests::compile_errors(crate::expand::stream_inner(quote! {
            schema S { s: Option<string>, x: f64, i: i64, ts: timestamp_ms, b: bool }
            read(json, path = "in/", schema = S)
                .select(#items)
                .write(console)
        }))
    }

    fn assert_error(items: TokenStream, message: &str, help: &str) {
        let errors = errors(items.clone());
        assert!(
            errors
                .iter()
                .any(|e| e.starts_with(message) && e.contains(help)),
            "no error `{message}` with help `{help}` for `{items}`; got {errors:#?}"
        );
    }

    #[test]
    fn every_new_function_type_checks() {
        let ok = errors(quote! {
            substring(s, 1, 2) as a, substring(s, i) as b, concat(s, "x", s) as c,
            contains(s, "x") as d, s.starts_with("x") as e, ends_with(s, s) as f,
            regexp_like(s, r"^\d+$") as g, round(x) as h, round(x, -2) as j, floor(x) as k,
            ceil(i) as l, when(b, 1).when(x > 1.0, 2.5).otherwise(i) as m, when(b, s) as n,
            to_timestamp(s) as o, to_timestamp(i) as p, date_trunc("Hour", ts) as q,
            hour(ts) as r, minute(s) as t, to_date(ts) as u, to_date(s) as v,
            current_timestamp() as w, coalesce(i, x, None) as y, trim(s) as z
        });
        assert_eq!(ok, Vec::<String>::new());
    }

    #[test]
    fn errors_name_the_problem_and_help() {
        assert_error(
            quote!(substring(s, 1, 2, 3) as a),
            "`substring` takes 2 or 3 arguments but 4 were given",
            "call it as `substring(s, pos, len)`",
        );
        assert_error(
            quote!(current_timestamp(ts) as a),
            "`current_timestamp` takes 0 arguments but 1 was given",
            "`current_timestamp()`",
        );
        assert_error(
            quote!(lower(x) as a),
            "`lower` takes a `string`, not `f64`",
            "`lower(x as string)`",
        );
        assert_error(
            quote!(substring(s, 1.5, 2) as a),
            "the position of `substring` must be a whole number",
            "as i64",
        );
        assert_error(
            quote!(date_trunc("hours", ts) as a),
            "`date_trunc` has no unit `hours`",
            "did you mean `\"hour\"`?",
        );
        assert_error(
            quote!(date_trunc(ts, "hour") as a),
            "the unit of `date_trunc` must be a string literal",
            "the unit comes first",
        );
        assert_error(
            quote!(regexp_like(s, "(a") as a),
            "invalid regular expression: unclosed group",
            "Rust `regex` syntax",
        );
        assert_error(
            quote!(regexp_like(s, s) as a),
            "the pattern of `regexp_like` must be a string literal",
            "regexp_like(s,",
        );
        assert_error(
            quote!(x.otherwise(1.0) as a),
            "`otherwise` without `when`",
            "when(condition, value)",
        );
        assert_error(
            quote!(otherwise(x) as a),
            "`otherwise` without `when`",
            "when(condition, value)",
        );
        assert_error(
            quote!(when(b, 1).otherwise(2).when(b, 3) as a),
            "`when` after `otherwise`",
            "before the `.otherwise(..)`",
        );
        assert_error(
            quote!(when(b, 1).otherwise(2).otherwise(3) as a),
            "`otherwise` is given twice",
            "one `.otherwise(..)`",
        );
        assert_error(
            quote!(x.when(b, 1) as a),
            "`when` takes a condition and a value;",
            "start the chain with the function",
        );
        assert_error(
            quote!(when(i, 1) as a),
            "a `when` condition must be a bool, this is `i64`",
            "compare it",
        );
        assert_error(
            quote!(when(b, 1).otherwise("x") as a),
            "`when` values must have one type; this is `string`, the first is `i64`",
            "cast the values",
        );
        assert_error(
            quote!(coalesce(s, 1) as a),
            "`coalesce` values must have one type; this is `i64`, the first is `string`",
            "cast the values",
        );
        assert_error(
            quote!(round(x, i) as a),
            "the scale of `round` must be an integer literal",
            "round(amount, 2)",
        );
        assert_error(
            quote!(floor(s) as a),
            "`floor` takes a number, not `Option<string>`",
            "floor(x as f64)",
        );
        // the help converts the column given, in a call that compiles
        assert_error(
            quote!(hour(i) as a),
            "`hour` takes a timestamp, not `i64`",
            "hour(to_timestamp(i))",
        );
        assert_error(
            quote!(hour(x) as a),
            "`hour` takes a timestamp, not `f64`",
            "hour(to_timestamp(x as i64))",
        );
        assert_error(
            quote!(minute(b) as a),
            "`minute` takes a timestamp, not `bool`",
            "give `minute` a `timestamp_ms` or `timestamp_us` column",
        );
        assert_error(
            quote!(to_timestamp(x) as a),
            "`to_timestamp` takes a string or milliseconds since the epoch",
            "to_timestamp(ms)",
        );
        assert_error(
            quote!(to_date(b) as a),
            "`to_date` takes a string, a timestamp or a date, not `bool`",
            "to_date(to_timestamp(ms))",
        );
        assert_error(
            quote!(substrng(s, 1, 2) as a),
            "unknown function `substrng`",
            "did you mean `substring`?",
        );
        assert_error(
            quote!(sum(x) as a),
            "`sum` is an aggregate function",
            "aggregations need a grouping",
        );
    }

    #[test]
    fn every_error_of_a_select_is_reported() {
        let errors = errors(quote!(lower(x) as a, upper(i) as b, concat(s, x, i) as c));
        assert_eq!(errors.len(), 4, "{errors:#?}");
    }

    #[test]
    fn every_signature_but_otherwise_is_a_plan_function() {
        // `check_call` reads the enum from the signature's name: a function without
        // both would be refused, or never checked
        for s in SIGNATURES {
            let function = crate::plan::Function::from_name(s.name);
            assert_eq!(function.is_none(), s.name == "otherwise", "{}", s.name);
            assert_eq!(function.map(|f| f.as_str()).unwrap_or("otherwise"), s.name);
        }
        for f in crate::plan::Function::ALL {
            assert!(SIGNATURES.iter().any(|s| s.name == f.as_str()), "{f}");
        }
    }

    #[test]
    fn every_function_has_usage_and_unique_name() {
        let mut names: Vec<_> = SIGNATURES.iter().map(|s| s.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), SIGNATURES.len());
        for s in SIGNATURES {
            assert!(s.usage.starts_with(s.name) || s.name == "otherwise");
            assert!(s.max.is_none_or(|m| m >= s.min));
        }
    }
}
