//! The plan's text for people: what `Pipeline::explain` of a `stream!` pipeline returns
//! (`StreamingQuery::explain`, the live page's plan), as a tree in the manner of Spark's
//! `explain()`, written with the DSL's names and expressions.
//!
//! The sink is the root; each operator's input hangs under it (`+-` before the last
//! input, `:-` before the others), down to the sources with the columns they read once
//! the passes pruned them. A stateful operator's input ends a stage: an `Exchange` line
//! says which columns route its rows to their shuffle partition. The text is read from
//! the plan after the passes, so it shows what runs: fused projections, pruned columns.
//!
//! It is not a checkpoint format (`fingerprint.rs`'s `describe` is): it may change with
//! any release. The expansion carries it as one string literal.

use quote::ToTokens;

use super::{
    Branch, Plan, Schema, SinkPlan, SourceKind, SourcePlan, Trigger, TypedOp, WatermarkPolicy,
};
use crate::check::{LitValue, RowKind, TExpr, TKind};
use crate::ops::aggregate::{AggFunc, AggPlan, KeyItem};
use crate::parse::{BinOp, OptionValue, UnOp};
use crate::types::DslType;

/// The text of the compiled plan: a title line, then the tree from the sink down.
pub(crate) fn explain(plan: &Plan) -> String {
    let ex = Explainer { plan };
    let all: Vec<Ends> = plan
        .branches
        .iter()
        .enumerate()
        .map(|(i, b)| (i, b.ops.len()))
        .collect();
    let root = Node {
        line: ex.sink_line(),
        children: vec![ex.tree(&all)],
    };
    let mut out = String::from("== Compiled plan ==\n");
    root.render("", "", &mut out);
    // no trailing newline: the text ends with its last operator
    out.pop();
    out
}

/// One line of the tree and the inputs under it.
struct Node {
    line: String,
    children: Vec<Node>,
}

impl Node {
    fn leaf(line: String) -> Node {
        Node {
            line,
            children: Vec::new(),
        }
    }

    /// Spark's layout: `first` before this node's line, `rest` before its children's.
    fn render(&self, first: &str, rest: &str, out: &mut String) {
        out.push_str(first);
        out.push_str(&self.line);
        out.push('\n');
        let n = self.children.len();
        for (i, child) in self.children.iter().enumerate() {
            if i + 1 == n {
                child.render(&format!("{rest}+- "), &format!("{rest}   "), out);
            } else {
                child.render(&format!("{rest}:- "), &format!("{rest}:  "), out);
            }
        }
    }
}

/// A branch (its index in the plan) and where its operators still to show end.
type Ends = (usize, usize);

struct Explainer<'a> {
    plan: &'a Plan,
}

