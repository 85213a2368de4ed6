//! The `stream!` macro's code (stream-macros/src), compiled as a plain library for the
//! macro fuzz targets: a proc-macro crate can export nothing but its macros. The modules
//! are the crate's own files; [`expand_stream`] is what `stream!` runs.

#![allow(dead_code, unused_imports, unreachable_pub, missing_docs)]

#[path = "../../stream-macros/src/check/mod.rs"]
mod check;
#[path = "../../stream-macros/src/codegen/mod.rs"]
mod codegen;
#[path = "../../stream-macros/src/derive.rs"]
mod derive;
#[path = "../../stream-macros/src/diag.rs"]
mod diag;
#[path = "../../stream-macros/src/expand.rs"]
mod expand;
#[path = "../../stream-macros/src/ops/mod.rs"]
mod ops;
#[path = "../../stream-macros/src/parse/mod.rs"]
mod parse;
#[path = "../../stream-macros/src/plan/mod.rs"]
mod plan;
#[path = "../../stream-macros/src/schema_file.rs"]
mod schema_file;
#[path = "../../stream-macros/src/types.rs"]
mod types;

/// Expands a `stream!` block (stream-macros' `expand::stream_inner`).
pub fn expand_stream(input: proc_macro2::TokenStream) -> proc_macro2::TokenStream {
    expand::stream_inner(input)
}

/// Expands `#[derive(Schema)]` on `input`.
pub fn derive_schema(input: proc_macro2::TokenStream) -> proc_macro2::TokenStream {
    derive::derive_schema(input)
}

/// Whether the text of a block names a schema file that could block the process
/// (`file("/dev/stdin")`): the macro reads the file it is given, as it must.
pub fn names_a_device(text: &str) -> bool {
    ["/dev", "/proc", "/sys"].iter().any(|d| text.contains(d))
}

/// Schemas and modes of the decoder targets, chosen by the input's first byte.
pub mod files {
    use std::sync::Arc;

    use stream_core::__fuzz::arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
    use stream_core::ParseMode;

    /// The parse mode of `selector`.
    pub fn mode(selector: u8) -> ParseMode {
        match selector % 3 {
            0 => ParseMode::FailFast,
            1 => ParseMode::DropMalformed,
            _ => ParseMode::Permissive,
        }
    }

    /// One of the record schemas (JSON, CSV) of `selector`: every column type of the
    /// DSL, nullable or not, with or without the corrupt-record column.
    pub fn record_schema(selector: u8, nested: bool) -> SchemaRef {
        let nullable = selector & 1 == 0;
        let mut fields = vec![
            Field::new("id", DataType::Int64, nullable),
            Field::new("name", DataType::Utf8, true),
            Field::new("score", DataType::Float64, true),
            Field::new("ok", DataType::Boolean, nullable),
            Field::new(
                "ts",
                DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
                true,
            ),
            Field::new("day", DataType::Date32, true),
            Field::new("n", DataType::Int32, true),
            Field::new("x", DataType::Float32, true),
            Field::new(
                "us",
                DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
                true,
            ),
        ];
        if nested {
            fields.push(Field::new(
                "tags",
                DataType::List(Arc::new(Field::new("item", DataType::Utf8, false))),
                true,
            ));
            fields.push(Field::new("raw", DataType::Binary, true));
        }
        if selector & 2 == 0 {
            fields.push(Field::new(
                stream_core::__fuzz::CORRUPT_COLUMN,
                DataType::Utf8,
                true,
            ));
        }
        if selector & 4 == 0 {
            fields.truncate(3);
        }
        Arc::new(Schema::new(fields))
    }
}

/// Structure-aware edits of real `stream!` blocks, for the `macro_edit` target.
pub mod edit {
    use std::str::FromStr;

    use proc_macro2::{Delimiter, Group, Ident, Literal, Punct, Spacing, TokenStream, TokenTree};

    thread_local! {
        // (proc_macro2's tokens are neither Send nor Sync)
        static BLOCKS: Vec<TokenStream> = include_str!("../stream_blocks.txt")
            .split(SEPARATOR)
            .filter_map(|b| TokenStream::from_str(b).ok())
            .filter(|b| !b.is_empty())
            .collect();
        static WORDS: Vocabulary = vocabulary();
    }

