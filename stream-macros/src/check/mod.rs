//! Name resolution, typing and the streaming rules: a parsed block becomes a typed
//! [`Plan`](crate::plan::Plan), or a list of errors on the tokens that are wrong. Every
//! error is collected before the expansion stops.
//!
//! The plan's types are in `plan/`; this module holds the checker's own state while it
//! walks the block (the streams and what the rules need to know of them), the typed
//! expressions (`expr.rs`), the functions' type rules (`functions.rs`) and the row
//! structs the plan needs (`rows.rs`). Each operator's check is in `ops/`.

pub(crate) mod expr;
pub(crate) mod functions;
pub(crate) mod rows;

use std::collections::HashMap;

use proc_macro2::Span;

use crate::diag::Ctxt;
use crate::ops;
use crate::parse::{Block, Chain, Head, Item, Op, OptionArg, OptionValue, SchemaDecl};
use crate::plan::{
    Branch, Capture, Column, LateRowsPlan, Plan, Schema, Settings, SinkPlan, SourcePlan,
};
use crate::types::{ColType, DslType};
pub(crate) use expr::{LitValue, TExpr, TKind};
pub(crate) use rows::{MapFn, NamedSchema, RowDef, RowKind, RowRole};

/// A stream while the block is checked: its branches and its current schema.
#[derive(Clone)]
pub(crate) struct StreamState {
    pub(crate) branches: Vec<Branch>,
    pub(crate) schema: Schema,
    /// The column `with_watermark` made the event time, while it is in the stream.
    pub(crate) event_time: Option<EventTime>,
    /// The watermarked column a projection left out (`drop(ts)`, a `select` without
    /// it), for the error of an operator that needs the watermark after it.
    pub(crate) dropped_event_time: Option<String>,
    /// The stateful operator the stream went through, if any.
    pub(crate) stateful: Option<StatefulSeen>,
}

/// A watermarked event-time column.
#[derive(Clone, Debug)]
pub(crate) struct EventTime {
    pub(crate) column: String,
    pub(crate) delay_ms: i64,
}

/// What the output-mode rules need to know of a stateful operator.
#[derive(Clone, Debug)]
pub(crate) struct StatefulSeen {
    /// Which operator it is.
    pub(crate) op: StatefulKind,
    pub(crate) span: Span,
    pub(crate) aggregation: bool,
    /// A grouping key carries the watermark (a window over the event-time column, or
    /// the column itself), so groups can be closed and evicted.
    pub(crate) watermarked_key: bool,
    /// An aggregation grouped by a `session_window`.
    pub(crate) session_window: bool,
    /// The schema of the rows the operator drops as late (its input), when it drops
    /// any: it has a watermark to drop them by.
    pub(crate) late_schema: Option<Schema>,
    /// The operator follows another stateful operator (an aggregation of a windowed
    /// aggregation's output).
    pub(crate) chained: bool,
    /// An aggregation without keys: one group, whose state is one row.
    pub(crate) global: bool,
}

crate::plan::named_enum! {
    /// The stateful operators, by the names the diagnostics show.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub(crate) enum StatefulKind {
        /// `group_by(..).agg(..)`.
        Agg = "agg",
        DropDuplicates = "drop_duplicates",
        DropDuplicatesWithinWatermark = "drop_duplicates_within_watermark",
        /// A join of two streams.
        Join = "join",
    }
}

/// The checker's state while it walks the block.
pub(crate) struct Checker {
    pub(crate) cx: Ctxt,
    schemas: HashMap<String, Schema>,
    /// The `let` streams; `None` for one whose chain had errors (already reported).
    streams: HashMap<String, Option<StreamState>>,
    sources: Vec<SourcePlan>,
    pub(crate) captures: Vec<Capture>,
    /// The block's schemas in declaration order, with where they come from.
    pub(crate) named: Vec<NamedSchema>,
    pub(crate) rows: Vec<RowDef>,
    pub(crate) functions: Vec<MapFn>,
    pub(crate) joins: Vec<crate::ops::join::JoinPlan>,
    /// The schema files read (`schema X = file(..)`), for the expansion to depend on.
    schema_files: Vec<std::path::PathBuf>,
    /// Schemas whose declaration failed (already reported): naming one is no new error.
    broken_schemas: Vec<String>,
    /// How many `with_watermark` operators the block has.
    watermarks: usize,
    /// How many stateful operators the block has.
    pub(crate) stateful_ops: usize,
    /// Where the expression being checked sits, when an aggregate function there has
    /// its own reason to be refused.
    pub(crate) place: Option<AggPlace>,
    /// The block's `output_mode(..)` was refused (already reported): the rules of the
    /// output mode are not checked against the default in its place.
    pub(crate) mode_refused: bool,
}

