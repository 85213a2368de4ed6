//! `map(Out, f)` and `flat_map(Out, f)`: a Rust closure or fn over typed rows.
//!
//! `f` takes the stream's row struct by value and returns an `Out` (map) or anything
//! that iterates over `Out`s (flat_map); `Out` is a schema of the block, whose columns
//! the stream has from then on. rustc checks `f` against those types on the user's own
//! tokens, and the call is monomorphized into the branch's code: no boxed UDF.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

use crate::check::{Checker, MapFn, StreamState};
use crate::plan::TypedOp;

pub(crate) fn check(
    cx: &mut Checker,
    stream: StreamState,
    flat: bool,
    output: &syn::Ident,
    f: &syn::Expr,
    op: &syn::Ident,
) -> Option<StreamState> {
    if let Some(column) = stream
        .schema
        .iter()
        .find(|c| c.ty.ty == crate::types::DslType::Headers)
    {
        cx.cx.error(
            op.span(),
            format!(
                "`{op}` takes rows as Rust structs, and the Kafka headers column `{}` has no Rust type yet",
                column.name
            ),
            format!("drop it first: `.drop({})`", column.name),
        );
        return None;
    }
    let schema = cx.named_schema(output)?;
    let output_row = cx.named_row(output)?;
    let input_row = cx.row_for(&stream.schema, "Input");
    cx.functions.push(MapFn {
        f: f.clone(),
        flat,
        input: input_row,
        output: output_row,
    });
    let op = TypedOp::Map {
        function: cx.functions.len() - 1,
        input: stream.schema.clone(),
        output: schema.clone(),
    };
    Some(super::push(stream, op, schema))
}

/// The bound a map function's type meets (`In`, `Out`: the row types).
pub(crate) fn bound(function: &MapFn, input: &TokenStream, output: &TokenStream) -> TokenStream {
    if function.flat {
        quote!(::stream_core::__private::FlatMapFn<#input, #output>)
    } else {
        quote!(::core::ops::Fn(#input) -> #output + ::core::marker::Send + ::core::marker::Sync + 'static)
    }
}

/// The user's function, through a helper whose `Fn` bound gives the closure its
/// argument type and makes rustc check it on the user's tokens.
pub(crate) fn construct(
    function: &MapFn,
    input: &TokenStream,
    output: &TokenStream,
) -> TokenStream {
    let f = &function.f;
    let span = f.span();
    let helper = if function.flat {
        quote_spanned! {span=>
            fn __stream_flat_map<F, I>(f: F) -> F
            where
                F: ::core::ops::Fn(#input) -> I + ::core::marker::Send + ::core::marker::Sync + 'static,
                I: ::core::iter::IntoIterator<Item = #output>,
            {
                f
            }
        }
    } else {
        quote_spanned! {span=>
            fn __stream_map<F>(f: F) -> F
            where
                F: ::core::ops::Fn(#input) -> #output + ::core::marker::Send + ::core::marker::Sync + 'static,
            {
                f
            }
        }
    };
    let call = if function.flat {
        quote_spanned!(span=> __stream_flat_map(#f))
    } else {
        quote_spanned!(span=> __stream_map(#f))
    };
    quote!({ #helper #call })
}

/// The code of a map step: the batch as rows, the function on each, the rows as a batch.
pub(crate) fn emit(
    index: usize,
    function: &MapFn,
    input: &TokenStream,
    output: &TokenStream,
) -> TokenStream {
    let field = format_ident!("__f{}", index);
    let rows = quote!(::stream_core::types::TypedRow);
    let apply = if function.flat {
        quote! {
            let mut __out: ::std::vec::Vec<#output> = ::std::vec::Vec::with_capacity(__rows.len());
            for __row in __rows {
                ::stream_core::__private::FlatMapFn::call_into(&self.#field, __row, &mut __out);
            }
        }
    } else {
        quote! {
            let __out: ::std::vec::Vec<#output> =
                ::core::iter::Iterator::collect(::core::iter::Iterator::map(
                    ::core::iter::IntoIterator::into_iter(__rows),
                    &self.#field,
                ));
        }
    };
    quote! {
        let __rows = <#input as #rows>::from_batch(&__batch)?;
        #apply
        <#output as #rows>::to_batch(&__out)?
    }
}