    /// How many blocks fuzz/stream_blocks.txt has (the bodies of the `stream!` blocks
    /// of tests/tests, the book and the examples).
    pub fn block_count() -> usize {
        BLOCKS.with(Vec::len)
    }

    /// Block `index` of fuzz/stream_blocks.txt, tokenized.
    pub fn block(index: usize) -> TokenStream {
        BLOCKS.with(|b| b[index % b.len()].clone())
    }

    /// The line between two blocks of fuzz/stream_blocks.txt.
    pub const SEPARATOR: &str = "\n//----\n";

    /// Every identifier, literal and punctuation of the blocks, and edge values.
    struct Vocabulary {
        idents: Vec<Ident>,
        literals: Vec<Literal>,
    }

    fn vocabulary() -> Vocabulary {
        {
            let mut idents = Vec::new();
            let mut literals: Vec<Literal> = [
                "0",
                "-1",
                "1",
                "18446744073709551615",
                "340282366920938463463374607431768211456",
                "1e400",
                "-0.0",
                "0.5",
                "\"\"",
                "\"0 ms\"",
                "\"-1 second\"",
                "\"99999999999999999999 days\"",
                "\"1 ms\"",
                "\"10 years\"",
                "\"\\u{0}\"",
                "\"a b\"",
                "'x'",
                "b\"x\"",
                "1u8",
                "\"*.json\"",
                "\"\\\\d+\"",
                "\"(\"",
            ]
            .iter()
            .filter_map(|l| Literal::from_str(l).ok())
            .collect();
            fn walk(s: &TokenStream, idents: &mut Vec<Ident>, literals: &mut Vec<Literal>) {
                for t in s.clone() {
                    match t {
                        TokenTree::Ident(i) => idents.push(i),
                        TokenTree::Literal(l) => literals.push(l),
                        TokenTree::Group(g) => walk(&g.stream(), idents, literals),
                        TokenTree::Punct(_) => {}
                    }
                }
            }
            BLOCKS.with(|blocks| {
                for b in blocks {
                    walk(b, &mut idents, &mut literals);
                }
            });
            idents.sort_by_key(Ident::to_string);
            idents.dedup_by_key(|i| i.to_string());
            Vocabulary { idents, literals }
        }
    }

    const PUNCTS: &[char] = &[
        ',', ';', '.', '=', '>', '<', '-', '+', '*', '/', '!', ':', '&', '|', '%', '@', '#', '?',
    ];

    /// A block as a tree of token trees, to edit.
    pub struct Edits {
        trees: Vec<Node>,
    }

    #[derive(Clone)]
    enum Node {
        Leaf(TokenTree),
        Group(Delimiter, Vec<Node>),
    }

    fn nodes(s: &TokenStream) -> Vec<Node> {
        s.clone()
            .into_iter()
            .map(|t| match t {
                TokenTree::Group(g) => Node::Group(g.delimiter(), nodes(&g.stream())),
                leaf => Node::Leaf(leaf),
            })
            .collect()
    }

    fn tokens(nodes: &[Node]) -> TokenStream {
        nodes
            .iter()
            .map(|n| match n {
                Node::Leaf(t) => t.clone(),
                Node::Group(d, inner) => TokenTree::Group(Group::new(*d, tokens(inner))),
            })
            .collect()
    }

    fn count(nodes: &[Node]) -> usize {
        nodes
            .iter()
            .map(|n| match n {
                Node::Leaf(_) => 1,
                Node::Group(_, inner) => 1 + count(inner),
            })
            .sum()
    }

    /// The list holding the `at`-th node (pre-order) and its index there.
    fn locate(nodes: &mut Vec<Node>, mut at: usize) -> Option<(&mut Vec<Node>, usize)> {
        let mut i = 0;
        while i < nodes.len() {
            if at == 0 {
                return Some((nodes, i));
            }
            at -= 1;
            let inner = match &nodes[i] {
                Node::Group(_, inner) => count(inner),
                Node::Leaf(_) => 0,
            };
            if at < inner {
                let Node::Group(_, inner) = &mut nodes[i] else {
                    return None;
                };
                return locate(inner, at);
            }
            at -= inner;
            i += 1;
        }
        None
    }

