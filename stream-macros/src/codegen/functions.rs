//! Code for the DSL's functions, by name (their type rules and semantics are in
//! `check/functions.rs`). The checker has already brought every argument to the type the
//! code below expects, so each function picks one typed kernel; nothing dispatches on a
//! `DataType` at run time.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::expr::{Gen, array, emit, kernels, splat};
use crate::check::{LitValue, TExpr, TKind};
use crate::plan::Function;
use crate::types::DslType;

pub(crate) fn call(function: Function, args: &[TExpr], ty: DslType) -> Gen {
    let k = kernels();
    let tokens: TokenStream = match function {
        Function::IsNull | Function::IsNotNull => {
            let g = emit(&args[0]);
            let v = g.tokens;
            if g.scalar {
                let test = if function == Function::IsNull {
                    quote!(is_none)
                } else {
                    quote!(is_some)
                };
                return scalar(quote!(::core::option::Option::Some(#v.#test())), ty);
            }
            let f = if function == Function::IsNull {
                quote!(is_null)
            } else {
                quote!(is_not_null)
            };
            quote!(#k::#f(&#v)?)
        }
        Function::Coalesce => {
            let mut it = args.iter();
            let first = it.next().map(array).unwrap_or_default();
            it.fold(first, |acc, a| {
                let next = array(a);
                quote!(#k::coalesce(&#acc, &#next)?)
            })
        }
        Function::When => when(args, ty),
        Function::Lower => {
            let v = array(&args[0]);
            quote!(#k::map_string(&#v, |s| s.to_lowercase()))
        }
        Function::Upper => {
            let v = array(&args[0]);
            quote!(#k::map_string(&#v, |s| s.to_uppercase()))
        }
        Function::Trim => {
            // Spark trims spaces only, not every whitespace character
            let v = array(&args[0]);
            quote!(#k::map_string(&#v, |s| ::std::string::ToString::to_string(s.trim_matches(' '))))
        }
        Function::Length => {
            let v = array(&args[0]);
            quote!(#k::char_length(&#v))
        }
        Function::Substring => substring(args),
        Function::Concat => {
            let names: Vec<_> = (0..args.len())
                .map(|i| format_ident!("__part{}", i))
                .collect();
            let parts = args.iter().map(array);
            quote!({
                #(let #names = #parts;)*
                #k::concat(&[#(&#names),*])?
            })
        }
        Function::Contains | Function::StartsWith | Function::EndsWith => {
            return string_test(function, args, ty);
        }
        Function::RegexpLike => {
            let s = array(&args[0]);
            let pattern = lit_str(&args[1]).unwrap_or_default();
            quote!(#k::regexp_like(&#s, #pattern)?)
        }
        Function::Abs => {
            let f = if ty.is_integer() {
                quote!(v.wrapping_abs())
            } else {
                quote!(v.abs())
            };
            return map_primitive(&args[0], ty, f);
        }
        Function::Round => {
            let scale = args.get(1).and_then(lit_int).unwrap_or(0);
            let scale = i32::try_from(scale).unwrap_or_default();
            let f = match ty {
                DslType::F64 => quote!(#k::round_f64(v, #scale)),
                DslType::F32 => quote!(#k::round_f32(v, #scale)),
                DslType::I64 if scale < 0 => quote!(#k::round_i64(v, #scale)),
                DslType::I32 if scale < 0 => quote!(#k::round_i32(v, #scale)),
                // an integer keeps its value at a scale of 0 or more
                _ => return emit(&args[0]),
            };
            return map_primitive(&args[0], ty, f);
        }
        Function::Floor | Function::Ceil => {
            // the checker widened the argument: i64 stays as it is, f64 is rounded
            if args[0].ty.ty.is_integer() {
                return emit(&args[0]);
            }
            let f = if function == Function::Floor {
                quote!(v.floor() as i64)
            } else {
                quote!(v.ceil() as i64)
            };
            return map_primitive(&args[0], ty, f);
        }
        Function::ToTimestamp => {
            let v = array(&args[0]);
            if args[0].ty.ty == DslType::String {
                quote!(#k::to_timestamp_us(&#v))
            } else {
                quote!(#k::millis_to_timestamp(&#v))
            }
        }
        Function::DateTrunc => {
            let unit = match lit_str(&args[0]).unwrap_or_default().as_str() {
                "year" => quote!(Year),
                "quarter" => quote!(Quarter),
                "month" => quote!(Month),
                "week" => quote!(Week),
                "day" => quote!(Day),
                "hour" => quote!(Hour),
                "minute" => quote!(Minute),
                _ => quote!(Second),
            };
            let ts = array(&args[1]);
            quote!(#k::date_trunc(&#ts, #k::TruncUnit::#unit))
        }
        Function::Hour | Function::Minute => {
            let f = format_ident!("{}", function.as_str());
            let ts = array(&args[0]);
            quote!(#k::#f(&#ts))
        }
        Function::ToDate => {
            let v = array(&args[0]);
            if args[0].ty.ty == DslType::String {
                quote!(#k::to_date_string(&#v))
            } else {
                quote!(#k::to_date(&#v))
            }
        }
        Function::CurrentTimestamp => {
            // one value for the whole micro-batch
            return scalar(
                quote!(::core::option::Option::Some(__ctx.batch_timestamp_ms)),
                ty,
            );
        }
    };
    Gen {
        tokens,
        scalar: false,
        ty,
    }
}

fn scalar(tokens: TokenStream, ty: DslType) -> Gen {
    Gen {
        tokens,
        scalar: true,
        ty,
    }
}

/// `body` (over the value `v`) on every value of a primitive argument; a constant stays
/// a constant.
fn map_primitive(arg: &TExpr, out: DslType, body: TokenStream) -> Gen {
    let g = emit(arg);
    let v = g.tokens;
    let native = arg.ty.ty.native();
    let f = quote!(|v: #native| #body);
    if g.scalar {
        return scalar(quote!(#v.map(#f)), out);
    }
    let t = out.arrow_primitive();
    Gen {
        tokens: quote!(#v.unary::<_, #t>(#f)),
        scalar: false,
        ty: out,
    }
}

fn lit_str(e: &TExpr) -> Option<String> {
    match &e.kind {
        TKind::Lit(LitValue::Str(s)) => Some(s.clone()),
        _ => None,
    }
}

fn lit_int(e: &TExpr) -> Option<i64> {
    match &e.kind {
        TKind::Lit(LitValue::Int(i)) => Some(*i),
        _ => None,
    }
}

/// `substring(s, pos[, len])`; a constant position and length take the faster kernel.
fn substring(args: &[TExpr]) -> TokenStream {
    let k = kernels();
    let s = array(&args[0]);
    let pos = emit(&args[1]);
    let len = match args.get(2) {
        Some(l) => emit(l),
        // Spark's default length: all of the rest
        None => scalar(
            quote!(::core::option::Option::Some(::core::primitive::i64::MAX)),
            DslType::I64,
        ),
    };
    if pos.scalar && len.scalar {
        let (p, l) = (pos.tokens, len.tokens);
        return quote!(#k::substring_scalar(&#s, #p, #l));
    }
    let (p, l) = (splat(pos), splat(len));
    quote!(#k::substring(&#s, &#p, &#l)?)
}

/// `contains`, `starts_with`, `ends_with`: `str`'s own method on each pair of values.
fn string_test(function: Function, args: &[TExpr], ty: DslType) -> Gen {
    let k = kernels();
    let f = format_ident!("{}", function.as_str());
    let (gl, gr) = (emit(&args[0]), emit(&args[1]));
    let (lt, rt) = (gl.tokens, gr.tokens);
    let tokens = match (gl.scalar, gr.scalar) {
        (false, false) => {
            quote!(#k::compare(&#lt, &#rt, |a: &str, b: &str| a.#f(b))?)
        }
        (false, true) => quote!(#k::compare_scalar(&#lt, #rt, |a: &str, b: &&str| a.#f(*b))),
        (true, false) => quote!(#k::compare_scalar(&#rt, #lt, |b: &str, a: &&str| a.#f(b))),
        (true, true) => {
            return scalar(
                quote!(match (#lt, #rt) {
                    (::core::option::Option::Some(a), ::core::option::Option::Some(b)) => {
                        let (a, b): (&str, &str) = (a, b);
                        ::core::option::Option::Some(a.#f(b))
                    }
                    _ => ::core::option::Option::None,
                }),
                ty,
            );
        }
    };
    Gen {
        tokens,
        scalar: false,
        ty,
    }
}

/// A null constant of `ty`.
fn null_of(ty: DslType) -> TokenStream {
    let native = match ty {
        DslType::String => quote!(&'static str),
        DslType::Binary => quote!(&'static [u8]),
        other => other.native(),
    };
    quote!(::core::option::Option::None::<#native>)
}

/// `[c1, v1, c2, v2, .., otherwise?]`: starting from `otherwise` (or nulls), each branch
/// from the last to the first puts its value where its condition is true, so the first
/// true condition wins.
fn when(args: &[TExpr], ty: DslType) -> TokenStream {
    let k = kernels();
    let (pairs, otherwise) = if args.len() % 2 == 1 {
        (&args[..args.len() - 1], args.last().map(array))
    } else {
        (args, None)
    };
    let otherwise = otherwise.unwrap_or_else(|| {
        splat(Gen {
            tokens: null_of(ty),
            scalar: true,
            ty,
        })
    });
    let steps = pairs.chunks(2).rev().map(|pair| {
        let (c, v) = (array(&pair[0]), array(&pair[1]));
        quote! {
            let __cond = #c;
            let __then = #v;
            __acc = #k::when_then(&__cond, &__then, &__acc)?;
        }
    });
    quote!({
        let mut __acc = #otherwise;
        #(#steps)*
        __acc
    })
}
