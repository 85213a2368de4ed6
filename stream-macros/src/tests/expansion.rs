use quote::quote;

use crate::expand::stream_inner;

/// The expansion, formatted, for a snapshot.
fn expand(input: proc_macro2::TokenStream) -> String {
    let tokens = stream_inner(input);
    let file: syn::File =
        syn::parse2(quote!(fn __expansion() { let _ = #tokens; })).expect("expansion parses");
    prettyplease::unparse(&file)
}

#[test]
fn filter_and_select() {
    insta::assert_snapshot!(expand(quote! {
        schema Event { user: string, amount: f64, country: Option<string> }
        read(json, path = "landing/", schema = Event)
            .filter(amount > 50.0 && country == "DE")
            .select(user, amount * 2 as doubled)
            .write(console)
    }));
}

#[test]
fn derive_schema_and_callback() {
    // the derive: a callback macro carrying the fields as DSL tokens, made
    // path-addressable, and `TypedRow` (rows ⇄ record batches)
    let derived = crate::derive::derive_schema(quote! {
        struct Event {
            ts: stream_core::types::TimestampMs,
            user: String,
            amount: Option<f64>,
            payload: Vec<u8>,
            r#type: Option<String>,
        }
    });
    let file: syn::File = syn::parse2(derived).expect("derive output parses");
    insta::assert_snapshot!("derive_schema", prettyplease::unparse(&file));
    // a block naming the struct, before its fields are in: a call of the callback with
    // the whole block, next to a check that the struct has the derive
    insta::assert_snapshot!(
        "derive_schema_callback",
        expand(quote! {
            schema Event = crate::model::Event;
            read(json, path = "landing/", schema = Event).write(console)
        })
    );
}

#[test]
fn pruned_json_pipeline() {
    // `id`, `country` and `note` are never read: the source decodes `user`, `amount` and
    // `qty` only (renumbered 0, 1, 2), and `with_column` computes only what `select` keeps
    insta::assert_snapshot!(expand(quote! {
        schema Order { id: i64, user: string, country: string, amount: f64, qty: i64, note: Option<string> }
        read(json, path = "landing/", schema = Order)
            .filter(amount > 50.0)
            .with_column(total, amount * qty)
            .select(user, total)
            .write(console)
    }));
}
