//! Code for typed expressions: each becomes Rust over typed arrow arrays (or, when it
//! depends on no column, over one `Option` value per batch).

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::check::{LitValue, TExpr, TKind};
use crate::parse::{BinOp, UnOp};
use crate::types::DslType;

pub(crate) fn kernels() -> TokenStream {
    quote!(::stream_core::__private::kernels)
}

/// Generated code for one expression.
pub(crate) struct Gen {
    pub(crate) tokens: TokenStream,
    /// The code yields `Option<native>` (or `Option<&str>`), not an array.
    pub(crate) scalar: bool,
    pub(crate) ty: DslType,
}

/// Code that yields `e` as an owned typed array of `__n` rows.
pub(crate) fn array(e: &TExpr) -> TokenStream {
    splat(emit(e))
}

/// Turns a scalar into an array of `__n` rows; arrays pass through.
pub(crate) fn splat(g: Gen) -> TokenStream {
    if !g.scalar {
        return g.tokens;
    }
    let k = kernels();
    let v = g.tokens;
    match g.ty {
        DslType::Bool => quote!(#k::splat_boolean(#v, __n)),
        DslType::String => quote!(#k::splat_string(#v, __n)),
        DslType::Binary => quote!(#k::splat_binary(#v, __n)),
        other => {
            let t = other.arrow_primitive();
            quote!(#k::splat_primitive::<#t>(#v, __n))
        }
    }
}

/// Generates code for `e`.
pub(crate) fn emit(e: &TExpr) -> Gen {
    let k = kernels();
    let ty = e.ty.ty;
    match &e.kind {
        TKind::Column { index, name } => {
            let getter = match ty {
                DslType::Bool => quote!(#k::boolean(&__batch, #index, #name)?),
                DslType::String => quote!(#k::string(&__batch, #index, #name)?),
                DslType::Binary => quote!(#k::binary(&__batch, #index, #name)?),
                other => {
                    let t = other.arrow_primitive();
                    quote!(#k::primitive::<#t>(&__batch, #index, #name)?)
                }
            };
            Gen {
                tokens: quote!(::core::clone::Clone::clone(#getter)),
                scalar: false,
                ty,
            }
        }
        TKind::Lit(v) => Gen {
            tokens: literal(v, ty),
            scalar: true,
            ty,
        },
        TKind::Capture(i) => {
            let field = format_ident!("__cap{}", i);
            let tokens = match ty {
                DslType::String => quote!(::core::option::Option::Some(self.#field.as_str())),
                _ => {
                    quote!(::core::option::Option::Some(::core::clone::Clone::clone(&self.#field)))
                }
            };
            Gen {
                tokens,
                scalar: true,
                ty,
            }
        }
        TKind::Binary { op, left, right } => binary(*op, left, right, ty),
        TKind::Unary { op, expr } => unary(*op, expr),
        TKind::Cast { expr, to } => cast(expr, *to),
        TKind::Call { function, args } => super::functions::call(*function, args, ty),
    }
}

fn literal(v: &LitValue, ty: DslType) -> TokenStream {
    let some = quote!(::core::option::Option::Some);
    match v {
        LitValue::Null => {
            let native = match ty {
                DslType::String => quote!(&'static str),
                other => other.native(),
            };
            quote!(::core::option::Option::None::<#native>)
        }
        LitValue::Str(s) => quote!(#some(#s)),
        LitValue::Bool(b) => quote!(#some(#b)),
        LitValue::Int(i) => match ty {
            DslType::I32 => {
                let v = i32::try_from(*i).unwrap_or_default();
                quote!(#some(#v))
            }
            _ => quote!(#some(#i)),
        },
        LitValue::Float(f) => match ty {
            // a finite f64 may be beyond f32 (`1e39`): the cast is rustc's, as the user's
            // own `1e39 as f32` (quoting an infinite f32 panics)
            DslType::F32 => quote!(#some(#f as f32)),
            _ => quote!(#some(#f)),
        },
    }
}

/// The closure of an arithmetic operator on natives of `ty`.
fn arith_fn(op: BinOp, ty: DslType) -> TokenStream {
    let int = ty.is_integer();
    match (op, int) {
        (BinOp::Add, true) => quote!(|a, b| a.wrapping_add(b)),
        (BinOp::Sub, true) => quote!(|a, b| a.wrapping_sub(b)),
        (BinOp::Mul, true) => quote!(|a, b| a.wrapping_mul(b)),
        (BinOp::Add, false) => quote!(|a, b| a + b),
        (BinOp::Sub, false) => quote!(|a, b| a - b),
        (BinOp::Mul, false) => quote!(|a, b| a * b),
        _ => quote!(|a, b| a + b),
    }
}

fn binary(op: BinOp, l: &TExpr, r: &TExpr, ty: DslType) -> Gen {
    let k = kernels();
    if matches!(op, BinOp::And | BinOp::Or) {
        let (l, r) = (array(l), array(r));
        let f = if op == BinOp::And {
            quote!(and)
        } else {
            quote!(or)
        };
        return Gen {
            tokens: quote!(#k::#f(&#l, &#r)?),
            scalar: false,
            ty,
        };
    }
    let (gl, gr) = (emit(l), emit(r));
    if op.is_comparison() {
        let sym = match op {
            BinOp::Eq => quote!(==),
            BinOp::Ne => quote!(!=),
            BinOp::Lt => quote!(<),
            BinOp::Le => quote!(<=),
            BinOp::Gt => quote!(>),
            _ => quote!(>=),
        };
        let (lt, rt) = (gl.tokens, gr.tokens);
        let tokens = match (gl.scalar, gr.scalar) {
            (false, false) => quote!(#k::compare(&#lt, &#rt, |a, b| a #sym b)?),
            (false, true) => quote!(#k::compare_scalar(&#lt, #rt, |a, b| a #sym *b)),
            (true, false) => quote!(#k::compare_scalar(&#rt, #lt, |b, a| *a #sym b)),
            (true, true) => quote!(match (#lt, #rt) {
                (::core::option::Option::Some(a), ::core::option::Option::Some(b)) => ::core::option::Option::Some(a #sym b),
                _ => ::core::option::Option::None,
            }),
        };
        return Gen {
            tokens,
            scalar: gl.scalar && gr.scalar,
            ty,
        };
    }
    let t = ty.arrow_primitive();
    if matches!(op, BinOp::Div | BinOp::Rem) {
        // null where the divisor is 0, as Spark without ANSI mode
        let f = match (op, ty.is_integer()) {
            (BinOp::Div, _) => quote!(|a, b| if b == 0.0 {
                ::core::option::Option::None
            } else {
                ::core::option::Option::Some(a / b)
            }),
            (_, true) => quote!(|a, b| if b == 0 {
                ::core::option::Option::None
            } else {
                ::core::option::Option::Some(a.wrapping_rem(b))
            }),
            _ => quote!(|a, b| if b == 0.0 {
                ::core::option::Option::None
            } else {
                ::core::option::Option::Some(a % b)
            }),
        };
        let (lt, rt) = (splat(gl), splat(gr));
        return Gen {
            tokens: quote!(#k::arith_opt::<#t>(&#lt, &#rt, #f)),
            scalar: false,
            ty,
        };
    }
    let f = arith_fn(op, ty);
    let (ls, rs) = (gl.scalar, gr.scalar);
    let (lt, rt) = (gl.tokens, gr.tokens);
    let tokens = match (ls, rs) {
        (false, false) => quote!(#k::arith::<#t>(&#lt, &#rt, #f)?),
        (false, true) => quote!(#k::arith_scalar::<#t>(&#lt, #rt, #f)),
        (true, false) => quote!(#k::scalar_arith::<#t>(#lt, &#rt, #f)),
        (true, true) => quote!(match (#lt, #rt) {
            (::core::option::Option::Some(a), ::core::option::Option::Some(b)) => ::core::option::Option::Some((#f)(a, b)),
            _ => ::core::option::Option::None,
        }),
    };
    Gen {
        tokens,
        scalar: ls && rs,
        ty,
    }
}

fn unary(op: UnOp, e: &TExpr) -> Gen {
    let k = kernels();
    let ty = e.ty.ty;
    let g = emit(e);
    let v = &g.tokens;
    let tokens = match (op, g.scalar) {
        (UnOp::Not, false) => quote!(#k::not(&#v)?),
        (UnOp::Not, true) => quote!(#v.map(|v: bool| !v)),
        (UnOp::Neg, scalar) => {
            let native = ty.native();
            let f = if ty.is_integer() {
                quote!(|v: #native| v.wrapping_neg())
            } else {
                quote!(|v: #native| -v)
            };
            if scalar {
                quote!(#v.map(#f))
            } else {
                let t = ty.arrow_primitive();
                quote!(#v.unary::<_, #t>(#f))
            }
        }
    };
    Gen {
        tokens,
        scalar: g.scalar,
        ty,
    }
}

fn cast(e: &TExpr, to: DslType) -> Gen {
    let k = kernels();
    let from = e.ty.ty;
    let g = emit(e);
    if from.is_numeric() && to.is_numeric() {
        let native = to.native();
        let v = &g.tokens;
        let tokens = if g.scalar {
            quote!(#v.map(|v| v as #native))
        } else {
            let t = to.arrow_primitive();
            quote!(#v.unary::<_, #t>(|v| v as #native))
        };
        return Gen {
            tokens,
            scalar: g.scalar,
            ty: to,
        };
    }
    let array_ty = to.array();
    let dt = to.data_type();
    let v = splat(g);
    // between a timestamp and an `i64`, the number is whole seconds, as in Spark
    let tokens = match (from, to) {
        (DslType::TimestampMs | DslType::TimestampUs, DslType::I64) => {
            quote!(#k::timestamp_to_seconds(&#v)?)
        }
        (DslType::I64, DslType::TimestampMs | DslType::TimestampUs) => {
            quote!(#k::seconds_to_timestamp::<#array_ty>(&#v, &#dt)?)
        }
        _ => quote!(#k::cast::<#array_ty>(&#v, &#dt)?),
    };
    Gen {
        tokens,
        scalar: false,
        ty: to,
    }
}
