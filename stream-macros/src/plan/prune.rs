//! Column pruning: a pass over the checked plan, before codegen, so that only the
//! columns the pipeline uses are decoded and carried from operator to operator.
//!
//! 1. Backward over each branch: which columns of its input each operator needs, with
//!    everything after it. The sink needs every output column; a projection needs the
//!    columns its kept expressions reference; a filter needs its predicate's columns
//!    plus what follows it. An operator this pass does not know needs everything.
//! 2. Dead outputs: a projection drops the expressions nothing after it reads, so
//!    `with_column(total, ..).select(user, total)` computes and carries only two columns.
//! 3. Sources: a JSON source is told to decode only the columns its branches need
//!    (arrow-json converts only the schema's fields: an unused column is never parsed,
//!    not even one whose values would not decode as its declared type). Memory and rate
//!    sources keep their schema (the engine checks a memory stream's schema against the
//!    pipeline's input schema).
//! 4. Filters: before a filter followed by a projection that uses fewer columns, a
//!    projection keeps only the columns needed from there on, so the filter copies only
//!    those (a projection of plain columns shares the arrays: it costs no copy).
//! 5. Joins: a stream–static join needs of its input its key columns and the columns
//!    read after it, and it outputs only the columns read after it (the stream's and the
//!    table's), so its take kernel copies only those; the rows it outputs are the same
//!    (an inner join still drops the rows without a match, a left outer join keeps
//!    them, a null key still matches nothing). It reads its key values by name, and its
//!    table is still checked against the whole declared schema.
//!
//! The column indices of the operators that read a narrowed schema directly (up to and
//! including the next projection or join) are rewritten. A branch without a projection
//! needs all its columns, so nothing of it is pruned. When the pass meets an expression
//! or an operator it cannot rewrite, the plan is left exactly as it was: pruning saves
//! work, it is never needed for a correct result.

use std::collections::BTreeSet;

use proc_macro2::Span;

use super::{Branch, FileFormat, Plan, Schema, SourceKind, TypedOp};
use crate::check::{TExpr, TKind};

/// The columns of a schema needed from some point on; `None` means all of them.
type Need = Option<BTreeSet<usize>>;

/// Where each column of a schema went after a narrowing: `map[old] = Some(new)`, `None`
/// for a column left out. No map means nothing moved.
type Map = Option<Vec<Option<usize>>>;

/// Prunes `plan` in place (see the module documentation).
pub(crate) fn prune(plan: &mut Plan) {
    if let Some((schemas, branches)) = pruned(plan) {
        for (source, schema) in plan.sources.iter_mut().zip(schemas) {
            source.schema = schema;
        }
        plan.branches = branches;
    }
}

/// The pruned source schemas and branches, or `None` to leave the plan as it is.
fn pruned(plan: &Plan) -> Option<(Vec<Schema>, Vec<Branch>)> {
    let needs: Vec<Vec<Need>> = plan.branches.iter().map(|b| branch_needs(&b.ops)).collect();
    let mut schemas = Vec::with_capacity(plan.sources.len());
    let mut maps: Vec<Map> = Vec::with_capacity(plan.sources.len());
    for (s, source) in plan.sources.iter().enumerate() {
        // the union of what the branches reading this source need
        let mut union: Need = Some(BTreeSet::new());
        let mut read = false;
        for (branch, need) in plan.branches.iter().zip(&needs) {
            if branch.source != s {
                continue;
            }
            read = true;
            union = match (union, need.first()) {
                (Some(mut u), Some(Some(n))) => {
                    u.extend(n);
                    Some(u)
                }
                _ => None,
            };
        }
        let width = source.schema.len();
        let keep = match union {
            // JSON and Parquet read columns by name; CSV by position, text has one
            Some(u)
                if read
                    && matches!(
                        source.kind,
                        SourceKind::File {
                            format: FileFormat::Json | FileFormat::Parquet,
                            ..
                        }
                    ) =>
            {
                Some(at_least_one(u, width))
            }
            _ => None,
        };
        match keep {
            Some(keep) if keep.len() < width => {
                schemas.push(keep.iter().map(|&i| source.schema[i].clone()).collect());
                maps.push(Some(index_map(&keep, width)));
            }
            _ => {
                schemas.push(source.schema.clone());
                maps.push(None);
            }
        }
    }
    let mut branches = Vec::with_capacity(plan.branches.len());
    for (branch, need) in plan.branches.iter().zip(&needs) {
        let map = maps.get(branch.source)?.clone();
        let schema = schemas.get(branch.source)?.clone();
        let mut rewritten = branch.clone();
        rewritten.ops = rewrite(&branch.ops, need, map, schema)?;
        branches.push(rewritten);
    }
    Some((schemas, branches))
}