/// Where an expression of an aggregation sits: what an aggregate function inside it is
/// told.
#[derive(Clone, Debug)]
pub(crate) enum AggPlace {
    /// A key of `group_by(..)`.
    GroupKey,
    /// The argument of the aggregate function of `agg(..)` of this name.
    Argument(String),
}

impl Checker {
    /// Checks an expression of a `group_by` key or an aggregate's argument (`place`).
    pub(crate) fn check_in(
        &mut self,
        place: AggPlace,
        expr: &crate::parse::Expr,
        schema: &Schema,
    ) -> Option<TExpr> {
        let outer = self.place.replace(place);
        let typed = self.check_expr(expr, schema, None);
        self.place = outer;
        typed
    }

    /// The id of the next `with_watermark` operator.
    pub(crate) fn next_watermark_id(&mut self) -> usize {
        self.watermarks += 1;
        self.watermarks - 1
    }

    /// Records a captured value and returns its index.
    pub(crate) fn capture(&mut self, block: syn::ExprBlock, ty: crate::types::DslType) -> usize {
        self.captures.push(Capture { block, ty });
        self.captures.len() - 1
    }

    fn schema_decl(&mut self, decl: &SchemaDecl) {
        let mut schema = Schema::new();
        let loaded;
        let fields = match &decl.file {
            Some(file) => match crate::schema_file::load(&file.value(), file.span()) {
                Ok(l) => {
                    self.schema_files.push(l.path);
                    loaded = l.fields;
                    &loaded
                }
                Err(e) => {
                    self.cx.error(file.span(), e.message, e.help);
                    // known, so that its uses add no `no schema` errors; checked no further
                    self.broken_schemas.push(decl.name.to_string());
                    return;
                }
            },
            None => &decl.fields,
        };
        for field in fields {
            let name = field.name.to_string();
            if schema.iter().any(|c| c.name == name) {
                self.cx.error(
                    field.name.span(),
                    format!("column `{name}` is declared twice in `{}`", decl.name),
                    "give each column its own name",
                );
                continue;
            }
            if let Some(ty) = self.base_type(&field.ty.base) {
                schema.push(Column {
                    name,
                    ty: ColType {
                        ty,
                        nullable: field.ty.nullable,
                    },
                });
            }
        }
        if !self.named.iter().any(|n| n.name == decl.name) {
            self.named.push(NamedSchema {
                name: decl.name.clone(),
                schema: schema.clone(),
                derived: decl.derived.as_ref().map(|d| d.path.clone()),
            });
        }
        if self.schemas.insert(decl.name.to_string(), schema).is_some() {
            self.cx.error(
                decl.name.span(),
                format!("schema `{}` is declared twice", decl.name),
                "give each schema its own name",
            );
        }
    }

    /// A schema named in `schema = Name`.
    pub(crate) fn named_schema(&mut self, ident: &syn::Ident) -> Option<Schema> {
        if let Some(s) = self.schemas.get(&ident.to_string()) {
            return Some(s.clone());
        }
        if self.broken_schemas.contains(&ident.to_string()) {
            return None;
        }
        let help = match crate::diag::did_you_mean(
            &ident.to_string(),
            self.schemas.keys().map(String::as_str),
        ) {
            Some(s) => format!("did you mean `{s}`?"),
            None => "declare it in the block: `schema Event { ts: timestamp_ms, amount: f64 }`"
                .to_string(),
        };
        self.cx
            .error(ident.span(), format!("no schema `{ident}`"), help);
        None
    }

    /// Adds a source and returns a stream reading it.
    pub(crate) fn add_source(&mut self, source: SourcePlan) -> StreamState {
        let schema = source.schema.clone();
        self.sources.push(source);
        StreamState {
            branches: vec![Branch {
                source: self.sources.len() - 1,
                ops: Vec::new(),
            }],
            schema,
            event_time: None,
            dropped_event_time: None,
            stateful: None,
        }
    }

    fn head(&mut self, head: &Head) -> Option<StreamState> {
        match head {
            Head::Stream(name) => match self.streams.get(&name.to_string()) {
                Some(s) => s.clone(),
                None => {
                    let help = match crate::diag::did_you_mean(&name.to_string(), self.streams.keys().map(String::as_str)) {
                        Some(s) => format!("did you mean `{s}`?"),
                        None => "start a stream with `read(json, path = \"..\", schema = Name)` or a `let` above".to_string(),
                    };
                    self.cx
                        .error(name.span(), format!("no stream `{name}`"), help);
                    None
                }
            },
            Head::Read(read) => ops::source::check(self, read),
        }
    }

