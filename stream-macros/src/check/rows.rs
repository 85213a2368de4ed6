//! Row structs: the Rust types of the rows `map` / `flat_map` take and return, and of
//! the rows a query's output is read back as.
//!
//! A row of a schema declared in the block is that schema's struct: the user's own
//! `#[derive(Schema)]` struct, or a struct the expansion declares for an inline schema
//! (under the schema's name, so a closure in the block can build one). Columns that no
//! block schema has exactly (names, types, nullability, order) get a struct the
//! expansion makes up (`Row`, `Input0`, ...), which the user reaches by type inference.

use proc_macro2::Span;
use syn::Ident;

use super::Checker;
use crate::plan::Schema;

/// A schema the block declares, in declaration order.
pub(crate) struct NamedSchema {
    pub(crate) name: Ident,
    pub(crate) schema: Schema,
    /// The struct of `schema Event = path::to::Event;`.
    pub(crate) derived: Option<syn::Path>,
}

/// A row struct of the expansion.
#[derive(Clone, Debug)]
pub(crate) struct RowDef {
    pub(crate) schema: Schema,
    pub(crate) kind: RowKind,
    pub(crate) role: RowRole,
}

/// What else a row struct is besides a row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RowRole {
    /// Only a row.
    Plain,
    /// A group or join key: compared and hashed as Spark groups values, with a stable
    /// hash that picks its shuffle partition; kept in a state store.
    Key,
    /// A deduplication key: a [`RowRole::Key`] whose values are only compared, hashed
    /// and stored, never read back, so its strings are the runtime's inline
    /// `KeyString`s.
    DedupKey,
    /// A value kept in a state store (an accumulator).
    State,
}

/// Where a row struct comes from.
#[derive(Clone, Debug)]
pub(crate) enum RowKind {
    /// An inline schema of the block: the expansion declares the struct by this name.
    Inline(Ident),
    /// A `#[derive(Schema)]` struct, named by its path.
    Derived(syn::Path),
    /// Made up by the expansion, declared in its rows module.
    Generated(Ident),
}

/// A `map` or `flat_map` function: the user's closure or fn, with its row types.
#[derive(Clone)]
pub(crate) struct MapFn {
    pub(crate) f: syn::Expr,
    pub(crate) flat: bool,
    pub(crate) input: usize,
    pub(crate) output: usize,
}

impl Checker {
    /// The row struct of the block schema `name` (declared and checked already).
    pub(crate) fn named_row(&mut self, name: &Ident) -> Option<usize> {
        let named = self.named.iter().find(|n| n.name == *name)?;
        let kind = match &named.derived {
            Some(path) => RowKind::Derived(path.clone()),
            None => RowKind::Inline(named.name.clone()),
        };
        let def = RowDef {
            schema: named.schema.clone(),
            kind,
            role: RowRole::Plain,
        };
        Some(self.add_row(def))
    }

    /// The row struct of `schema`: the first block schema with exactly these columns, or
    /// a struct made up under `made_up` (numbered when the name is taken).
    pub(crate) fn row_for(&mut self, schema: &Schema, made_up: &str) -> usize {
        let same = self
            .named
            .iter()
            .find(|n| n.schema == *schema)
            .map(|n| n.name.clone());
        if let Some(name) = same
            && let Some(row) = self.named_row(&name)
        {
            return row;
        }
        if let Some(existing) = self
            .rows
            .iter()
            .position(|r| matches!(r.kind, RowKind::Generated(_)) && r.schema == *schema)
        {
            return existing;
        }
        let taken = |n: &str, rows: &[RowDef]| {
            rows.iter()
                .any(|r| matches!(&r.kind, RowKind::Generated(i) if i == n))
        };
        let mut name = made_up.to_string();
        let mut k = 0;
        while taken(&name, &self.rows) {
            name = format!("{made_up}{k}");
            k += 1;
        }
        self.add_row(RowDef {
            schema: schema.clone(),
            kind: RowKind::Generated(Ident::new(&name, Span::call_site())),
            role: RowRole::Plain,
        })
    }

    /// A struct made up for an operator's own use (never a block schema's), named
    /// `name`, which must be unique.
    pub(crate) fn internal_row(&mut self, schema: Schema, name: String, role: RowRole) -> usize {
        self.rows.push(RowDef {
            schema,
            kind: RowKind::Generated(Ident::new(&name, Span::call_site())),
            role,
        });
        self.rows.len() - 1
    }

    fn add_row(&mut self, def: RowDef) -> usize {
        let same = |a: &RowKind, b: &RowKind| match (a, b) {
            (RowKind::Inline(x), RowKind::Inline(y)) => x == y,
            (RowKind::Derived(x), RowKind::Derived(y)) => x == y,
            (RowKind::Generated(x), RowKind::Generated(y)) => x == y,
            _ => false,
        };
        if let Some(i) = self.rows.iter().position(|r| same(&r.kind, &def.kind)) {
            return i;
        }
        self.rows.push(def);
        self.rows.len() - 1
    }
}