/// `needs[i]`: the columns of the input of `ops[i]` that it and the operators after it
/// need; `needs[ops.len()]` is the sink's (all of the output).
fn branch_needs(ops: &[TypedOp]) -> Vec<Need> {
    let mut needs: Vec<Need> = vec![None; ops.len() + 1];
    for i in (0..ops.len()).rev() {
        let after = needs[i + 1].clone();
        needs[i] = if let TypedOp::Filter { pred, .. } = &ops[i] {
            after.map(|mut s| {
                s.extend(columns(pred));
                s
            })
        } else if let TypedOp::Project { exprs, .. } = &ops[i] {
            let mut s = BTreeSet::new();
            for j in kept(&after, exprs.len()) {
                s.extend(columns(&exprs[j].1));
            }
            Some(s)
        } else if let TypedOp::Join {
            output,
            left_key,
            left_out,
            ..
        } = &ops[i]
        {
            // its keys, and the stream's columns of the outputs kept (at least one, as
            // `rewrite` keeps them)
            let mut s: BTreeSet<usize> = left_key.iter().copied().collect();
            s.extend(
                kept(&after, output.len())
                    .into_iter()
                    .filter_map(|p| left_out.get(p).copied()),
            );
            Some(s)
        } else if let TypedOp::Map { input, .. } = &ops[i] {
            // the function takes whole rows: every column of its input
            Some((0..input.len()).collect())
        } else {
            None
        };
    }
    needs
}

/// The outputs a projection of `len` expressions (or a join of `len` output columns)
/// keeps when `after` is needed of it (at least one, so that its batches keep a column).
fn kept(after: &Need, len: usize) -> Vec<usize> {
    match after {
        Some(s) => {
            let keep: Vec<usize> = s.iter().copied().filter(|&i| i < len).collect();
            if keep.is_empty() {
                (0..len.min(1)).collect()
            } else {
                keep
            }
        }
        None => (0..len).collect(),
    }
}

/// `need` within a schema of `width` columns, with at least one column when there is one.
fn at_least_one(need: BTreeSet<usize>, width: usize) -> Vec<usize> {
    let keep: Vec<usize> = need.into_iter().filter(|&i| i < width).collect();
    if keep.is_empty() {
        (0..width.min(1)).collect()
    } else {
        keep
    }
}

/// The map of a narrowing to the (ascending) columns `keep` of a schema of `width`.
fn index_map(keep: &[usize], width: usize) -> Vec<Option<usize>> {
    (0..width)
        .map(|old| keep.binary_search(&old).ok())
        .collect()
}

/// Where column `old` is now.
fn new_index(map: &Map, old: usize) -> Option<usize> {
    match map {
        None => Some(old),
        Some(m) => m.get(old).copied().flatten(),
    }
}

fn columns(e: &TExpr) -> Vec<usize> {
    let mut out = Vec::new();
    e.columns(&mut out);
    out
}

/// A plain reference to column `index` of `schema`.
fn column_ref(schema: &Schema, index: usize) -> TExpr {
    TExpr {
        kind: TKind::Column {
            index,
            name: schema[index].name.clone(),
        },
        ty: schema[index].ty,
        constant: false,
        span: Span::call_site(),
    }
}

