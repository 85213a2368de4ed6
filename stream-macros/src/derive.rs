//! `#[derive(Schema)]`: a Rust struct as the schema of `stream!` blocks.
//!
//! A proc macro sees only its own input: `stream!` cannot read the fields of a struct it
//! names. So the derive leaves the fields where `stream!` can get them, in a callback
//! macro beside the struct:
//!
//! ```text
//! #[derive(Schema)] struct Event { user: String, amount: Option<f64> }
//!   ⇒ macro_rules! __stream_schema_Event {
//!         (@stream_schema $local:ident; $($block:tt)*) => {
//!             ::stream_core::stream! { @fields $local { user: string, amount: Option<f64> } $($block)* }
//!         };
//!     }
//!     pub(crate) use __stream_schema_Event;   // path-addressable: `crate::model::__stream_schema_Event!`
//! ```
//!
//! A block that says `schema Event = crate::model::Event;` and has no fields for it yet
//! expands to `crate::model::__stream_schema_Event! { @stream_schema Event; <the block> }`
//! (see [`callback`]); the callback re-invokes `stream!` with the fields injected. The
//! block's tokens pass through `macro_rules!` as `tt`s with their spans, so every error
//! still points at the user's DSL token; the field tokens carry the struct's spans.
//!
//! The derive also implements `stream_core::types::TypedRow` (rows ⇄ record batches).

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::ext::IdentExt;
use syn::spanned::Spanned;

use crate::diag::Ctxt;

/// The marker `stream!` puts before the local schema name when it calls a callback.
pub(crate) const MARKER: &str = "stream_schema";

/// The name of the callback macro of struct `name`.
pub(crate) fn callback_name(name: &syn::Ident) -> syn::Ident {
    syn::Ident::new(&format!("__stream_schema_{}", name.unraw()), name.span())
}

/// The expansion of a `stream!` block that names a derived schema whose fields it does
/// not have yet: a call of the struct's callback macro carrying the whole block.
/// `local` is the name the block gives the schema; `path` names the struct.
pub(crate) fn callback(local: &syn::Ident, path: &syn::Path, block: TokenStream) -> TokenStream {
    let mut callback = path.clone();
    if let Some(last) = callback.segments.last_mut() {
        last.ident = callback_name(&last.ident);
    }
    let marker = syn::Ident::new(MARKER, Span::call_site());
    // when the struct has no derive, the trait bound explains the missing macro
    let span = path
        .segments
        .last()
        .map_or_else(Span::call_site, |s| s.ident.span());
    let assert = quote_spanned! {span=>
        const _: () = {
            fn __stream_schema_struct<T: ::stream_core::types::TypedRow>() {}
            let _ = __stream_schema_struct::<#path>;
        };
    };
    quote! {
        {
            #assert
            #callback! { @#marker #local; #block }
        }
    }
}

/// A field of the struct, with its column type.
pub(crate) struct Column {
    /// The field as written (`r#type`).
    pub(crate) field: syn::Ident,
    /// The column name (`type`), with the field's span.
    pub(crate) name: syn::Ident,
    /// The column type in the DSL (`Option<f64>`), with the field type's span.
    pub(crate) dsl: TokenStream,
    /// The Rust type of one value (`f64` for `Option<f64>`).
    pub(crate) value: syn::Type,
    pub(crate) nullable: bool,
}