impl Explainer<'_> {
    /// The tree of branches `(index, end)`: each branch's operators before `end`. The
    /// branches of a union or a join of two streams share the operators after it (the
    /// checker gives each branch a copy): where their last operators differ, or one has
    /// none left, the branches meet in a union; a join of two streams splits them by
    /// side.
    fn tree(&self, branches: &[Ends]) -> Node {
        let ops = |b: usize| &self.plan.branches[b].ops;
        match branches {
            [] => return Node::leaf("Read nothing".to_string()),
            [(b, end)] => return self.chain(*b, *end),
            _ => {}
        }
        let last: Vec<Option<&TypedOp>> = branches
            .iter()
            .map(|&(b, end)| end.checked_sub(1).map(|i| &ops(b)[i]))
            .collect();
        let keys: Vec<Option<String>> = last.iter().map(|op| op.map(|op| self.key(op))).collect();
        let shared = keys[0].is_some() && keys.iter().all(|k| *k == keys[0]);
        let below: Vec<Ends> = branches
            .iter()
            .map(|&(b, end)| (b, end.saturating_sub(1)))
            .collect();
        match last[0] {
            Some(TypedOp::StreamJoin { plan: j, .. }) if shared => {
                let side = |s: usize| -> Vec<Ends> {
                    below
                        .iter()
                        .zip(&last)
                        .filter(|(_, op)| {
                            matches!(op, Some(TypedOp::StreamJoin { side, .. }) if *side == s)
                        })
                        .map(|(b, _)| *b)
                        .collect()
                };
                let names = |schema: &Schema, key: &[usize]| -> Vec<String> {
                    key.iter()
                        .filter_map(|&i| schema.get(i).map(|c| c.name.clone()))
                        .collect()
                };
                let stage = last[0].map_or(0, |op| self.stage_of(op));
                let exchange = |names: &[String], input: Node| Node {
                    line: format!("Exchange hash [{}], end of stage {stage}", names.join(", ")),
                    children: vec![input],
                };
                let (left, right) = (side(0), side(1));
                let mut children = Vec::new();
                for (rows, schema, key) in [
                    (&left, &j.left, &j.left_key),
                    (&right, &j.right, &j.right_key),
                ] {
                    if !rows.is_empty() {
                        children.push(exchange(&names(schema, key), self.tree(rows)));
                    }
                }
                Node {
                    line: self.stream_join_line(j, stage + 1),
                    children,
                }
            }
            Some(op) if shared => self.op_node(op, &self.input_schema(below[0]), self.tree(&below)),
            _ => {
                // a union: the branches in groups by their last operator, in order
                let mut groups: Vec<(Option<String>, Vec<Ends>)> = Vec::new();
                for (&(b, end), key) in branches.iter().zip(keys) {
                    match groups.iter_mut().find(|(k, _)| key.is_some() && *k == key) {
                        Some((_, group)) => group.push((b, end)),
                        None => groups.push((key, vec![(b, end)])),
                    }
                }
                Node {
                    line: "Union".to_string(),
                    children: groups.iter().map(|(_, g)| self.tree(g)).collect(),
                }
            }
        }
    }

    /// One branch's operators before `end`, over its source.
    fn chain(&self, b: usize, end: usize) -> Node {
        let branch = &self.plan.branches[b];
        match end.checked_sub(1) {
            None => Node::leaf(self.source_line(branch)),
            Some(i) => {
                let op = &branch.ops[i];
                self.op_node(op, &self.input_schema((b, i)), self.chain(b, i))
            }
        }
    }

    /// The columns going into operator `at` of branch `b`.
    fn input_schema(&self, (b, at): Ends) -> Schema {
        let branch = &self.plan.branches[b];
        let mut schema = self
            .plan
            .sources
            .get(branch.source)
            .map(|s| s.schema.clone())
            .unwrap_or_default();
        for op in branch.ops.iter().take(at) {
            schema = self.output_schema(op, schema);
        }
        schema
    }

    fn output_schema(&self, op: &TypedOp, input: Schema) -> Schema {
        match op {
            TypedOp::Filter { .. }
            | TypedOp::Watermark { .. }
            | TypedOp::Sort(_)
            | TypedOp::Limit(_) => input,
            TypedOp::Project { schema, .. } => schema.clone(),
            TypedOp::Map { output, .. } | TypedOp::Join { output, .. } => output.clone(),
            TypedOp::Aggregate(a) => self.row_schema(a.rows[3]),
            TypedOp::Dedup(d) => d.schema.clone(),
            TypedOp::StreamJoin { plan: j, .. } => {
                let mut out = j.left.clone();
                out.extend(j.right_out.iter().filter_map(|&i| j.right.get(i).cloned()));
                out
            }
        }
    }

    fn row_schema(&self, row: usize) -> Schema {
        self.plan
            .rows
            .get(row)
            .map(|r| r.schema.clone())
            .unwrap_or_default()
    }

    /// What makes two branches' operators the same one: its text, and the index of what
    /// it names (a watermark operator, a map function, a table, a stateful operator).
    fn key(&self, op: &TypedOp) -> String {
        match op {
            TypedOp::Filter { pred } => format!("filter {}", self.expr(pred)),
            TypedOp::Project { exprs, .. } => format!("project {}", self.items(exprs)),
            TypedOp::Map { function, .. } => format!("map {function}"),
            TypedOp::Join { join, left_key, .. } => format!("join {join} {left_key:?}"),
            TypedOp::Watermark { id, .. } => format!("watermark {id}"),
            TypedOp::Aggregate(a) => format!("aggregate {}", a.id),
            TypedOp::Dedup(d) => format!("dedup {}", d.id),
            TypedOp::StreamJoin { plan, .. } => format!("stream join {}", plan.id),
            TypedOp::Sort(p) => format!("sort {}", p.id),
            TypedOp::Limit(l) => format!("limit {}", l.id),
        }
    }

    /// The node of one operator: `schema` is the columns it reads, `input` the tree
    /// below it.
    fn op_node(&self, op: &TypedOp, schema: &Schema, input: Node) -> Node {
        let one = |line: String, input: Node| Node {
            line,
            children: vec![input],
        };
        match op {
            TypedOp::Filter { pred } => one(format!("Filter {}", self.expr(pred)), input),
            TypedOp::Project { exprs, .. } => one(format!("Project {}", self.items(exprs)), input),
            TypedOp::Map {
                function, output, ..
            } => {
                let m = self.plan.functions.get(*function);
                let kind = if m.is_some_and(|m| m.flat) {
                    "FlatMap"
                } else {
                    "Map"
                };
                let into = m
                    .and_then(|m| self.plan.rows.get(m.output))
                    .and_then(|r| match &r.kind {
                        RowKind::Inline(name) => Some(name.to_string()),
                        RowKind::Derived(path) => Some(compact(path.to_token_stream())),
                        RowKind::Generated(_) => None,
                    })
                    .map(|name| format!(" into {name}"))
                    .unwrap_or_default();
                one(format!("{kind}{into} {}", columns(output)), input)
            }
            TypedOp::Join { join, left_key, .. } => {
                let Some(j) = self.plan.joins.get(*join) else {
                    return input;
                };
                let how = if j.left_outer { "left outer" } else { "inner" };
                let keys = join_keys((schema, left_key), (&j.right, &j.right_key));
                let table = match &j.table {
                    crate::ops::join::StaticSide::Capture(b) => format!(
                        "StaticTable {} {}",
                        compact(b.to_token_stream()),
                        columns(&j.right)
                    ),
                    crate::ops::join::StaticSide::File {
                        format,
                        path,
                        options,
                        ..
                    } => {
                        let options: Vec<proc_macro2::TokenStream> =
                            options.iter().map(|o| o.0.clone()).collect();
                        format!(
                            "ReadStatic {format} {} {}{}, read when the query starts",
                            option(path),
                            columns(&j.right),
                            calls(&options)
                        )
                    }
                };
                Node {
                    line: format!("Join {how} on [{keys}]"),
                    children: vec![input, Node::leaf(table)],
                }
            }
            TypedOp::Watermark {
                column, delay_ms, ..
            } => {
                let name = schema.get(*column).map_or("?", |c| c.name.as_str());
                one(
                    format!("Watermark {name}, delay \"{}\"", duration(*delay_ms)),
                    input,
                )
            }
            TypedOp::Aggregate(a) => {
                let exchange = one(
                    format!(
                        "Exchange hash [{}], end of stage {}",
                        self.aggregate_route(a).join(", "),
                        self.stage_of(op)
                    ),
                    input,
                );
                one(self.aggregate_line(a, op), exchange)
            }
            TypedOp::Dedup(d) => {
                let keys: Vec<String> = d.keys.iter().map(|(name, e)| self.item(name, e)).collect();
                let names: Vec<&str> = d.keys.iter().map(|(n, _)| n.as_str()).collect();
                let name = if d.within {
                    "DropDuplicatesWithinWatermark"
                } else {
                    "DropDuplicates"
                };
                let exchange = one(
                    format!(
                        "Exchange hash [{}], end of stage {}",
                        names.join(", "),
                        self.stage_of(op)
                    ),
                    input,
                );
                let line = format!(
                    "{name} [{}], state {}, {}, stage {}",
                    keys.join(", "),
                    d.id,
                    evicted(d.evict),
                    self.stage_of(op) + 1
                );
                one(line, exchange)
            }
            // split by side in `tree`; a branch alone at one is the plan of one side
            TypedOp::StreamJoin { .. } => input,
            TypedOp::Sort(_) | TypedOp::Limit(_) => {
                let stage = self.gather_stage();
                // the first sort or limit gets every row on one task
                let first = self
                    .plan
                    .branches
                    .first()
                    .and_then(|b| b.ops.iter().find(|o| crate::ops::sort::is_gather(o)))
                    .is_some_and(|o| self.key(o) == self.key(op));
                let input = if first {
                    one(
                        format!("Exchange single partition, end of stage {}", stage - 1),
                        input,
                    )
                } else {
                    input
                };
                let line = match op {
                    TypedOp::Sort(p) => {
                        let keys: Vec<String> = p.keys.iter().map(|k| k.text()).collect();
                        format!("Sort [{}], stage {stage}", keys.join(", "))
                    }
                    TypedOp::Limit(l) if self.plan.settings.mode() == super::OutputMode::Append => {
                        format!(
                            "GlobalLimit {} of the stream, state {}, stage {stage}",
                            l.n, l.id
                        )
                    }
                    TypedOp::Limit(l) => format!("Limit {} of each result, stage {stage}", l.n),
                    _ => String::new(),
                };
                one(line, input)
            }
        }
    }

    /// The stage of the sorts and limits: the last, after every stateful operator's.
    fn gather_stage(&self) -> usize {
        self.plan.branches.first().map_or(1, |b| {
            1 + b
                .ops
                .iter()
                .filter(|op| crate::codegen::stateful::is_stateful(op))
                .count()
        })
    }

    /// The stage a stateful operator's reduce side runs in (its map side ends the one
    /// before): one more than the stateful operators before it.
    fn stage_of(&self, op: &TypedOp) -> usize {
        let id = match op {
            TypedOp::Aggregate(a) => a.id,
            TypedOp::Dedup(d) => d.id,
            TypedOp::StreamJoin { plan, .. } => plan.id,
            _ => return 0,
        };
        self.plan.branches.first().map_or(0, |b| {
            b.ops
                .iter()
                .filter(|op| match op {
                    TypedOp::Aggregate(a) => a.id < id,
                    TypedOp::Dedup(d) => d.id < id,
                    TypedOp::StreamJoin { plan, .. } => plan.id < id,
                    _ => false,
                })
                .count()
        })
    }

    /// The key columns an aggregation routes its partial results by (a session window's
    /// by the other keys alone, so that a group's sessions meet).
    fn aggregate_route(&self, a: &AggPlan) -> Vec<String> {
        a.key_schema
            .iter()
            .map(|c| c.name.clone())
            .filter(|n| a.session.is_none() || (n != "session_start" && n != "session_end"))
            .collect()
    }

    fn aggregate_line(&self, a: &AggPlan, op: &TypedOp) -> String {
        let input = |i: usize| {
            a.input
                .get(i)
                .map_or_else(|| "?".to_string(), |(_, e)| self.expr(e))
        };
        let keys: Vec<String> = a
            .keys
            .iter()
            .map(|k| match k {
                KeyItem::Window => match a.window {
                    Some(w) => {
                        let per = w.unit_per_ms.max(1);
                        let mut args =
                            vec![input(w.time), format!("\"{}\"", duration(w.size / per))];
                        if w.slide != w.size || w.start != 0 {
                            args.push(format!("\"{}\"", duration(w.slide / per)));
                        }
                        if w.start != 0 {
                            args.push(format!("\"{}\"", duration(w.start / per)));
                        }
                        format!("window({})", args.join(", "))
                    }
                    None => "window".to_string(),
                },
                KeyItem::Session => match a.session {
                    Some(s) => format!(
                        "session_window({}, \"{}\")",
                        input(s.time),
                        duration(s.gap / s.unit_per_ms.max(1))
                    ),
                    None => "session_window".to_string(),
                },
                KeyItem::Column { input: i, name } => match a.input.get(*i) {
                    Some((_, e)) => self.item(name, e),
                    None => name.clone(),
                },
            })
            .collect();
        let aggs: Vec<String> = a
            .aggs
            .iter()
            .map(|g| {
                let mut args: Vec<String> = g.arg.into_iter().map(input).collect();
                args.extend(g.ord.map(input));
                format!("{}({}) as {}", agg_name(g.func), args.join(", "), g.name)
            })
            .collect();
        format!(
            "Aggregate [{}] [{}], state {}, {}, stage {}",
            keys.join(", "),
            aggs.join(", "),
            a.id,
            evicted(a.evict),
            self.stage_of(op) + 1
        )
    }

    fn stream_join_line(
        &self,
        j: &crate::ops::stream_join::StreamJoinPlan,
        stage: usize,
    ) -> String {
        let keys = join_keys((&j.left, &j.left_key), (&j.right, &j.right_key));
        let within = match j.within_ms {
            Some(ms) => format!(", within \"{}\"", duration(ms)),
            None => String::new(),
        };
        let evict = evicted(j.within_ms.is_some());
        format!(
            "StreamJoin inner on [{keys}]{within}, state {id}-left and {id}-right, {evict}, stage {stage}",
            id = j.id
        )
    }

    fn source_line(&self, branch: &Branch) -> String {
        let Some(source) = self.plan.sources.get(branch.source) else {
            return "Read ?".to_string();
        };
        let SourcePlan { kind, schema, .. } = source;
        let mut after = String::new();
        let what = match kind {
            SourceKind::File {
                format,
                path,
                options,
            } => {
                let options: Vec<proc_macro2::TokenStream> =
                    options.iter().map(|o| o.0.clone()).collect();
                after = calls(&options);
                format!("{format} {}", option(path))
            }
            SourceKind::Memory { stream } => format!("memory {}", option(stream)),
            SourceKind::Rate {
                rows_per_second,
                num_partitions,
            } => {
                let parts = num_partitions
                    .as_ref()
                    .map(|n| format!(", num_partitions = {}", compact(n.clone())))
                    .unwrap_or_default();
                format!(
                    "rate rows_per_second = {}{parts}",
                    compact(rows_per_second.clone())
                )
            }
            SourceKind::Kafka {
                servers,
                calls: c,
                options,
                ..
            } => {
                after = calls(c);
                if let Some(o) = options {
                    after.push_str(&format!(", kafka_options = {}", option(o)));
                }
                format!("kafka {}", option(servers))
            }
        };
        format!("Read {what} {}{after}", columns(schema))
    }

    fn sink_line(&self) -> String {
        let s = &self.plan.settings;
        let (target, after) = sink(&self.plan.sink);
        let mut line = format!(
            "Write {target} {}{after}, output mode {}",
            columns(&self.plan.output),
            s.mode()
        );
        if let Some(t) = &s.trigger {
            let t = match t {
                Trigger::Default => "default".to_string(),
                Trigger::Once => "once".to_string(),
                Trigger::AvailableNow => "available_now".to_string(),
                Trigger::ProcessingTime { ms } => {
                    format!("processing_time(\"{}\")", duration(*ms as i64))
                }
                Trigger::ProcessingTimeCaptured(b) => {
                    format!("processing_time({})", compact(b.to_token_stream()))
                }
                Trigger::Captured(b) => compact(b.to_token_stream()),
            };
            line.push_str(&format!(", trigger {t}"));
        }
        if s.watermark_policy == Some(WatermarkPolicy::Max) {
            line.push_str(", watermark policy max");
        }
        if let Some(late) = &s.late_rows {
            let (target, after) = sink(&late.sink);
            line.push_str(&format!(", late rows to {target}{after}"));
        }
        line
    }

    /// `expr as name`, or the column alone when it keeps its name.
    fn item(&self, name: &str, e: &TExpr) -> String {
        match &e.kind {
            TKind::Column { name: c, .. } if c == name => name.to_string(),
            TKind::Column { .. } | TKind::Lit(_) | TKind::Capture(_) | TKind::Call { .. } => {
                format!("{} as {name}", self.expr(e))
            }
            _ => format!("({}) as {name}", self.expr(e)),
        }
    }

    fn items(&self, exprs: &[(String, TExpr)]) -> String {
        let items: Vec<String> = exprs.iter().map(|(n, e)| self.item(n, e)).collect();
        format!("[{}]", items.join(", "))
    }

    /// An expression as the DSL writes it, with the casts the checker added to bring
    /// operands to a common type (a number literal's folded into it).
    fn expr(&self, e: &TExpr) -> String {
        self.expr_in(e, 0)
    }

    /// `e` inside an operator of precedence `outer` (0: none): in parentheses when it
    /// binds less tightly.
    fn expr_in(&self, e: &TExpr, outer: u8) -> String {
        let (text, prec) = match &e.kind {
            TKind::Column { name, .. } => (name.clone(), ATOM),
            TKind::Lit(v) => (literal(v), ATOM),
            TKind::Capture(i) => (
                self.plan.captures.get(*i).map_or_else(
                    || "{..}".to_string(),
                    |c| compact(c.block.to_token_stream()),
                ),
                ATOM,
            ),
            TKind::Binary { op, left, right } => {
                let p = precedence(*op);
                // left-associative; comparisons do not chain
                let l = if is_comparison(*op) { p + 1 } else { p };
                (
                    format!(
                        "{} {} {}",
                        self.expr_in(left, l),
                        op.symbol(),
                        self.expr_in(right, p + 1)
                    ),
                    p,
                )
            }
            TKind::Unary { op, expr } => {
                let sym = match op {
                    UnOp::Not => "!",
                    UnOp::Neg => "-",
                };
                (format!("{sym}{}", self.expr_in(expr, UNARY)), UNARY)
            }
            TKind::Cast { expr, to } => match (&expr.kind, to) {
                (TKind::Lit(LitValue::Int(n)), DslType::F64 | DslType::F32) => {
                    (literal(&LitValue::Float(*n as f64)), ATOM)
                }
                (TKind::Lit(LitValue::Int(n)), DslType::I32 | DslType::I64) => {
                    (n.to_string(), ATOM)
                }
                (TKind::Lit(LitValue::Null), _) => ("null".to_string(), ATOM),
                _ => (
                    format!("{} as {}", self.expr_in(expr, CAST), to.name()),
                    CAST,
                ),
            },
            TKind::Call { function, args } => {
                let args: Vec<String> = args.iter().map(|a| self.expr_in(a, 0)).collect();
                let text = if *function == super::Function::When {
                    let mut text = String::new();
                    for (i, pair) in args.chunks(2).enumerate() {
                        match pair {
                            [c, v] if i == 0 => text.push_str(&format!("when({c}, {v})")),
                            [c, v] => text.push_str(&format!(".when({c}, {v})")),
                            [otherwise] => text.push_str(&format!(".otherwise({otherwise})")),
                            _ => {}
                        }
                    }
                    text
                } else {
                    format!("{function}({})", args.join(", "))
                };
                (text, ATOM)
            }
        };
        if prec < outer {
            format!("({text})")
        } else {
            text
        }
    }
}