    /// Checks a chain; returns the stream and, if it ends in `write`, the sink settings.
    ///
    /// After an operator fails, the chain goes on being checked where that cannot cascade:
    /// past a failed `filter` (its schema is known), and the sink and settings, which do
    /// not depend on the stream. `None` when any error was recorded.
    fn chain(
        &mut self,
        chain: &Chain,
        settings: &mut Settings,
        sink: &mut Option<(SinkPlan, Span)>,
    ) -> Option<StreamState> {
        let mut stream = self.head(&chain.head);
        let mut ok = stream.is_some();
        let mut written = false;
        let mut group: Option<(&[crate::parse::SelectItem], Span)> = None;
        for call in &chain.ops {
            if let Some((_, span)) = group
                && !matches!(call.op, Op::Agg(_))
            {
                self.cx.error(
                    span,
                    "`group_by` without `agg`",
                    "follow it with the aggregates: `.group_by(country).agg(count() as n)`",
                );
                return None;
            }
            let settle = matches!(
                call.op,
                Op::OutputMode(_)
                    | Op::LateRows(..)
                    | Op::WatermarkPolicy(_)
                    | Op::Trigger(_)
                    | Op::Checkpoint(_)
                    | Op::QueryName(_)
            );
            if written && !settle {
                self.cx.error(
                    call.name.span(),
                    format!("`{}` after `write`", call.name),
                    "transform the stream before `.write(..)`; only output_mode, watermark_policy, trigger, checkpoint and query_name may follow it",
                );
                return None;
            }
            if !written && settle {
                self.cx.error(
                    call.name.span(),
                    format!("`{}` before `write`", call.name),
                    format!("put `.{}(..)` after `.write(..)`", call.name),
                );
                return None;
            }
            if settle && self.setting_repeated(call, settings) {
                ok = false;
                continue;
            }
            let current = stream.take();
            stream = match (&call.op, current) {
                (Op::Filter(e), Some(s)) => {
                    match ops::filter::check(self, s.clone(), e, call.args) {
                        Some(next) => Some(next),
                        None => {
                            ok = false;
                            Some(s)
                        }
                    }
                }
                (Op::Select(items), Some(s)) => {
                    ops::select::check(self, s, items, call.name.span())
                }
                (Op::WithColumn(name, e), Some(s)) => ops::with_column::check(self, s, name, e),
                (Op::WithColumnRenamed(from, to), Some(s)) => ops::rename::check(self, s, from, to),
                (Op::Drop(cols), Some(s)) => ops::drop::check(self, s, cols),
                (Op::Map { flat, output, f }, Some(s)) => {
                    ops::map::check(self, s, *flat, output, f, &call.name)
                }
                (Op::Join { table, options }, Some(s)) => {
                    ops::join::check(self, s, &call.name, table, options)
                }
                (Op::StreamJoin { other, options }, current) => {
                    let other_stream = self.head(&Head::Stream(other.clone()));
                    match (current, other_stream) {
                        (Some(_), Some(_)) if !ops::compile_time::join_within(self, options) => {
                            None
                        }
                        (Some(s), Some(o)) => {
                            ops::stream_join::check(self, s, o, &call.name, other, options)
                        }
                        _ => None,
                    }
                }
                (Op::WithWatermark(column, delay), Some(s)) => {
                    ops::watermark::check(self, s, column, delay)
                }
                (Op::GroupBy(keys), Some(s)) => {
                    group = Some((keys, call.name.span()));
                    Some(s)
                }
                (Op::Agg(aggs), Some(s)) => match group.take() {
                    Some((keys, _)) if !ops::compile_time::window_durations(self, keys) => None,
                    Some((keys, span)) => {
                        ops::aggregate::check(self, s, keys, span, aggs, call.name.span())
                    }
                    // a global aggregation: one group, of no key (as Spark's `agg` without
                    // `groupBy`)
                    None => ops::aggregate::check(
                        self,
                        s,
                        &[],
                        call.name.span(),
                        aggs,
                        call.name.span(),
                    ),
                },
                (Op::DropDuplicates { within, cols }, Some(s)) => {
                    ops::dedup::check(self, s, *within, cols, &call.name)
                }
                (Op::Union(other), current) => {
                    let other_stream = self.head(&Head::Stream(other.clone()));
                    match (current, other_stream) {
                        (Some(s), Some(o)) if s.stateful.is_some() || o.stateful.is_some() => {
                            self.cx.error(
                                other.span(),
                                "a union with a stream after an aggregation or `drop_duplicates` is not supported yet",
                                "union the inputs first, then aggregate or drop duplicates",
                            );
                            None
                        }
                        (Some(s), Some(o)) => ops::union::check(self, s, o, other),
                        _ => None,
                    }
                }
                (Op::OrderBy(keys), Some(s)) => ops::sort::check(self, s, keys, &call.name),
                (Op::Limit(n), Some(s)) => ops::limit::check(self, s, n, &call.name),
                (Op::Write(kind, options), current) => {
                    written = true;
                    let schema = current.as_ref().map(|s| &s.schema);
                    match ops::sink::check(self, kind, options, schema) {
                        Some(_) if sink.is_some() => {
                            self.cx.error(
                                kind.span(),
                                "a block writes one query",
                                "start a second query in a second `stream!` block",
                            );
                            return None;
                        }
                        Some(plan) => *sink = Some((plan, kind.span())),
                        None => ok = false,
                    }
                    current
                }
                (Op::WatermarkPolicy(policy), current) => {
                    ops::settings::watermark_policy(self, policy, settings);
                    current
                }
                (Op::OutputMode(mode), current) => {
                    ops::settings::output_mode(self, mode, settings);
                    current
                }
                (Op::LateRows(kind, options), current) => {
                    let schema = current
                        .as_ref()
                        .and_then(|s| s.stateful.as_ref())
                        .and_then(|s| s.late_schema.as_ref());
                    match ops::sink::check(self, kind, options, schema) {
                        Some(plan) => {
                            settings.late_rows = Some(LateRowsPlan {
                                sink: plan,
                                span: call.name.span(),
                                schema: None,
                            });
                        }
                        None => ok = false,
                    }
                    current
                }
                (Op::Trigger(t), current) => {
                    ops::settings::trigger(self, t, settings);
                    current
                }
                (Op::Checkpoint(v), current) => {
                    if ops::settings::text(self, &call.name, v) {
                        settings.checkpoint = Some(v.clone());
                    }
                    current
                }
                (Op::QueryName(v), current) => {
                    if ops::settings::text(self, &call.name, v) {
                        settings.query_name = Some(v.clone());
                    }
                    current
                }
                // a stream operator after an earlier error: its columns are not known
                (_, None) => None,
            };
            ok &= stream.is_some();
        }
        if ok { stream } else { None }
    }

