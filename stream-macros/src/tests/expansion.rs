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
