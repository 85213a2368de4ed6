//! Key struct fields read in place from the columns of a batch, through
//! `stream_core::__private::KeyColumn`: how an aggregation's map side and a join build
//! the key of each row without an owned value per row.

use proc_macro2::TokenStream;
use quote::quote;

/// One key field and the column it is read from.
pub(crate) struct KeyColumn {
    /// The typed column's variable (`__kr<N>`).
    pub(crate) reader: syn::Ident,
    /// The column's name in the batch.
    pub(crate) column: String,
    /// The key struct's field.
    pub(crate) field: syn::Ident,
    /// The field's Rust type (an `Option` for a nullable one).
    pub(crate) ty: TokenStream,
}

/// `let <reader> = KeyColumn::reader(<batch>, "<column>", "<row>")?;` for each column.
pub(crate) fn readers(columns: &[KeyColumn], batch: &TokenStream, row: &str) -> Vec<TokenStream> {
    columns
        .iter()
        .map(|KeyColumn { reader, column, ty, .. }| {
            quote! {
                let #reader = <#ty as ::stream_core::__private::KeyColumn>::reader(#batch, #column, #row)?;
            }
        })
        .collect()
}

/// The key struct's fields made from row `__i`, for a new key.
pub(crate) fn fields(columns: &[KeyColumn]) -> Vec<TokenStream> {
    columns
        .iter()
        .map(
            |KeyColumn {
                 reader, field, ty, ..
             }| {
                quote!(#field: <#ty as ::stream_core::__private::KeyColumn>::read(&#reader, __i)?)
            },
        )
        .collect()
}

/// Statements that set the scratch key `__s`'s fields from row `__i`, reusing their
/// buffers.
pub(crate) fn reuse(columns: &[KeyColumn]) -> Vec<TokenStream> {
    columns
        .iter()
        .map(|KeyColumn { reader, field, ty, .. }| {
            quote!(<#ty as ::stream_core::__private::KeyColumn>::read_into(&#reader, __i, &mut __s.#field)?;)
        })
        .collect()
}