    /// Reports a setting (`output_mode`, `trigger`, `checkpoint`, `query_name`) that the
    /// query already has.
    fn setting_repeated(&mut self, call: &crate::parse::OpCall, settings: &Settings) -> bool {
        let given = match call.op {
            Op::OutputMode(_) => settings.output_mode.is_some(),
            Op::LateRows(..) => settings.late_rows.is_some(),
            Op::WatermarkPolicy(_) => settings.watermark_policy.is_some(),
            Op::Trigger(_) => settings.trigger.is_some(),
            Op::Checkpoint(_) => settings.checkpoint.is_some(),
            Op::QueryName(_) => settings.query_name.is_some(),
            _ => false,
        };
        if given {
            self.cx.error(
                call.name.span(),
                format!("`{}` is given twice", call.name),
                format!("a query has one `{}`: keep one of them", call.name),
            );
        }
        given
    }
}

/// Reads an option's value as an unsigned integer literal up to `max`; `min` is the
/// least value the option takes (a value below it is the caller's error), named with
/// `max` in the error of a negative or too large value.
pub(crate) fn option_u64(cx: &mut Ctxt, option: &OptionArg, min: u64, max: u64) -> Option<u64> {
    match &option.value {
        OptionValue::Lit(syn::Lit::Int(i)) => match i.base10_parse::<u64>() {
            Ok(v) if v <= max => Some(v),
            _ => {
                let what = if i.base10_digits().starts_with('-') {
                    "cannot be negative"
                } else {
                    "is too large"
                };
                cx.error(
                    i.span(),
                    format!(
                        "`{}` {what}: it takes a whole number from {min} to {max}",
                        option.name,
                    ),
                    format!("write `{} = 10`", option.name),
                );
                None
            }
        },
        other => {
            cx.error(
                other.span(),
                format!("`{}` takes a whole number", option.name),
                format!("write `{} = 10`", option.name),
            );
            None
        }
    }
}