/// Expands `#[derive(Schema)]`. Never panics: errors become `compile_error!`s on the
/// offending tokens, next to a callback that leaves `stream!` blocks quiet.
pub(crate) fn derive_schema(input: TokenStream) -> TokenStream {
    let item: syn::DeriveInput = match syn::parse2(input) {
        Ok(item) => item,
        Err(e) => return e.to_compile_error(),
    };
    let mut cx = Ctxt::default();
    let name = &item.ident;
    if !item.generics.params.is_empty() {
        cx.syn(syn::Error::new_spanned(
            &item.generics,
            format!(
                "a schema struct cannot be generic\n\n= help: its fields are the columns: give each field a concrete type, as in `struct {name} {{ user: String, amount: f64 }}`"
            ),
        ));
    }
    let fields = match &item.data {
        // the fields of a generic struct have no column types to check
        _ if !item.generics.params.is_empty() => Vec::new(),
        syn::Data::Struct(syn::DataStruct {
            fields: syn::Fields::Named(named),
            ..
        }) => {
            if named.named.is_empty() {
                cx.error(
                    name.span(),
                    format!("`{name}` has no fields"),
                    "each field is a column: add at least one",
                );
            }
            named.named.iter().collect()
        }
        _ => {
            cx.error(
                name.span(),
                "`#[derive(Schema)]` takes a struct with named fields",
                format!("each field is a column: `struct {name} {{ user: String, amount: f64 }}`"),
            );
            Vec::new()
        }
    };
    let columns: Vec<Column> = fields
        .into_iter()
        .filter_map(|f| column(&mut cx, f))
        .collect();

    let macro_name = callback_name(&syn::Ident::new(
        &name.unraw().to_string(),
        Span::call_site(),
    ));
    let marker = syn::Ident::new(MARKER, Span::call_site());
    let fallback = format!(
        "`{macro_name}!` is generated by `#[derive(Schema)]` for `stream!`; name the struct in a block instead: `schema {name} = path::to::{name};`"
    );
    if cx.has_errors() {
        // the struct's errors are reported here, once: blocks naming it expand to a
        // placeholder query builder without errors of their own
        let errors = cx.into_compile_errors();
        // a stub impl, so that blocks naming the struct add no trait errors (it is never
        // run: the errors stop the build)
        let stub = item.generics.params.is_empty().then(|| {
            quote! {
                #[automatically_derived]
                impl ::stream_core::types::TypedRow for #name {
                    fn arrow_schema() -> ::stream_core::__private::arrow_schema::SchemaRef {
                        ::core::unreachable!()
                    }
                    fn to_batch(
                        _: &[Self],
                    ) -> ::stream_core::Result<::stream_core::__private::arrow_array::RecordBatch> {
                        ::core::unreachable!()
                    }
                    fn from_batch(
                        _: &::stream_core::__private::arrow_array::RecordBatch,
                    ) -> ::stream_core::Result<::std::vec::Vec<Self>> {
                        ::core::unreachable!()
                    }
                }
            }
        });
        return quote! {
            #errors
            #stub
            #[doc(hidden)]
            #[allow(unused_macros)]
            macro_rules! #macro_name {
                (@#marker $local:ident; $($block:tt)*) => { ::stream_core::StreamingQuery::builder() };
                ($($other:tt)*) => { ::core::compile_error!(#fallback) };
            }
            #[doc(hidden)]
            #[allow(unused_imports)]
            pub(crate) use #macro_name;
        };
    }

    let dsl_fields = columns.iter().map(|c| {
        let (col, ty) = (&c.name, &c.dsl);
        quote!(#col: #ty)
    });
    let typed_row = typed_row(name, &columns);
    quote! {
        #[doc(hidden)]
        #[allow(unused_macros)]
        macro_rules! #macro_name {
            (@#marker $local:ident; $($block:tt)*) => {
                ::stream_core::stream! { @fields $local { #(#dsl_fields),* } $($block)* }
            };
            ($($other:tt)*) => { ::core::compile_error!(#fallback) };
        }
        #[doc(hidden)]
        #[allow(unused_imports)]
        pub(crate) use #macro_name;

        #typed_row
    }
}

/// `impl TypedRow`: the arrow schema, rows to a batch and back.
pub(crate) fn typed_row(name: &syn::Ident, columns: &[Column]) -> TokenStream {
    let types = quote!(::stream_core::types);
    let row_name = name.unraw().to_string();
    let schema_fields = columns.iter().map(|c| {
        let (col, value, nullable) = (c.name.to_string(), &c.value, c.nullable);
        quote! {
            ::stream_core::__private::arrow_schema::Field::new(
                #col,
                <#value as #types::ColumnValue>::data_type(),
                #nullable,
            )
        }
    });
    let arrays = columns.iter().map(|c| {
        let (field, value) = (&c.field, &c.value);
        let values = if c.nullable {
            quote!(rows.iter().map(|r| ::core::option::Option::as_ref(&r.#field)))
        } else {
            quote!(rows.iter().map(|r| ::core::option::Option::Some(&r.#field)))
        };
        quote!(<#value as #types::ColumnValue>::to_array(#values))
    });
    let vars: Vec<syn::Ident> = (0..columns.len())
        .map(|i| format_ident!("__column_{}", i))
        .collect();
    let reads = columns.iter().zip(&vars).map(|(c, var)| {
        let (col, value) = (c.name.to_string(), &c.value);
        quote! {
            let mut #var = <#value as #types::ColumnValue>::from_array(
                ::stream_core::__private::derive::column(batch, #col, #row_name)?,
                #col,
            )?
            .into_iter();
        }
    });
    let inits = columns.iter().zip(&vars).map(|(c, var)| {
        let (field, col) = (&c.field, c.name.to_string());
        if c.nullable {
            quote!(#field: ::core::iter::Iterator::next(&mut #var).flatten())
        } else {
            quote!(#field: ::stream_core::__private::derive::required(::core::iter::Iterator::next(&mut #var), #col, #row_name)?)
        }
    });
    // A struct without fields (the input row of `group_by(key).agg(count())`, whose key
    // columns are read in place) has a typed empty field list and batches that carry
    // their row count.
    let (fields, batch) = if columns.is_empty() {
        (
            quote!(::std::vec::Vec::<
                ::stream_core::__private::arrow_schema::Field,
            >::new()),
            quote! {
                ::stream_core::__private::arrow_array::RecordBatch::try_new_with_options(
                    <Self as #types::TypedRow>::arrow_schema(),
                    columns,
                    &::stream_core::__private::arrow_array::RecordBatchOptions::new()
                        .with_row_count(::core::option::Option::Some(rows.len())),
                )?
            },
        )
    } else {
        (
            quote!(::std::vec![#(#schema_fields),*]),
            quote! {
                ::stream_core::__private::arrow_array::RecordBatch::try_new(
                    <Self as #types::TypedRow>::arrow_schema(),
                    columns,
                )?
            },
        )
    };
    let byte_types: Vec<TokenStream> = columns
        .iter()
        .map(|c| {
            let value = &c.value;
            if c.nullable {
                quote!(::core::option::Option<#value>)
            } else {
                quote!(#value)
            }
        })
        .collect();
    let writes = columns.iter().zip(&byte_types).map(|(c, ty)| {
        let field = &c.field;
        quote!(<#ty as ::stream_core::state::StateBytes>::write_bytes(&self.#field, out);)
    });
    let byte_reads = columns.iter().zip(&byte_types).map(|(c, ty)| {
        let field = &c.field;
        quote!(#field: <#ty as ::stream_core::state::StateBytes>::read_bytes(input)?)
    });
    quote! {
        #[automatically_derived]
        impl ::stream_core::state::StateBytes for #name {
            fn write_bytes(&self, out: &mut ::std::vec::Vec<u8>) {
                let _ = &out;
                #(#writes)*
            }

            fn read_bytes(input: &mut &[u8]) -> ::stream_core::Result<Self> {
                let _ = &input;
                ::core::result::Result::Ok(#name { #(#byte_reads),* })
            }
        }

        #[automatically_derived]
        impl #types::TypedRow for #name {
            fn arrow_schema() -> ::stream_core::__private::arrow_schema::SchemaRef {
                ::std::sync::Arc::new(::stream_core::__private::arrow_schema::Schema::new(
                    #fields,
                ))
            }

            fn to_batch(
                rows: &[Self],
            ) -> ::stream_core::Result<::stream_core::__private::arrow_array::RecordBatch> {
                let columns: ::std::vec::Vec<::stream_core::__private::arrow_array::ArrayRef> =
                    ::std::vec![#(#arrays),*];
                ::core::result::Result::Ok(#batch)
            }

            fn from_batch(
                batch: &::stream_core::__private::arrow_array::RecordBatch,
            ) -> ::stream_core::Result<::std::vec::Vec<Self>> {
                #(#reads)*
                let mut rows = ::std::vec::Vec::with_capacity(batch.num_rows());
                for _ in 0..batch.num_rows() {
                    rows.push(#name { #(#inits),* });
                }
                ::core::result::Result::Ok(rows)
            }
        }
    }
}

/// A field as a column, or an error on its type.
fn column(cx: &mut Ctxt, field: &syn::Field) -> Option<Column> {
    let ident = field.ident.clone()?;
    let name = ident.unraw();
    let ty = &field.ty;
    let (value, nullable) = match option_inner(ty) {
        Some(inner) => (inner, true),
        None => (ty, false),
    };
    // `Option<Option<T>>`: the error is on the whole type
    let (shown_ty, result) = match option_inner(value) {
        Some(_) => (
            ty,
            Err("one `Option` makes a column nullable: write `Option<T>`".to_string()),
        ),
        None => (value, base_type(value)),
    };
    let base = match result {
        Ok(base) => base,
        Err(help) => {
            let shown = quote!(#shown_ty)
                .to_string()
                .replace(" :: ", "::")
                .replace(" < ", "<")
                .replace(" >", ">")
                .replace("& ", "&");
            cx.syn(syn::Error::new_spanned(
                shown_ty,
                format!("`{shown}` is not a column type\n\n= help: {help}"),
            ));
            return None;
        }
    };
    let span = ty.span();
    let base = syn::Ident::new(base, span);
    let dsl = if nullable {
        quote_spanned!(span=> Option<#base>)
    } else {
        quote!(#base)
    };
    Some(Column {
        field: ident,
        name,
        dsl,
        value: value.clone(),
        nullable,
    })
}

/// The single generic argument of `Option<T>`.
fn option_inner(ty: &syn::Type) -> Option<&syn::Type> {
    generic_arg(ty, "Option")
}

/// `T` of `Wrapper<T>`, for a path type whose last segment is `wrapper`.
fn generic_arg<'a>(ty: &'a syn::Type, wrapper: &str) -> Option<&'a syn::Type> {
    let syn::Type::Path(p) = ty else { return None };
    if p.qself.is_some() {
        return None;
    }
    let last = p.path.segments.last()?;
    if last.ident != wrapper {
        return None;
    }
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    match (args.args.len(), args.args.first()) {
        (1, Some(syn::GenericArgument::Type(t))) => Some(t),
        _ => None,
    }
}

const SUPPORTED: &str = "the column types are `bool`, `i32`, `i64`, `f32`, `f64`, `String`, `Vec<u8>`, `stream_core::types::{Date32, TimestampMs, TimestampUs}`, and `Option<..>` of one of them for a nullable column";

/// The DSL type name of a field type (without `Option`), or the help line of the error.
fn base_type(ty: &syn::Type) -> Result<&'static str, String> {
    let path = match ty {
        syn::Type::Path(p) if p.qself.is_none() => &p.path,
        syn::Type::Reference(r) => {
            return Err(match &*r.elem {
                syn::Type::Path(p) if p.path.is_ident("str") => {
                    "a row owns its values: use `String`".to_string()
                }
                syn::Type::Slice(_) => "a row owns its values: use `Vec<u8>` for bytes".to_string(),
                _ => format!("a row owns its values; {SUPPORTED}"),
            });
        }
        _ => return Err(SUPPORTED.to_string()),
    };
    let Some(last) = path.segments.last() else {
        return Err(SUPPORTED.to_string());
    };
    let name = last.ident.to_string();
    let plain = last.arguments.is_empty();
    let found = match name.as_str() {
        "bool" if plain => Some("bool"),
        "i32" if plain => Some("i32"),
        "i64" if plain => Some("i64"),
        "f32" if plain => Some("f32"),
        "f64" if plain => Some("f64"),
        "String" if plain => Some("string"),
        "Date32" if plain => Some("date"),
        "TimestampMs" if plain => Some("timestamp_ms"),
        "TimestampUs" if plain => Some("timestamp_us"),
        "Vec" => match generic_arg(ty, "Vec") {
            Some(syn::Type::Path(p)) if p.path.is_ident("u8") => Some("binary"),
            _ => {
                return Err(
                    "`Vec<u8>` is the only `Vec` column type (binary); list columns are not supported yet"
                        .to_string(),
                );
            }
        },
        _ => None,
    };
    if let Some(found) = found {
        return Ok(found);
    }
    Err(match name.as_str() {
        "i8" | "i16" | "u8" | "u16" => "use `i32`".to_string(),
        "u32" | "u64" | "usize" | "isize" | "i128" | "u128" => "use `i64`".to_string(),
        "str" | "char" | "Cow" | "Box" | "Rc" | "Arc" => "use `String`".to_string(),
        "NaiveDate" => "use `stream_core::types::Date32` (days since 1970-01-01)".to_string(),
        "DateTime" | "NaiveDateTime" | "SystemTime" | "Timestamp" => {
            "use `stream_core::types::TimestampMs` (or `TimestampUs`): time since the epoch, UTC"
                .to_string()
        }
        _ => {
            let names = [
                "bool",
                "i32",
                "i64",
                "f32",
                "f64",
                "String",
                "Date32",
                "TimestampMs",
                "TimestampUs",
            ];
            match crate::diag::did_you_mean(&name, names) {
                Some(s) => format!("did you mean `{s}`? {SUPPORTED}"),
                None => SUPPORTED.to_string(),
            }
        }
    })
}
