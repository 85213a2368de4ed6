//! Turns every chapter of the book into a module whose documentation is the chapter, so
//! that rustdoc runs the chapters' Rust code blocks as doc tests.
//!
//! The chapters are the `(file.md)` links of `src/SUMMARY.md`, in order. Each becomes
//!
//! ```text
//! #[doc = include_str!("/abs/path/to/book/src/chapter.md")]
//! pub mod chapter {}
//! ```
//!
//! in `$OUT_DIR/chapters.rs`, which `lib.rs` includes.

use std::collections::BTreeSet;
use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

fn main() {
    let manifest_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let src = manifest_dir.join("src");
    let summary_path = src.join("SUMMARY.md");
    println!("cargo:rerun-if-changed={}", summary_path.display());
    let summary = fs::read_to_string(&summary_path)
        .unwrap_or_else(|e| panic!("cannot read `{}`: {e}", summary_path.display()));

    let mut out = String::new();
    let mut names = BTreeSet::new();
    for link in chapter_links(&summary) {
        let path = src.join(&link);
        if !path.is_file() {
            panic!(
                "`{}` links `{link}`, but `{}` is not a file",
                summary_path.display(),
                path.display()
            );
        }
        println!("cargo:rerun-if-changed={}", path.display());
        let name = module_name(&link);
        if !names.insert(name.clone()) {
            panic!("two chapters map to the module name `{name}`; rename one of `{link}`");
        }
        let absolute = path
            .canonicalize()
            .unwrap_or_else(|e| panic!("cannot resolve `{}`: {e}", path.display()));
        writeln!(
            out,
            "#[doc = include_str!({})]\npub mod {name} {{}}\n",
            rust_string(&absolute)
        )
        .expect("writing to a String cannot fail");
    }
    if names.is_empty() {
        panic!("`{}` links no chapters", summary_path.display());
    }

    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("set by cargo"));
    fs::write(out_dir.join("chapters.rs"), out).expect("write chapters.rs");
}

/// The targets of the Markdown links `[title](target.md)` in SUMMARY.md, in order,
/// without duplicates. Links to other files (and to URLs) are not chapters.
fn chapter_links(summary: &str) -> Vec<String> {
    let mut links: Vec<String> = Vec::new();
    for line in summary.lines() {
        let mut rest = line;
        while let Some(open) = rest.find("](") {
            rest = &rest[open + 2..];
            let Some(close) = rest.find(')') else { break };
            let target = rest[..close].trim();
            rest = &rest[close + 1..];
            // `chapter.md#section` is still the chapter `chapter.md`
            let file = target.split('#').next().unwrap_or_default();
            if file.ends_with(".md") && !file.contains("://") && !links.iter().any(|l| l == file) {
                links.push(file.to_string());
            }
        }
    }
    links
}

/// `engine/micro-batches.md` -> `engine_micro_batches`: a snake_case Rust identifier.
fn module_name(link: &str) -> String {
    let stem = Path::new(link).with_extension("");
    let mut name = String::new();
    for c in stem.to_string_lossy().chars() {
        if c.is_ascii_alphanumeric() {
            name.push(c.to_ascii_lowercase());
        } else if !name.ends_with('_') {
            name.push('_');
        }
    }
    let name = name.trim_matches('_').to_string();
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) || is_keyword(&name) {
        format!("chapter_{name}")
    } else {
        name
    }
}

/// A Rust string literal for `path` (Debug quoting escapes `\` and `"`).
fn rust_string(path: &Path) -> String {
    format!(
        "{:?}",
        path.to_str().expect("the book's path is valid UTF-8")
    )
}

/// Whether `name` is a Rust keyword, which cannot name a module.
fn is_keyword(name: &str) -> bool {
    const KEYWORDS: &[&str] = &[
        "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum",
        "extern", "false", "fn", "for", "gen", "if", "impl", "in", "let", "loop", "match", "mod",
        "move", "mut", "pub", "ref", "return", "self", "static", "struct", "super", "trait",
        "true", "try", "type", "unsafe", "use", "where", "while", "abstract", "become", "box",
        "do", "final", "macro", "override", "priv", "typeof", "unsized", "virtual", "yield",
    ];
    KEYWORDS.contains(&name)
}