/// Precedences, as Rust's (the DSL's expressions are Rust's syntax): a higher one binds
/// more tightly.
const CAST: u8 = 8;
const UNARY: u8 = 9;
const ATOM: u8 = 10;

fn precedence(op: BinOp) -> u8 {
    match op {
        BinOp::Or => 1,
        BinOp::And => 2,
        BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => 3,
        BinOp::Add | BinOp::Sub => 5,
        BinOp::Mul | BinOp::Div | BinOp::Rem => 6,
    }
}

fn is_comparison(op: BinOp) -> bool {
    precedence(op) == 3
}

fn literal(v: &LitValue) -> String {
    match v {
        LitValue::Int(n) => n.to_string(),
        LitValue::Float(f) => format!("{f:?}"),
        LitValue::Str(s) => format!("{s:?}"),
        LitValue::Bool(b) => b.to_string(),
        LitValue::Null => "null".to_string(),
    }
}

/// A join's keys, `country` when both sides name it so, else `left = right`.
fn join_keys(left: (&Schema, &[usize]), right: (&Schema, &[usize])) -> String {
    fn name(schema: &Schema, i: usize) -> &str {
        schema.get(i).map_or("?", |c| c.name.as_str())
    }
    let keys: Vec<String> = left
        .1
        .iter()
        .zip(right.1)
        .map(|(&l, &r)| match (name(left.0, l), name(right.0, r)) {
            (l, r) if l == r => l.to_string(),
            (l, r) => format!("{l} = {r}"),
        })
        .collect();
    keys.join(", ")
}

