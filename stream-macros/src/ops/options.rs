//! Option lists of `read(..)` and `write(..)`: known names, no repeats.

use std::collections::HashMap;

use crate::check::Checker;
use crate::diag::did_you_mean;
use crate::parse::OptionArg;

/// Checks `options` against the names `kind` takes; returns them by name. Unknown and
/// repeated options are errors on their names.
pub(crate) fn by_name<'a>(
    cx: &mut Checker,
    what: &str,
    kind: &syn::Ident,
    options: &'a [OptionArg],
    known: &[&str],
) -> Option<HashMap<String, &'a OptionArg>> {
    let mut out = HashMap::new();
    let mut ok = true;
    for option in options {
        let name = option.name.to_string();
        if let crate::parse::OptionValue::Capture(_) = &option.value
            && known.contains(&name.as_str())
            && let Some((why, fix)) = super::compile_time::option(&kind.to_string(), &name)
        {
            super::compile_time::refuse(cx, option.value.span(), &format!("`{name}`"), why, fix);
            ok = false;
        } else if !known.contains(&name.as_str()) {
            let help = match did_you_mean(&name, known.iter().copied()) {
                Some(s) => format!("did you mean `{s}`?"),
                None if known.is_empty() => format!("`{kind}` takes no options"),
                None => format!("`{kind}` takes: {}", known.join(", ")),
            };
            cx.cx.error(
                option.name.span(),
                format!("unknown {what} option `{name}` for `{kind}`"),
                help,
            );
            ok = false;
        } else if out.insert(name.clone(), option).is_some() {
            cx.cx.error(
                option.name.span(),
                format!("option `{name}` is given twice"),
                "keep one of them",
            );
            ok = false;
        }
    }
    ok.then_some(out)
}

/// The value of a `{ .. }` capture, to pass to the builder call the option stands for:
/// rustc checks its type there, on the user's tokens, and the builder (or the source or
/// sink when the query starts) checks its value as it checks the literal's; `None` for a
/// literal or a name.
pub(crate) fn capture(option: &OptionArg) -> Option<proc_macro2::TokenStream> {
    matches!(option.value, crate::parse::OptionValue::Capture(_))
        .then(|| crate::codegen::capture_inner(&option.value))
}

/// Reports a missing required option on the kind's name.
pub(crate) fn require<'a>(
    cx: &mut Checker,
    kind: &syn::Ident,
    options: &HashMap<String, &'a OptionArg>,
    name: &str,
    example: &str,
) -> Option<&'a OptionArg> {
    let found = options.get(name).copied();
    if found.is_none() {
        cx.cx.error(
            kind.span(),
            format!("`{kind}` needs the option `{name}`"),
            format!("add it: `{example}`"),
        );
    }
    found
}

/// An option that takes text (`path`, `name`): a string literal, a bare name (taken as its
/// text) or a captured Rust value. Other literals are refused on the token.
pub(crate) fn text(cx: &mut Checker, option: &OptionArg, example: &str) -> bool {
    if let crate::parse::OptionValue::Lit(lit) = &option.value
        && !matches!(lit, syn::Lit::Str(_))
    {
        cx.cx.error(
            lit.span(),
            format!("`{}` takes a string", option.name),
            format!("write `{example}`"),
        );
        return false;
    }
    // an empty path, name or id can never work (a CSV `null_value` may be empty)
    if let crate::parse::OptionValue::Lit(syn::Lit::Str(s)) = &option.value
        && s.value().trim().is_empty()
        && option.name != "null_value"
    {
        cx.cx.error(
            s.span(),
            format!("`{}` is empty", option.name),
            format!("write `{example}`"),
        );
        return false;
    }
    true
}

/// An option that takes a duration (`max_file_age = "7 days"`, `retention`,
/// `request_timeout`): a string, read here, or a captured `std::time::Duration`. The
/// `Duration` expression; `what` names the value in the error (`the age`, `the
/// retention`), `example` is the value the help line suggests.
pub(crate) fn duration(
    cx: &mut Checker,
    option: &OptionArg,
    what: &str,
    example: &str,
) -> Option<proc_macro2::TokenStream> {
    if let Some(value) = capture(option) {
        return Some(value);
    }
    match &option.value {
        crate::parse::OptionValue::Lit(syn::Lit::Str(s)) => {
            let ms = super::settings::interval_ms(&s.value());
            if ms.is_none() {
                cx.cx.error(
                    s.span(),
                    unreadable_interval(what, &s.value()),
                    "write a number and a unit: \"7 days\", \"12 hours\"",
                );
            }
            ms.map(|ms| quote::quote!(::std::time::Duration::from_millis(#ms)))
        }
        other => {
            cx.cx.error(
                other.span(),
                format!("`{}` takes a duration as a string", option.name),
                format!(
                    "write `{} = \"{example}\"`, or capture a `std::time::Duration`: `{} = {{duration}}`",
                    option.name, option.name
                ),
            );
            None
        }
    }
}

/// The error of an interval string that is not one the operator takes (`what` names it:
/// "the delay", "the gap"): one that reads as a negative interval is told it is negative.
pub(crate) fn unreadable_interval(what: &str, text: &str) -> String {
    if super::settings::parse_interval(text).is_some_and(|i| i.months < 0 || i.micros < 0) {
        format!("{what} `{text}` is negative: it is a length of time")
    } else {
        format!("cannot read {what} `{text}`")
    }
}