    fn node_at(nodes: &mut Vec<Node>, at: usize) -> Option<Node> {
        locate(nodes, at).map(|(list, i)| list[i].clone())
    }

    impl Edits {
        /// The trees of `block`.
        pub fn new(block: &TokenStream) -> Self {
            Edits {
                trees: nodes(block),
            }
        }

        /// The block after the edits `ops` (3 bytes each: the edit, then where).
        pub fn apply(self, ops: &[u8]) -> TokenStream {
            WORDS.with(|words| self.apply_with(words, ops))
        }

        fn apply_with(mut self, words: &Vocabulary, ops: &[u8]) -> TokenStream {
            for op in ops.chunks_exact(3).take(64) {
                let total = count(&self.trees);
                if total == 0 {
                    break;
                }
                let at = usize::from(u16::from_le_bytes([op[1], op[2]])) % total;
                let pick = usize::from(op[0] >> 3) * 131 + usize::from(op[1]);
                match op[0] & 7 {
                    0 => {
                        if let Some((list, i)) = locate(&mut self.trees, at) {
                            list.remove(i);
                        }
                    }
                    1 => {
                        if let Some((list, i)) = locate(&mut self.trees, at) {
                            let copy = list[i].clone();
                            list.insert(i, copy);
                        }
                    }
                    2 => {
                        // the tree at another place goes here too
                        let from = (at + pick) % total;
                        if let Some(copy) = node_at(&mut self.trees, from)
                            && let Some((list, i)) = locate(&mut self.trees, at)
                        {
                            list[i] = copy;
                        }
                    }
                    3 => {
                        if let Some((list, i)) = locate(&mut self.trees, at) {
                            let word = words.idents[pick % words.idents.len()].clone();
                            list[i] = Node::Leaf(TokenTree::Ident(word));
                        }
                    }
                    4 => {
                        if let Some((list, i)) = locate(&mut self.trees, at) {
                            let literal = words.literals[pick % words.literals.len()].clone();
                            list[i] = Node::Leaf(TokenTree::Literal(literal));
                        }
                    }
                    5 => {
                        if let Some((list, i)) = locate(&mut self.trees, at)
                            && let Node::Group(d, _) = &mut list[i]
                        {
                            *d = [
                                Delimiter::Parenthesis,
                                Delimiter::Brace,
                                Delimiter::Bracket,
                                Delimiter::None,
                            ][pick % 4];
                        }
                    }
                    6 => {
                        if let Some((list, i)) = locate(&mut self.trees, at) {
                            let c = PUNCTS[pick % PUNCTS.len()];
                            let spacing = if op[0] & 8 == 0 {
                                Spacing::Alone
                            } else {
                                Spacing::Joint
                            };
                            list.insert(i, Node::Leaf(TokenTree::Punct(Punct::new(c, spacing))));
                        }
                    }
                    _ => {
                        // a tree of another block
                        let mut other = nodes(&block(pick));
                        let n = count(&other);
                        if let Some(copy) = node_at(&mut other, usize::from(op[2]) % n.max(1))
                            && let Some((list, i)) = locate(&mut self.trees, at)
                        {
                            list.insert(i, copy);
                        }
                    }
                }
            }
            tokens(&self.trees)
        }
    }
}

/// Lets a panic raised inside an Arrow crate unwind instead of aborting at once, for the
/// readers that catch Arrow's panics on malformed IPC and return the file's error
/// (`state::codec::read_ipc`): a panic anywhere else still aborts (libFuzzer's crash),
/// and so does an Arrow panic that nothing catches (libfuzzer-sys aborts on a panic
/// leaving the target).
pub fn let_arrow_panics_unwind() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let report = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let in_arrow = info
                .location()
                .is_some_and(|l| l.file().contains("/arrow-"));
            if !in_arrow {
                report(info);
                std::process::abort();
            }
        }));
    });
}