fn agg_name(f: AggFunc) -> &'static str {
    match f {
        AggFunc::Count => "count",
        AggFunc::Sum => "sum",
        AggFunc::Avg => "avg",
        AggFunc::Min => "min",
        AggFunc::Max => "max",
        AggFunc::First => "first",
        AggFunc::Last => "last",
        AggFunc::ApproxCountDistinct => "approx_count_distinct",
        AggFunc::CollectList => "collect_list",
        AggFunc::CollectSet => "collect_set",
        AggFunc::MaxBy => "max_by",
        AggFunc::MinBy => "min_by",
    }
}

fn evicted(evict: bool) -> &'static str {
    if evict {
        "evicted by the watermark"
    } else {
        "kept forever"
    }
}

/// `(name: type, ..)`.
fn columns(schema: &Schema) -> String {
    let cols: Vec<String> = schema
        .iter()
        .map(|c| format!("{}: {}", c.name, c.ty))
        .collect();
    format!("({})", cols.join(", "))
}

/// A duration in milliseconds in the largest unit that holds it whole, as the DSL
/// writes one (`"10 minutes"`).
fn duration(ms: i64) -> String {
    const UNITS: [(i64, &str); 5] = [
        (86_400_000, "day"),
        (3_600_000, "hour"),
        (60_000, "minute"),
        (1_000, "second"),
        (1, "millisecond"),
    ];
    for (per, unit) in UNITS {
        if ms != 0 && ms % per == 0 {
            let n = ms / per;
            let s = if n == 1 { "" } else { "s" };
            return format!("{n} {unit}{s}");
        }
    }
    format!("{ms} milliseconds")
}

