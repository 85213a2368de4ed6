//! The tutorial of the streaming library, as a crate: every chapter listed in
//! `src/SUMMARY.md` becomes the documentation of one module, so `cargo test -p book`
//! compiles and runs every Rust code block of the book as a doc test.
//!
//! Read the book itself with `mdbook build book` (or `mdbook serve book`); this crate has
//! no code of its own.

include!(concat!(env!("OUT_DIR"), "/chapters.rs"));
