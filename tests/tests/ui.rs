//! The compile-time checks of `stream!`, as a user sees them: every file under
//! `tests/ui/<category>/` must fail to compile with exactly the diagnostics of its
//! `.stderr` (the error on the offending token, with a help line), and every file under
//! `tests/ui/pass/` must compile.
//!
//! Regenerate the `.stderr` files with `TRYBUILD=overwrite cargo test -p tests --test ui`
//! and read every changed one before committing: they depend on the pinned toolchain.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    for category in [
        "syntax",
        "unknown_column",
        "types",
        "functions",
        "schema",
        "sinks_and_options",
        "stateful",
        "joins",
        "kafka",
    ] {
        t.compile_fail(format!("ui/{category}/*.rs"));
    }
    t.pass("ui/pass/*.rs");
}