/// An option's value as the block writes it.
fn option(v: &OptionValue) -> String {
    match v {
        OptionValue::Lit(syn::Lit::Str(s)) => format!("{:?}", s.value()),
        OptionValue::Lit(l) => compact(l.to_token_stream()),
        OptionValue::Name(n) => n.to_string(),
        OptionValue::List(_, names) => {
            let names: Vec<String> = names.iter().map(ToString::to_string).collect();
            format!("[{}]", names.join(", "))
        }
        OptionValue::Capture(b) => compact(b.to_token_stream()),
    }
}

/// The sink's kind and target, and its builder calls after the output columns.
fn sink(s: &SinkPlan) -> (String, String) {
    match s {
        SinkPlan::Console { .. } => ("console".to_string(), String::new()),
        SinkPlan::Memory { name } => (format!("memory {}", option(name)), String::new()),
        SinkPlan::ForeachBatch { f } => (format!("foreach_batch {}", option(f)), String::new()),
        SinkPlan::Files {
            format,
            path,
            calls: c,
            ..
        } => (format!("{format} {}", option(path)), calls(c)),
        SinkPlan::Delta { path, calls: c, .. } => (format!("delta {}", option(path)), calls(c)),
        SinkPlan::Kafka {
            servers,
            calls: c,
            options,
            ..
        } => {
            let mut after = calls(c);
            if let Some(o) = options {
                after.push_str(&format!(", kafka_options = {}", option(o)));
            }
            (format!("kafka {}", option(servers)), after)
        }
    }
}

