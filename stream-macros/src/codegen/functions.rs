//! Code for the DSL's functions, by name (their type rules are in `check/functions.rs`).

use proc_macro2::TokenStream;
use quote::quote;

use super::expr::{Gen, array, emit, kernels};
use crate::check::TExpr;
use crate::types::DslType;

pub(crate) fn call(function: &str, args: &[TExpr], ty: DslType) -> Gen {
    let k = kernels();
    let tokens: TokenStream = match function {
        "is_null" | "is_not_null" => {
            let g = emit(&args[0]);
            let v = g.tokens;
            if g.scalar {
                let test = if function == "is_null" {
                    quote!(is_none)
                } else {
                    quote!(is_some)
                };
                return Gen {
                    tokens: quote!(::core::option::Option::Some(#v.#test())),
                    scalar: true,
                    ty,
                };
            }
            let f = if function == "is_null" {
                quote!(is_null)
            } else {
                quote!(is_not_null)
            };
            quote!(#k::#f(&#v)?)
        }
        "coalesce" => {
            let mut it = args.iter();
            let first = it.next().map(array).unwrap_or_default();
            it.fold(first, |acc, a| {
                let next = array(a);
                quote!(#k::coalesce(&#acc, &#next)?)
            })
        }
        "lower" => {
            let v = array(&args[0]);
            quote!(#k::map_string(&#v, |s| s.to_lowercase()))
        }
        "upper" => {
            let v = array(&args[0]);
            quote!(#k::map_string(&#v, |s| s.to_uppercase()))
        }
        "trim" => {
            let v = array(&args[0]);
            quote!(#k::map_string(&#v, |s| s.trim().to_string()))
        }
        "length" => {
            let v = array(&args[0]);
            quote!(#k::char_length(&#v))
        }
        "abs" => {
            let v = array(&args[0]);
            let t = ty.arrow_primitive();
            let native = ty.native();
            if ty.is_integer() {
                quote!(#v.unary::<_, #t>(|v: #native| v.wrapping_abs()))
            } else {
                quote!(#v.unary::<_, #t>(|v: #native| v.abs()))
            }
        }
        other => {
            let message = format!("no code for function `{other}`");
            quote!(::core::compile_error!(#message))
        }
    };
    Gen {
        tokens,
        scalar: false,
        ty,
    }
}