/// The operators of a branch over its input `schema`, already narrowed as `map` says;
/// `needs` from [`branch_needs`]. `None` when an operator cannot be rewritten.
fn rewrite(
    ops: &[TypedOp],
    needs: &[Need],
    mut map: Map,
    mut schema: Schema,
) -> Option<Vec<TypedOp>> {
    let mut out = Vec::with_capacity(ops.len() + 1);
    for (i, op) in ops.iter().enumerate() {
        let mut op = op.clone();
        if let TypedOp::Filter { pred, .. } = &mut op {
            if let Some(need) = &needs[i] {
                // the columns needed from here on, as they are numbered now
                let mut now = need
                    .iter()
                    .map(|&c| new_index(&map, c))
                    .collect::<Option<Vec<usize>>>()?;
                now.sort_unstable();
                now.dedup();
                if now.is_empty() && !schema.is_empty() {
                    now.push(0);
                }
                if now.last().is_some_and(|&last| last >= schema.len()) {
                    return None;
                }
                if now.len() < schema.len() {
                    let exprs = now
                        .iter()
                        .map(|&c| (schema[c].name.clone(), column_ref(&schema, c)))
                        .collect();
                    let narrowed: Schema = now.iter().map(|&c| schema[c].clone()).collect();
                    out.push(TypedOp::Project {
                        exprs,
                        schema: narrowed.clone(),
                    });
                    let old_width = map.as_ref().map_or(schema.len(), Vec::len);
                    map = Some(
                        (0..old_width)
                            .map(|c| new_index(&map, c).and_then(|x| now.binary_search(&x).ok()))
                            .collect(),
                    );
                    schema = narrowed;
                }
            }
            remap(pred, &map)?;
        } else if let TypedOp::Project {
            exprs,
            schema: projected,
            ..
        } = &mut op
        {
            // drop the outputs nothing after reads, then renumber what the rest reads
            let width = exprs.len();
            let keep = kept(&needs[i + 1], width);
            let narrowed = keep.len() < width && projected.len() == width;
            if narrowed {
                *exprs = keep.iter().map(|&j| exprs[j].clone()).collect();
                *projected = keep.iter().map(|&j| projected[j].clone()).collect();
            }
            for (_, e) in exprs.iter_mut() {
                remap(e, &map)?;
            }
            map = narrowed.then(|| index_map(&keep, width));
            if is_identity(exprs, projected, &schema) {
                // passes its input on unchanged (what is left of a `select` after the
                // projection before it was narrowed): no need to build a batch
                continue;
            }
            schema = projected.clone();
        } else if let TypedOp::Join {
            input,
            output,
            left_key,
            left_out,
            right_out,
            ..
        } = &mut op
        {
            // reads its keys and the stream columns it outputs where they are now (by
            // name for the key values, by position for the rest: both must be the
            // columns it was checked with), and outputs only the columns read after it
            let at = |c: usize| {
                new_index(&map, c)
                    .filter(|&n| schema.get(n).is_some_and(|x| input.get(c) == Some(x)))
            };
            let keep = kept(&needs[i + 1], output.len());
            let keys = left_key
                .iter()
                .map(|&c| at(c))
                .collect::<Option<Vec<usize>>>()?;
            let (mut left, mut right, mut narrowed) = (Vec::new(), Vec::new(), Schema::new());
            for &p in &keep {
                match left_out.get(p) {
                    Some(&c) => left.push(at(c)?),
                    None => right.push(*right_out.get(p - left_out.len())?),
                }
                narrowed.push(output.get(p)?.clone());
            }
            let width = output.len();
            *left_key = keys;
            *left_out = left;
            *right_out = right;
            *input = schema;
            *output = narrowed;
            map = (keep.len() < width).then(|| index_map(&keep, width));
            schema = output.clone();
            out.push(op);
            continue;
        } else if let TypedOp::Map { input, output, .. } = &op {
            // reads its columns by name and needs all of them, so nothing before it was
            // left out; after it, the columns are the function's output row's
            if map.is_some() || schema != *input {
                return None;
            }
            schema = output.clone();
            out.push(op);
            continue;
        } else {
            // an operator this pass does not know: it and what follows stay as they
            // are, which is right only if nothing was renumbered before it
            if map.is_some() {
                return None;
            }
            out.extend(ops[i..].iter().cloned());
            return Some(out);
        }
        out.push(op);
    }
    Some(out)
}

/// Whether a projection returns its input `schema` as it is.
fn is_identity(exprs: &[(String, TExpr)], projected: &Schema, schema: &Schema) -> bool {
    exprs.len() == schema.len()
        && projected == schema
        && exprs.iter().enumerate().all(|(j, (name, e))| {
            *name == schema[j].name && matches!(e.kind, TKind::Column { index, .. } if index == j)
        })
}

/// Renumbers the columns `e` reads; `None` for an expression this pass does not know.
fn remap(e: &mut TExpr, map: &Map) -> Option<()> {
    match map {
        None => Some(()),
        Some(m) => remap_with(e, m),
    }
}