/// Tokens as text without the spaces `TokenStream`'s `Display` puts between every two
/// tokens (`{ input }` becomes `{input}`, `. max_files_per_trigger (2)` becomes
/// `.max_files_per_trigger(2)`): a space stays only between two words and after a
/// comma. The runtime's paths (`::stream_core::`) are left out.
fn compact(tokens: proc_macro2::TokenStream) -> String {
    use proc_macro2::{Delimiter, TokenTree};
    fn walk(tokens: proc_macro2::TokenStream, out: &mut String) {
        let mut word_before = false;
        for t in tokens {
            match t {
                TokenTree::Group(g) => {
                    let (open, close) = match g.delimiter() {
                        Delimiter::Parenthesis => ("(", ")"),
                        Delimiter::Brace => ("{", "}"),
                        Delimiter::Bracket => ("[", "]"),
                        Delimiter::None => ("", ""),
                    };
                    out.push_str(open);
                    walk(g.stream(), out);
                    out.push_str(close);
                    word_before = false;
                }
                TokenTree::Ident(i) => {
                    if word_before {
                        out.push(' ');
                    }
                    out.push_str(&i.to_string());
                    word_before = true;
                }
                TokenTree::Literal(l) => {
                    if word_before {
                        out.push(' ');
                    }
                    out.push_str(unsuffixed(&l.to_string()));
                    word_before = true;
                }
                TokenTree::Punct(p) => {
                    out.push(p.as_char());
                    if p.as_char() == ',' {
                        out.push(' ');
                    }
                    word_before = false;
                }
            }
        }
    }
    let mut out = String::new();
    walk(tokens, &mut out);
    let mut out = out.replace("::stream_core::", "");
    // the durations the checks read from the block's strings, as strings again
    const MILLIS: &str = "::std::time::Duration::from_millis(";
    while let Some(at) = out.find(MILLIS) {
        let digits = &out[at + MILLIS.len()..];
        let end = digits.find(')').unwrap_or(digits.len());
        let text = match digits[..end].parse::<i64>() {
            Ok(ms) => format!("{:?}", duration(ms)),
            Err(_) => digits[..end].to_string(),
        };
        out.replace_range(at..(at + MILLIS.len() + end + 1).min(out.len()), &text);
    }
    out
}