/// The last operator (or the head) of the block's last stream: where a missing `write`
/// belongs.
fn last_chain_end(block: &Block) -> Span {
    let chain = block.items.iter().rev().find_map(|item| match item {
        Item::Let(l) => Some(&l.chain),
        Item::Query(c) => Some(c),
        Item::Schema(_) => None,
    });
    match chain {
        Some(c) => match (c.ops.last(), &c.head) {
            (Some(call), _) => call.name.span(),
            (None, Head::Stream(name)) => name.span(),
            (None, Head::Read(read)) => read.kw,
        },
        None => Span::call_site(),
    }
}

/// Checks the block and returns its plan; `None` when errors were recorded in `cx`.
pub(crate) fn check_block(block: &Block, cx: Ctxt) -> (Option<Plan>, Ctxt) {
    let mut checker = Checker {
        cx,
        schemas: HashMap::new(),
        streams: HashMap::new(),
        sources: Vec::new(),
        captures: Vec::new(),
        named: Vec::new(),
        rows: Vec::new(),
        functions: Vec::new(),
        joins: Vec::new(),
        schema_files: Vec::new(),
        broken_schemas: Vec::new(),
        watermarks: 0,
        stateful_ops: 0,
        place: None,
        mode_refused: false,
    };
    // schemas first, so a schema may be declared after the stream that uses it
    for item in &block.items {
        if let Item::Schema(decl) = item {
            checker.schema_decl(decl);
        }
    }
    let mut settings = Settings::default();
    let mut sink = None;
    let mut output = None;
    for item in &block.items {
        match item {
            Item::Schema(_) => {}
            Item::Let(l) => {
                let stream = checker.chain(&l.chain, &mut settings, &mut sink);
                checker.streams.insert(l.name.to_string(), stream);
            }
            Item::Query(chain) => {
                let before = sink.is_some();
                let stream = checker.chain(chain, &mut settings, &mut sink);
                if sink.is_some() && !before {
                    output = stream;
                }
            }
        }
    }
    if let Some((plan, kind)) = &sink {
        if !checker.mode_refused {
            ops::sink::check_mode(&mut checker, plan, *kind, settings.output_mode);
        }
        if settings.checkpoint.is_none() {
            ops::sink::check_checkpoint(&mut checker, plan, *kind);
        }
    }
    let mut warnings = Vec::new();
    if let (Some(out), Some(_), false) = (&output, &sink, checker.mode_refused) {
        warnings =
            ops::settings::mode_rules(&mut checker, out.stateful.as_ref(), settings.output_mode);
        ops::sort::rules(&mut checker, out, settings.output_mode);
    }
    let mode = settings.mode();
    if let (Some(late), Some(_), false) = (&mut settings.late_rows, &sink, checker.mode_refused) {
        late.schema = ops::settings::late_rows(&mut checker, late, output.as_ref(), mode);
    }
    if let (Some((SinkPlan::Memory { .. }, kind)), Some(out)) = (&sink, &output)
        && let Some(column) = out.schema.iter().find(|c| c.ty.ty == DslType::Headers)
    {
        checker.cx.error(
            *kind,
            format!(
                "the memory sink hands its rows back as Rust structs, and the Kafka headers column `{}` has no Rust type yet",
                column.name
            ),
            format!(
                "drop it before `write` (`.drop({})`), or write to another sink",
                column.name
            ),
        );
    }
    if sink.is_none() && !checker.cx.has_errors() {
        checker.cx.error(
            last_chain_end(block),
            "the pipeline has no `write`",
            "end the last stream with `.write(console)` (or memory, foreach_batch)",
        );
    }
    if checker.cx.has_errors() {
        return (None, checker.cx);
    }
    let (Some((sink, _)), Some(output)) = (sink, output) else {
        return (None, checker.cx);
    };
    let output_row =
        matches!(sink, SinkPlan::Memory { .. }).then(|| checker.row_for(&output.schema, "Row"));
    // sources that no branch of the written stream reads (a `let` never used) are left out
    let mut used: Vec<usize> = output.branches.iter().map(|b| b.source).collect();
    used.sort_unstable();
    used.dedup();
    let mut branches = output.branches;
    for b in &mut branches {
        b.source = used.iter().position(|&u| u == b.source).unwrap_or(b.source);
    }
    let mut sources: Vec<Option<SourcePlan>> = checker.sources.into_iter().map(Some).collect();
    let sources = used
        .iter()
        .filter_map(|&u| sources.get_mut(u).and_then(Option::take))
        .collect();
    let plan = Plan {
        sources,
        branches,
        output: output.schema,
        sink,
        settings,
        captures: checker.captures,
        rows: checker.rows,
        functions: checker.functions,
        joins: checker.joins,
        schema_files: checker.schema_files,
        output_row,
        warnings,
    };
    (Some(plan), checker.cx)
}
