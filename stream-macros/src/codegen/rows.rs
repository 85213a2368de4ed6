//! The row structs of an expansion (see `check::rows`): declared with their
//! `TypedRow` impl, and named where the code uses them.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};

use crate::check::{RowDef, RowKind, RowRole};
use crate::derive;
use crate::plan::Column;
use crate::types::DslType;

/// The module the made-up row structs are declared in.
const MODULE: &str = "__stream_rows";

/// The type of `def`'s rows, as code in the expansion names it.
pub(crate) fn row_type(def: &RowDef) -> TokenStream {
    match &def.kind {
        RowKind::Inline(name) => quote!(#name),
        RowKind::Derived(path) => quote!(#path),
        RowKind::Generated(name) => {
            let module = syn::Ident::new(MODULE, Span::call_site());
            quote!(#module::#name)
        }
    }
}

/// The declarations of the structs the expansion owns: inline schemas in the block (a
/// closure there names them), made-up ones in a module of their own (no user name is
/// shadowed by them).
pub(crate) fn declarations(rows: &[RowDef]) -> TokenStream {
    let mut inline = TokenStream::new();
    let mut generated = TokenStream::new();
    for def in rows {
        match &def.kind {
            RowKind::Inline(name) => inline.extend(declare(name, &def.schema, def.role)),
            RowKind::Generated(name) => {
                generated.extend(declare(name, &def.schema, def.role));
            }
            RowKind::Derived(_) => {}
        }
    }
    if !generated.is_empty() {
        let module = syn::Ident::new(MODULE, Span::call_site());
        inline.extend(quote! {
            #[allow(non_snake_case, dead_code)]
            mod #module {
                #generated
            }
        });
    }
    inline
}

/// `pub struct Name { pub col: Type, .. }` with `Clone`, `Debug`, `PartialEq`, and its
/// `TypedRow` impl; a key or a state value also gets what a state store needs.
fn declare(name: &syn::Ident, schema: &[Column], role: RowRole) -> TokenStream {
    let columns: Vec<derive::Column> = schema
        .iter()
        .map(|c| {
            let value = match (role, c.ty.ty) {
                (RowRole::DedupKey, DslType::String) => quote!(::stream_core::__private::KeyString),
                (_, ty) => value_type(ty),
            };
            derive::Column {
                field: field_ident(&c.name),
                name: syn::Ident::new(&c.name, Span::call_site()),
                dsl: TokenStream::new(),
                value: syn::parse2(value).unwrap_or_else(|_| syn::parse_quote!(())),
                nullable: c.ty.nullable,
            }
        })
        .collect();
    let fields = columns.iter().map(|c| {
        let (field, value) = (&c.field, &c.value);
        if c.nullable {
            quote!(pub #field: ::core::option::Option<#value>)
        } else {
            quote!(pub #field: #value)
        }
    });
    let row = quote!(::stream_core::__private::row!);
    let typed_fields = columns.iter().map(|c| {
        let (field, value, col) = (&c.field, &c.value, c.name.to_string());
        let null = if c.nullable {
            quote!(?)
        } else {
            TokenStream::new()
        };
        quote!(#field: #value = #col [#null])
    });
    let typed_row = quote!(#row(typed #name { #(#typed_fields),* }););
    let field_names: Vec<&syn::Ident> = columns.iter().map(|c| &c.field).collect();
    let heap_size = quote!(#row(heap #name { #(#field_names),* }););
    let (derives, extra) = match role {
        RowRole::Plain => (
            quote!(
                ::core::clone::Clone,
                ::core::fmt::Debug,
                ::core::cmp::PartialEq
            ),
            TokenStream::new(),
        ),
        RowRole::State => (
            quote!(
                ::core::clone::Clone,
                ::core::fmt::Debug,
                ::core::cmp::PartialEq,
                ::core::default::Default
            ),
            heap_size,
        ),
        RowRole::Key | RowRole::DedupKey => (
            quote!(
                ::core::clone::Clone,
                ::core::fmt::Debug,
                ::core::default::Default
            ),
            quote! {
                #row(key #name { #(#field_names),* });
                #heap_size
            },
        ),
    };
    // on the schema's name: rustc's notes about the struct point at its declaration;
    // `pub` on the user's name (inside a function no one outside the crate reaches it)
    // must not raise `unreachable_pub`, whose fix, `pub(crate)`, cannot be written in a
    // block
    quote_spanned! {name.span()=>
        /// A row of the stream (made by `stream!`).
        #[derive(#derives)]
        #[allow(dead_code, non_camel_case_types, unreachable_pub)]
        pub struct #name {
            #(#fields,)*
        }
        #typed_row
        #extra
    }
}

/// The Rust type of one value of a column type (`Vec<T>` for a list).
fn value_type(ty: DslType) -> TokenStream {
    ty.value()
}

/// The struct field of column `name`: raw for a keyword (`r#type`); the few words that
/// cannot be raw get a trailing `_` (`self_`).
pub(crate) fn field_ident(name: &str) -> syn::Ident {
    match name {
        "self" | "Self" | "super" | "crate" | "_" => {
            syn::Ident::new(&format!("{name}_"), Span::call_site())
        }
        _ if syn::parse_str::<syn::Ident>(name).is_ok() => syn::Ident::new(name, Span::call_site()),
        _ => syn::Ident::new_raw(name, Span::call_site()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_become_raw_fields_and_the_rest_stay() {
        assert_eq!(field_ident("user").to_string(), "user");
        assert_eq!(field_ident("type").to_string(), "r#type");
        assert_eq!(field_ident("self").to_string(), "self_");
    }
}