fn remap_with(e: &mut TExpr, map: &[Option<usize>]) -> Option<()> {
    if let TKind::Column { index, .. } = &mut e.kind {
        *index = map.get(*index).copied().flatten()?;
    } else if let TKind::Binary { left, right, .. } = &mut e.kind {
        remap_with(left, map)?;
        remap_with(right, map)?;
    } else if let TKind::Unary { expr, .. } | TKind::Cast { expr, .. } = &mut e.kind {
        remap_with(expr, map)?;
    } else if let TKind::Call { args, .. } = &mut e.kind {
        for a in args {
            remap_with(a, map)?;
        }
    } else if !matches!(e.kind, TKind::Lit(_) | TKind::Capture(_)) {
        return None;
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use proc_macro2::TokenStream;
    use quote::quote;

    use super::*;
    use crate::diag::Ctxt;

    fn plan(input: TokenStream) -> Plan {
        let block = crate::parse::parse_block(input).expect("the block parses");
        let (plan, cx) = crate::check::check_block(&block, Ctxt::default());
        assert!(!cx.has_errors(), "the block checks");
        plan.expect("a plan")
    }

    fn pruned(input: TokenStream) -> Plan {
        let mut plan = plan(input);
        prune(&mut plan);
        plan
    }

    fn names(schema: &Schema) -> String {
        schema
            .iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// An expression with its column numbers: `amount#1`.
    fn expr(e: &TExpr) -> String {
        if let TKind::Column { index, name } = &e.kind {
            format!("{name}#{index}")
        } else if let TKind::Lit(v) = &e.kind {
            format!("{v:?}")
        } else if let TKind::Capture(i) = &e.kind {
            format!("{{capture{i}}}")
        } else if let TKind::Binary { op, left, right } = &e.kind {
            format!("({} {} {})", expr(left), op.symbol(), expr(right))
        } else if let TKind::Unary { op, expr: inner } = &e.kind {
            format!("({op:?} {})", expr(inner))
        } else if let TKind::Cast { expr: inner, to } = &e.kind {
            format!("({} as {})", expr(inner), to.name())
        } else if let TKind::Call { function, args } = &e.kind {
            let args: Vec<String> = args.iter().map(expr).collect();
            format!("{function}({})", args.join(", "))
        } else {
            "?".into()
        }
    }

    fn ops(branch: &Branch) -> Vec<String> {
        branch
            .ops
            .iter()
            .map(|op| {
                if let TypedOp::Filter { pred, .. } = op {
                    format!("filter {}", expr(pred))
                } else if let TypedOp::Project { exprs, schema, .. } = op {
                    assert_eq!(exprs.len(), schema.len(), "a projection's schema fits it");
                    for ((n, e), c) in exprs.iter().zip(schema) {
                        assert_eq!((n, e.ty), (&c.name, c.ty), "a projection's schema fits it");
                    }
                    let items: Vec<String> = exprs
                        .iter()
                        .map(|(n, e)| format!("{} as {n}", expr(e)))
                        .collect();
                    format!("project [{}]", items.join(", "))
                } else if let TypedOp::Join {
                    input,
                    output,
                    left_key,
                    left_out,
                    right_out,
                    ..
                } = op
                {
                    assert_eq!(
                        left_out.len() + right_out.len(),
                        output.len(),
                        "a join's schema fits it"
                    );
                    for (&c, o) in left_out.iter().zip(output) {
                        assert_eq!(&input[c], o, "a join outputs its input's columns");
                    }
                    let key: Vec<String> = left_key
                        .iter()
                        .map(|&c| format!("{}#{c}", input[c].name))
                        .collect();
                    let left: Vec<String> = left_out
                        .iter()
                        .map(|&c| format!("{}#{c}", input[c].name))
                        .collect();
                    format!(
                        "join on [{}] keep [{}] table {right_out:?} -> [{}]",
                        key.join(", "),
                        left.join(", "),
                        names(output)
                    )
                } else {
                    "?".into()
                }
            })
            .collect()
    }

    #[test]
    fn json_source_decodes_only_the_used_columns() {
        let plan = pruned(quote! {
            schema E { id: i64, user: string, country: string, amount: f64, note: Option<string> }
            read(json, path = "in/", schema = E)
                .filter(amount > 50.0)
                .select(user, amount * 2.0 as doubled)
                .write(console)
        });
        assert_eq!(names(&plan.sources[0].schema), "user, amount");
        assert_eq!(
            ops(&plan.branches[0]),
            [
                "filter (amount#1 > Float(50.0))",
                "project [user#0 as user, (amount#1 * Float(2.0)) as doubled]",
            ]
        );
        assert_eq!(names(&plan.output), "user, doubled");
    }

    #[test]
    fn projections_drop_the_outputs_nothing_reads() {
        // `with_column` computes `user` and `total` only; what is left of `drop` and
        // `select` then passes its input on as it is, so it goes
        let plan = pruned(quote! {
            schema E { user: string, amount: f64, qty: i64, country: string }
            read(json, path = "in/", schema = E)
                .with_column(total, amount * qty)
                .drop(country)
                .select(user, total)
                .write(console)
        });
        assert_eq!(names(&plan.sources[0].schema), "user, amount, qty");
        assert_eq!(
            ops(&plan.branches[0]),
            ["project [user#0 as user, (amount#1 * (qty#2 as f64)) as total]"]
        );
    }

    #[test]
    fn memory_source_keeps_its_schema_and_the_filter_gets_the_used_columns() {
        let plan = pruned(quote! {
            schema E { country: string, user: string, amount: f64 }
            read(memory, stream = {input}, schema = E)
                .filter(amount > 50.0)
                .select(user, amount * 2.0 as doubled)
                .write(console)
        });
        assert_eq!(names(&plan.sources[0].schema), "country, user, amount");
        assert_eq!(
            ops(&plan.branches[0]),
            [
                "project [user#1 as user, amount#2 as amount]",
                "filter (amount#1 > Float(50.0))",
                "project [user#0 as user, (amount#1 * Float(2.0)) as doubled]",
            ]
        );
    }

    #[test]
    fn each_filter_of_a_chain_copies_only_what_follows_it_needs() {
        let plan = pruned(quote! {
            schema E { a: i64, b: i64, c: i64, d: i64 }
            read(memory, stream = {input}, schema = E)
                .filter(a > 1)
                .filter(b > 2)
                .select(b, c)
                .write(console)
        });
        assert_eq!(
            ops(&plan.branches[0]),
            [
                "project [a#0 as a, b#1 as b, c#2 as c]",
                "filter (a#0 > Int(1))",
                "project [b#1 as b, c#2 as c]",
                "filter (b#0 > Int(2))",
            ]
        );
    }

    #[test]
    fn a_json_filter_after_pruning_needs_no_extra_projection() {
        // the source already decodes only what the filter and the select use
        let plan = pruned(quote! {
            schema E { a: i64, b: i64, c: i64, d: i64 }
            read(json, path = "in/", schema = E)
                .filter(a > 1 && d < 3)
                .select(d)
                .write(console)
        });
        assert_eq!(names(&plan.sources[0].schema), "a, d");
        assert_eq!(
            ops(&plan.branches[0]),
            [
                "filter ((a#0 > Int(1)) && (d#1 < Int(3)))",
                "project [d#1 as d]"
            ]
        );
    }

    #[test]
    fn a_branch_without_projection_needs_every_column() {
        let input = quote! {
            schema E { a: i64, b: i64, c: i64 }
            read(json, path = "in/", schema = E)
                .filter(a > 1)
                .write(console)
        };
        let plan = pruned(input);
        assert_eq!(names(&plan.sources[0].schema), "a, b, c");
        assert_eq!(ops(&plan.branches[0]), ["filter (a#0 > Int(1))"]);
    }

    #[test]
    fn one_source_read_by_two_branches_decodes_the_union_of_their_columns() {
        let plan = pruned(quote! {
            schema E { id: i64, user: string, amount: f64, country: string, note: string }
            let events = read(json, path = "in/", schema = E);
            let big = events.filter(amount > 1.0).select(user);
            events.select(country as user).union(big).write(console)
        });
        assert_eq!(plan.sources.len(), 1);
        assert_eq!(names(&plan.sources[0].schema), "user, amount, country");
        assert_eq!(plan.branches.len(), 2);
        assert_eq!(ops(&plan.branches[0]), ["project [country#2 as user]"]);
        assert_eq!(
            ops(&plan.branches[1]),
            [
                "project [user#0 as user, amount#1 as amount]",
                "filter (amount#1 > Float(1.0))",
                "project [user#0 as user]",
            ]
        );
    }

    #[test]
    fn a_pipeline_that_reads_no_column_keeps_one() {
        let plan = pruned(quote! {
            schema E { a: i64, b: i64 }
            read(json, path = "in/", schema = E)
                .select(1 as one)
                .write(console)
        });
        assert_eq!(names(&plan.sources[0].schema), "a");
        assert_eq!(ops(&plan.branches[0]), ["project [Int(1) as one]"]);
    }

    #[test]
    fn functions_casts_and_captures_are_renumbered() {
        let plan = pruned(quote! {
            schema E { x: i64, name: Option<string>, y: i32, z: f64 }
            read(json, path = "in/", schema = E)
                .filter(!name.is_null() && y as f64 > {limit})
                .select(-y as neg, name)
                .write(console)
        });
        assert_eq!(names(&plan.sources[0].schema), "name, y");
        let shown = ops(&plan.branches[0]);
        assert_eq!(shown.len(), 2);
        assert!(shown[0].starts_with("filter "), "{shown:?}");
        assert!(
            shown[0].contains("name#0") && shown[0].contains("y#1"),
            "{shown:?}"
        );
        assert!(
            !shown[0].contains("#2") && !shown[0].contains("#3"),
            "{shown:?}"
        );
        assert!(shown[0].contains("{capture0}"), "{shown:?}");
        assert_eq!(shown[1], "project [(Neg y#1) as neg, name#0 as name]");
    }

    #[test]
    fn a_rename_or_a_reorder_is_no_identity() {
        let plan = pruned(quote! {
            schema E { a: i64, b: i64 }
            read(memory, stream = {input}, schema = E)
                .select(a, b)
                .with_column_renamed(a, x)
                .select(b, x)
                .write(console)
        });
        assert_eq!(
            ops(&plan.branches[0]),
            [
                "project [a#0 as x, b#1 as b]",
                "project [b#1 as b, x#0 as x]"
            ]
        );
    }

    #[test]
    fn a_column_the_needs_missed_stops_the_rewrite() {
        let mut e = column_ref(
            &vec![super::super::Column {
                name: "a".into(),
                ty: crate::types::ColType {
                    ty: crate::types::DslType::I64,
                    nullable: false,
                },
            }],
            0,
        );
        assert_eq!(remap(&mut e, &Some(vec![None])), None);
        assert_eq!(remap(&mut e, &Some(vec![Some(3)])), Some(()));
        assert_eq!(expr(&e), "a#3");
        let plan = plan(quote! {
            schema E { a: i64, b: i64 }
            read(json, path = "in/", schema = E).select(b).write(console)
        });
        let ops = &plan.branches[0].ops;
        let needs = branch_needs(ops);
        assert_eq!(needs, [Some(BTreeSet::from([1])), None]);
        // a map that left out the column the branch reads: the branch is not rewritten
        let schema = plan.sources[0].schema.clone();
        assert!(rewrite(ops, &needs, Some(vec![Some(0), None]), schema).is_none());
    }

    #[test]
    fn a_join_reads_and_carries_only_its_keys_and_the_columns_used_after_it() {
        // `country` is the key and nothing reads it after the join: the source reads it,
        // the join does not carry it on; `ts` and `page` are never read
        let plan = pruned(quote! {
            schema E { ts: timestamp_ms, user: string, page: string, amount: f64, country: string }
            schema Region { country: string, region: string }
            read(parquet, path = "in/", schema = E)
                .join({regions}, schema = Region, on = country)
                .select(user, amount, region)
                .write(console)
        });
        assert_eq!(names(&plan.sources[0].schema), "user, amount, country");
        assert_eq!(
            ops(&plan.branches[0]),
            ["join on [country#2] keep [user#0, amount#1] table [1] -> [user, amount, region]"]
        );
        assert_eq!(names(&plan.output), "user, amount, region");
    }

    #[test]
    fn a_join_over_a_memory_stream_takes_only_the_columns_used_after_it() {
        // the memory source keeps its schema: the join itself leaves the others out, and
        // the table's `zone` (never read) is not taken either
        let plan = pruned(quote! {
            schema E { ts: timestamp_ms, user: string, page: string, amount: f64, country: string }
            schema Region { country: string, region: string, zone: i64 }
            read(memory, stream = {input}, schema = E)
                .join({regions}, schema = Region, on = country, how = left)
                .select(user, region, amount)
                .write(console)
        });
        assert_eq!(
            names(&plan.sources[0].schema),
            "ts, user, page, amount, country"
        );
        assert_eq!(
            ops(&plan.branches[0]),
            [
                "join on [country#4] keep [user#1, amount#3] table [1] -> [user, amount, region]",
                "project [user#0 as user, region#2 as region, amount#1 as amount]",
            ]
        );
    }

    #[test]
    fn a_column_read_only_before_a_join_is_read_but_not_carried_through_it() {
        let plan = pruned(quote! {
            schema E { ts: timestamp_ms, user: string, page: string, amount: f64, country: string }
            schema Region { country: string, region: string }
            read(parquet, path = "in/", schema = E)
                .filter(page == "home")
                .with_column(double, amount * 2.0)
                .join({regions}, schema = Region, on = country)
                .filter(region != "EU")
                .select(user, double)
                .write(console)
        });
        assert_eq!(
            names(&plan.sources[0].schema),
            "user, page, amount, country"
        );
        assert_eq!(
            ops(&plan.branches[0]),
            [
                "filter (page#1 == Str(\"home\"))",
                "project [user#0 as user, country#3 as country, (amount#2 * Float(2.0)) as double]",
                "join on [country#1] keep [user#0, double#2] table [1] -> [user, double, region]",
                "filter (region#2 != Str(\"EU\"))",
                "project [user#0 as user, double#1 as double]",
            ]
        );
    }

    #[test]
    fn a_join_whose_output_is_written_whole_keeps_every_column() {
        let plan = pruned(quote! {
            schema E { user: string, country: Option<string>, amount: f64 }
            schema Region { country: string, region: string }
            read(parquet, path = "in/", schema = E)
                .join({regions}, schema = Region, on = country)
                .filter(amount > 1.0)
                .write(console)
        });
        assert_eq!(names(&plan.sources[0].schema), "user, country, amount");
        assert_eq!(
            ops(&plan.branches[0]),
            [
                "join on [country#1] keep [user#0, country#1, amount#2] table [1] -> [user, country, amount, region]",
                "filter (amount#2 > Float(1.0))",
            ]
        );
    }

    #[test]
    fn a_join_read_by_nothing_keeps_one_column_and_its_keys_are_still_read() {
        // an inner join still drops the rows without a match (and repeats the rows with
        // two): the key is read even though no column of the join is
        let plan = pruned(quote! {
            schema E { user: string, amount: f64, country: string, city: string }
            schema Region { country: string, city: string, region: string }
            read(parquet, path = "in/", schema = E)
                .join({regions}, schema = Region, on = [country, city])
                .select(1 as one)
                .write(console)
        });
        assert_eq!(names(&plan.sources[0].schema), "user, country, city");
        assert_eq!(
            ops(&plan.branches[0]),
            [
                "join on [country#1, city#2] keep [user#0] table [] -> [user]",
                "project [Int(1) as one]",
            ]
        );
    }

    #[test]
    fn the_branches_of_a_union_join_each_with_their_own_columns() {
        // the two sources are pruned apart: each branch's join reads its own numbering
        let plan = pruned(quote! {
            schema E { user: string, amount: f64, country: string }
            schema Region { country: string, region: string }
            let a = read(parquet, path = "a/", schema = E);
            let b = read(memory, stream = {input}, schema = E);
            a.union(b)
                .join({regions}, schema = Region, on = country)
                .select(region)
                .write(console)
        });
        assert_eq!(names(&plan.sources[0].schema), "country");
        assert_eq!(names(&plan.sources[1].schema), "user, amount, country");
        let shown: Vec<Vec<String>> = plan.branches.iter().map(ops).collect();
        assert!(
            shown.contains(&vec![
                "join on [country#0] keep [] table [1] -> [region]".to_string()
            ]),
            "{shown:?}"
        );
        assert!(
            shown.contains(&vec![
                "join on [country#2] keep [] table [1] -> [region]".to_string()
            ]),
            "{shown:?}"
        );
    }

    #[test]
    fn the_rate_source_keeps_its_columns() {
        let plan = pruned(quote! {
            read(rate, rows_per_second = 10)
                .select(value)
                .write(console)
        });
        assert_eq!(names(&plan.sources[0].schema), "timestamp, value");
        assert_eq!(ops(&plan.branches[0]), ["project [value#1 as value]"]);
    }
}