/// A number literal without the type suffix the expansion gave it (`2usize` is `2`).
fn unsuffixed(lit: &str) -> &str {
    const SUFFIXES: [&str; 14] = [
        "usize", "isize", "u128", "i128", "u64", "i64", "u32", "i32", "u16", "i16", "f64", "f32",
        "u8", "i8",
    ];
    if !lit.starts_with(|c: char| c.is_ascii_digit()) {
        return lit;
    }
    SUFFIXES
        .iter()
        .find_map(|s| lit.strip_suffix(s))
        .filter(|n| !n.is_empty())
        .unwrap_or(lit)
}

/// Builder calls (`.max_files_per_trigger(2)`) as a list after the columns:
/// `, max_files_per_trigger(2)`; an argument the expansion builds is `..`.
fn calls(calls: &[proc_macro2::TokenStream]) -> String {
    calls
        .iter()
        .map(|c| {
            let text = compact(c.clone());
            let text = text.strip_prefix('.').unwrap_or(&text);
            // an argument the expansion builds (a Kafka value's schema): its name only
            match text.split_once('(') {
                Some((method, _)) if text.contains("__private") => format!(", {method}(..)"),
                _ => format!(", {text}"),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use proc_macro2::TokenStream;
    use quote::quote;

    /// The text of a block that checks, after the passes, as the expansion has it.
    fn explain(input: TokenStream) -> String {
        super::explain(&crate::plan::passed_plan(input))
    }

    #[test]
    fn stateless() {
        insta::assert_snapshot!(explain(quote! {
            schema Event { user: string, amount: f64, country: Option<string>, note: string }
            read(json, path = "landing/", schema = Event, max_files_per_trigger = 2)
                .filter(amount > 50.0 && (country == "DE" || country.is_null()))
                .with_column(doubled, amount * 2)
                .select(upper(user) as user, doubled, amount as i64 as whole, {limit} as f64 as cap)
                .write(console)
                .trigger(available_now)
        }));
    }

    #[test]
    fn sort_and_limit_of_a_complete_aggregation() {
        insta::assert_snapshot!(explain(quote! {
            schema Word { word: string, lang: Option<string> }
            read(memory, stream = {words}, schema = Word)
                .group_by(lang, word)
                .agg(count() as n)
                .order_by(desc(n), asc_nulls_last(lang), word)
                .limit(3)
                .write(memory, name = "top")
                .output_mode(complete)
        }));
    }

    #[test]
    fn static_join_read_from_files() {
        insta::assert_snapshot!(explain(quote! {
            schema Order { user: string, country: string, amount: f64 }
            schema Region { country: string, region: string }
            read(memory, stream = {orders}, schema = Order)
                .join(read(json, path = "regions/", schema = Region), on = country)
                .select(user, region)
                .write(console)
        }));
    }

    #[test]
    fn streaming_limit_in_append_mode() {
        insta::assert_snapshot!(explain(quote! {
            schema Num { v: i64 }
            read(memory, stream = {nums}, schema = Num)
                .filter(v > 0)
                .limit(10)
                .select(v * 2 as doubled)
                .write(console)
        }));
    }

    #[test]
    fn windowed_aggregate_with_watermark() {
        insta::assert_snapshot!(explain(quote! {
            schema Event { ts: timestamp_ms, country: Option<string>, amount: f64 }
            read(json, path = "landing/", schema = Event)
                .filter(amount > 10.0)
                .with_watermark(ts, "5 seconds")
                .group_by(window(ts, "10 seconds"), country)
                .agg(count() as n, sum(amount) as total)
                .filter(n > 1)
                .write(memory, name = "counts")
                .output_mode(update)
        }));
    }

    #[test]
    fn stream_stream_join() {
        insta::assert_snapshot!(explain(quote! {
            schema Impression { ad: i64, shown_at: timestamp_ms, page: string }
            schema Click { ad: Option<i64>, clicked_at: timestamp_ms, user: string }
            let clicks = read(json, path = "clicks/", schema = Click)
                .with_watermark(clicked_at, "10 seconds");
            read(json, path = "impressions/", schema = Impression)
                .with_watermark(shown_at, "10 seconds")
                .join(clicks, on = ad, within = "1 hour")
                .select(ad, user)
                .write(console)
        }));
    }

    #[test]
    fn unions() {
        // `eu` and `us` meet in the first union, the three in the second, under the
        // filter they share
        insta::assert_snapshot!(explain(quote! {
            schema Order { user: string, amount: f64 }
            let eu = read(json, path = "eu/", schema = Order);
            let us = read(json, path = "us/", schema = Order).filter(amount > 0.0);
            let asia = read(memory, stream = {asia}, schema = Order);
            eu.union(us)
                .filter(user != "test")
                .union(asia)
                .write(console)
        }));
    }

    #[test]
    fn dedup_session_window_static_join_and_map() {
        let dedup = explain(quote! {
            schema Event { ts: timestamp_ms, user: string }
            read(json, path = "landing/", schema = Event)
                .with_watermark(ts, "2 minutes")
                .drop_duplicates_within_watermark(user)
                .write(console)
        });
        let session = explain(quote! {
            schema Event { ts: timestamp_ms, user: string, amount: Option<f64> }
            read(json, path = "landing/", schema = Event)
                .with_watermark(ts, "10 minutes")
                .group_by(session_window(ts, "5 minutes"), user)
                .agg(count() as n, max_by(amount, ts) as last_amount)
                .write(console)
        });
        let join = explain(quote! {
            schema Order { user: string, country: Option<string>, amount: f64 }
            schema Region { country: string, region: string }
            read(parquet, path = "orders/", schema = Order)
                .join({regions}, schema = Region, on = country, how = left)
                .select(user, region, when(amount > 100.0, "big").otherwise("small") as size)
                .write(parquet, path = "out/")
                .checkpoint("ck/")
        });
        let map = explain(quote! {
            schema Visit { page: string, ms: Option<i64> }
            schema Slow { page: string, seconds: f64 }
            read(memory, stream = {visits}, schema = Visit)
                .map(Slow, |v| Slow { page: v.page, seconds: v.ms.unwrap_or(0) as f64 / 1000.0 })
                .filter(seconds > 2.0)
                .write(memory, name = "slow")
        });
        insta::assert_snapshot!([dedup, session, join, map].join("\n\n"));
    }

    #[test]
    fn sources_and_sinks_with_their_options() {
        // the options as the builder calls they became; the late-rows sink, the trigger
        // and the watermark policy on the sink's line
        let files = explain(quote! {
            schema Event { ts: timestamp_ms, country: Option<string>, amount: Option<f64> }
            read(json, path = "landing/", schema = Event, max_file_age = "7 days", latest_first = true)
                .with_watermark(ts, "2 minutes")
                .group_by(window(ts, "1 minute", "30 seconds"), country)
                .agg(count() as n)
                .write(parquet, path = "out/counts", partition_by = [country], retention = "7 days")
                .late_rows(json, path = "late/")
                .checkpoint("ck/")
                .trigger(processing_time("10 seconds"))
                .watermark_policy(max)
        });
        let kafka = explain(quote! {
            schema Event { user: Option<string>, amount: Option<f64> }
            read(kafka, bootstrap_servers = "127.0.0.1:9092", subscribe = "orders",
                 max_offsets_per_trigger = 1000, value_schema = Event,
                 kafka_options = {options})
                .filter(amount > {min})
                .select(user, amount)
                .write(console)
                .trigger({trigger})
        });
        insta::assert_snapshot!([files, kafka].join("\n\n"));
    }

    #[test]
    fn durations_take_the_largest_whole_unit() {
        assert_eq!(super::duration(3_600_000), "1 hour");
        assert_eq!(super::duration(90_000), "90 seconds");
        assert_eq!(super::duration(1_500), "1500 milliseconds");
        assert_eq!(super::duration(2 * 86_400_000), "2 days");
        assert_eq!(super::duration(0), "0 milliseconds");
    }

    #[test]
    fn parentheses_only_where_precedence_needs_them() {
        let text = explain(quote! {
            schema S { a: i64, b: i64, c: bool }
            read(memory, stream = {s}, schema = S)
                .filter((a + b) * 2 > a - (b - 1) && !(c || a == 0))
                .write(console)
        });
        assert!(
            text.contains("Filter (a + b) * 2 > a - (b - 1) && !(c || a == 0)\n"),
            "{text}"
        );
    }
}
