//! `group_by(keys..).agg(aggregates..)`: a streaming aggregation, with Spark's semantics
//! (see the book's "Event time and state" chapter).
//!
//! Keys are columns or named expressions, and at most one window: `window(ts, size[,
//! slide[, start]])`, which becomes the `window_start` and `window_end` columns (Spark's
//! `window` struct, flattened), or `session_window(ts, gap)` (see `session_window.rs`),
//! which becomes `session_window_start` and `session_window_end` (Spark's flattened
//! names; the state key keeps `session_start` and `session_end`). Aggregates:
//! `count()`, `count(e)`, `sum(e)`, `avg(e)`, `min(e)`, `max(e)`, `first(e)`, `last(e)` (of the non-null values)
//! `max_by(x, ord)` and `min_by(x, ord)` (the value of `x` at the row whose `ord` is the
//! largest / smallest; rows with a null `ord` are left out; of tied rows one is kept, which
//! one is not defined, as in Spark), `approx_count_distinct(e)` (HyperLogLog, 512
//! registers: a standard error of 4.6 %), `collect_list(e)` (the non-null values in
//! arrival order) and `collect_set(e)` (the distinct non-null values, sorted ascending),
//! each named with `as`. The two collects give a `list<T>` column, a `Vec<T>` field of the
//! output row.
//!
//! The checked plan names three row types that codegen declares: the aggregation's
//! input (the branch's rows projected to the keys' and aggregates' inputs), the group key,
//! and the accumulator, whose values the state store keeps per key.

use proc_macro2::Span;

use super::session_window::SessionSpec;
use crate::check::{
    AggPlace, Checker, RowRole, StatefulKind, StatefulSeen, StreamState, TExpr, TKind,
};
use crate::parse::{Expr, SelectItem};
use crate::plan::{Column, Schema, TypedOp};
use crate::types::{ColType, DslType};

/// A checked aggregation.
#[derive(Clone, Debug)]
pub(crate) struct AggPlan {
    /// The stateful operator's id (its folder in the checkpoint's `state`).
    pub(crate) id: usize,
    /// The projection to the aggregation's input columns, and their schema.
    pub(crate) input: Vec<(String, TExpr)>,
    pub(crate) input_schema: Schema,
    /// The grouping keys, in output order.
    pub(crate) keys: Vec<KeyItem>,
    pub(crate) window: Option<WindowSpec>,
    /// A session window among the keys (then `window` is `None`).
    pub(crate) session: Option<SessionSpec>,
    pub(crate) aggs: Vec<AggItem>,
    /// Groups are closed and evicted by the watermark (the window or session window is
    /// over the watermarked column).
    pub(crate) evict: bool,
    /// An aggregation of a windowed aggregation's output: the key column (`window_end`)
    /// that carries the event time the first one propagates, and its unit per ms. Its
    /// groups close when the watermark passes that column.
    pub(crate) time_key: Option<(String, i64)>,
    /// The time key is the watermarked event-time column itself, not a first
    /// aggregation's `window_end`: its rows can be late (Spark drops a row whose time the
    /// previous batch's watermark reached).
    pub(crate) event_time_key: bool,
    pub(crate) key_schema: Schema,
    /// The row structs (indices into the plan's rows): input, key, accumulator, output.
    pub(crate) rows: [usize; 4],
}

/// A grouping key.
#[derive(Clone, Debug)]
pub(crate) enum KeyItem {
    /// `window_start`, `window_end`.
    Window,
    /// `session_window_start`, `session_window_end` (in the state key `session_start`,
    /// `session_end`).
    Session,
    /// Input column `input`, output as `name`.
    Column { input: usize, name: String },
}

/// `window(time, size, slide, start)`, in the time column's unit.
#[derive(Clone, Copy, Debug)]
pub(crate) struct WindowSpec {
    /// The input column of the time.
    pub(crate) time: usize,
    pub(crate) size: i64,
    pub(crate) slide: i64,
    pub(crate) start: i64,
    pub(crate) unit_per_ms: i64,
    pub(crate) unit: DslType,
}

/// The aggregate functions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AggFunc {
    Count,
    Sum,
    Avg,
    Min,
    Max,
    First,
    Last,
    ApproxCountDistinct,
    /// The non-null values, in arrival order.
    CollectList,
    /// The distinct non-null values, sorted ascending.
    CollectSet,
    /// `max_by(x, ord)`: `x` at the row with the largest non-null `ord`.
    MaxBy,
    /// `min_by(x, ord)`: `x` at the row with the smallest non-null `ord`.
    MinBy,
}

/// An aggregate: its function, its argument (an input column; none for `count()`), its
/// output name.
#[derive(Clone, Debug)]
pub(crate) struct AggItem {
    pub(crate) func: AggFunc,
    pub(crate) arg: Option<usize>,
    pub(crate) arg_ty: Option<ColType>,
    /// The ordering of `max_by` / `min_by` (an input column, always the one after `arg`).
    pub(crate) ord: Option<usize>,
    pub(crate) name: String,
}

/// The aggregate functions of Spark that this version does not compute yet.
const NOT_YET: &[&str] = &["count_distinct", "stddev", "variance"];

pub(crate) fn check(
    cx: &mut Checker,
    stream: StreamState,
    keys: &[SelectItem],
    group_span: Span,
    aggs: &[SelectItem],
    agg_span: Span,
) -> Option<StreamState> {
    // an aggregation of a windowed aggregation's output, by its window (Spark 3.4+,
    // append mode): the first one's `window_end` carries the event time
    let chained = stream
        .stateful
        .as_ref()
        .is_some_and(|seen| seen.aggregation && stream.event_time.is_some());
    if let Some(seen) = stream.stateful.as_ref().filter(|_| !chained) {
        if seen.op == StatefulKind::Join {
            cx.cx.error(
                group_span,
                "an aggregation after a join of two streams is not supported yet",
                "one stateful operator per query for now: write the joined rows to a sink (Parquet, Delta, Kafka) and aggregate them in a second query that reads it",
            );
            return None;
        }
        if seen.aggregation {
            cx.cx.error(
                group_span,
                "an aggregation of an aggregation needs the first one's windows closed by a watermark",
                "aggregate the output of a windowed aggregation with a watermark (`.with_watermark(ts, ..).group_by(window(ts, ..), ..)`), grouped by its `window_start, window_end`; or aggregate once: every key in one `group_by`",
            );
            return None;
        }
        cx.cx.error(
            group_span,
            format!(
                "an aggregation after `{}` is not supported in a streaming query",
                seen.op
            ),
            "aggregate once: put every key in one `group_by` and every aggregate in its `agg`",
        );
        return None;
    }
    let mut input: Vec<(String, TExpr)> = Vec::new();
    let mut key_items = Vec::new();
    let mut window = None;
    let mut session: Option<(SessionSpec, Span)> = None;
    let mut key_schema = Schema::new();
    let mut output = Schema::new();
    let mut ok = true;
    let mut watermarked_key = false;
    let mut time_key: Option<(String, i64)> = None;
    for item in keys {
        if let Expr::Call { name, args } = &item.expr
            && (name == "window" || name == "session_window")
        {
            if window.is_some() || session.is_some() {
                cx.cx.error(
                    name.span(),
                    "a `group_by` takes one window",
                    "keep one `window(..)` or `session_window(..)` among the keys",
                );
                ok = false;
                continue;
            }
            let checked = if name == "session_window" {
                super::session_window::spec(cx, &stream, name, args, input.len()).map(
                    |(spec, time)| {
                        session = Some((spec, name.span()));
                        (time, spec.unit, KeyItem::Session)
                    },
                )
            } else {
                window_spec(cx, &stream, name, args, input.len()).map(|(spec, time)| {
                    window = Some(spec);
                    (time, spec.unit, KeyItem::Window)
                })
            };
            let Some((time, unit, item)) = checked else {
                ok = false;
                continue;
            };
            if let (Some(et), TKind::Column { name, .. }) = (&stream.event_time, &time.kind)
                && *name == et.column
            {
                watermarked_key = true;
            }
            input.push(("__t".to_string(), time));
            let ty = ColType {
                ty: unit,
                nullable: false,
            };
            // the state key's names, then the output's: a session's key keeps the names
            // its checkpoints were written with, its columns are named as Spark flattens
            // `session_window`
            let (keys, columns) = match item {
                KeyItem::Session => (
                    ["session_start", "session_end"],
                    ["session_window_start", "session_window_end"],
                ),
                _ => (
                    ["window_start", "window_end"],
                    ["window_start", "window_end"],
                ),
            };
            if let Some(col) = columns
                .iter()
                .find(|c| output.iter().any(|o| o.name == **c))
            {
                cx.cx.error(
                    name.span(),
                    format!("the output has two columns named `{col}`"),
                    "give the other key another name with `as`",
                );
                ok = false;
                continue;
            }
            for (key, col) in keys.into_iter().zip(columns) {
                key_schema.push(Column {
                    name: key.into(),
                    ty,
                });
                output.push(Column {
                    name: col.into(),
                    ty,
                });
            }
            key_items.push(item);
            continue;
        }
        let Some(typed) = cx.check_in(AggPlace::GroupKey, &item.expr, &stream.schema) else {
            ok = false;
            continue;
        };
        let name = match (&item.alias, &typed.kind) {
            (Some(alias), _) => alias.to_string(),
            (None, TKind::Column { name, .. }) => name.clone(),
            (None, _) => {
                cx.cx.error_range(
                    item.range,
                    "this key needs a name",
                    "name it with `as`: `lower(country) as country`",
                );
                ok = false;
                continue;
            }
        };
        if output.iter().any(|c| c.name == name) {
            cx.cx.error_range(
                item.range,
                format!("the output has two columns named `{name}`"),
                "give this key another name with `as`",
            );
            ok = false;
            continue;
        }
        let ty = typed.ty;
        if chained
            && let (Some(et), TKind::Column { name: column, .. }) =
                (&stream.event_time, &typed.kind)
            && *column == et.column
        {
            watermarked_key = true;
            let unit_per_ms = if ty.ty == DslType::TimestampUs {
                1_000
            } else {
                1
            };
            time_key = Some((name.clone(), unit_per_ms));
        }
        key_items.push(KeyItem::Column {
            input: input.len(),
            name: name.clone(),
        });
        input.push((format!("__k{}", input.len()), typed));
        key_schema.push(Column {
            name: name.clone(),
            ty,
        });
        output.push(Column { name, ty });
    }
    if let Some((_, span)) = session
        && !key_items
            .iter()
            .any(|k| matches!(k, KeyItem::Column { .. }))
        && ok
    {
        cx.cx.error(
            span,
            "a `session_window` needs another grouping key",
            "sessions are per user, device, ..: group by one as well, as in `group_by(session_window(ts, \"5 minutes\"), user)`",
        );
        ok = false;
    }
    // a key that is the watermarked column itself (not in a window): Spark closes its
    // group once the watermark reaches the key's time, as a window at its end
    let mut event_time_key = false;
    if !chained
        && window.is_none()
        && session.is_none()
        && let Some(et) = &stream.event_time
        && let Some((name, ty)) = key_items.iter().find_map(|k| match k {
            KeyItem::Column { input: i, name } => match &input[*i].1.kind {
                TKind::Column { name: column, .. } if *column == et.column => {
                    Some((name.clone(), input[*i].1.ty.ty))
                }
                _ => None,
            },
            _ => None,
        })
    {
        let unit_per_ms = if ty == DslType::TimestampUs { 1_000 } else { 1 };
        watermarked_key = true;
        event_time_key = true;
        time_key = Some((name, unit_per_ms));
    }
    let mut agg_items = Vec::new();
    let mut acc_schema = Schema::new();
    for item in aggs {
        let Some((func, arg_expr, ord_expr, fname)) = aggregate_call(cx, item) else {
            ok = false;
            continue;
        };
        let Some(alias) = &item.alias else {
            cx.cx.error_range(
                item.range,
                "this aggregate needs a name",
                format!("name it with `as`: `{fname}(..) as total`"),
            );
            ok = false;
            continue;
        };
        let name = alias.to_string();
        let (arg, arg_ty) = match arg_expr {
            Some(e) => match cx.check_in(AggPlace::Argument(fname.clone()), e, &stream.schema) {
                Some(typed) => {
                    let ty = typed.ty;
                    if !takes(func, ty.ty) {
                        cx.cx.error(
                            e.span(),
                            format!("`{fname}` cannot take `{}`", ty.ty.name()),
                            match func {
                                AggFunc::Sum | AggFunc::Avg => "it takes a number",
                                AggFunc::CollectList | AggFunc::CollectSet => {
                                    "it takes a bool, a number, a string, a date or a timestamp"
                                }
                                _ => "it takes a number, a string, a date or a timestamp",
                            },
                        );
                        ok = false;
                        continue;
                    }
                    let index = input.len();
                    input.push((format!("__a{index}"), typed));
                    (Some(index), Some(ty))
                }
                None => {
                    ok = false;
                    continue;
                }
            },
            None => (None, None),
        };
        // the ordering of `max_by` / `min_by`, pushed right after its value
        let ord = match ord_expr {
            Some(e) => match cx.check_in(AggPlace::Argument(fname.clone()), e, &stream.schema) {
                Some(typed) => {
                    let ty = typed.ty;
                    if !orderable(ty.ty) {
                        cx.cx.error(
                            e.span(),
                            format!("`{fname}` cannot order by `{}`", ty.ty.name()),
                            "order by a bool, a number, a string, a date or a timestamp",
                        );
                        ok = false;
                        continue;
                    }
                    let index = input.len();
                    input.push((format!("__a{index}"), typed));
                    Some((index, ty.ty))
                }
                None => {
                    ok = false;
                    continue;
                }
            },
            None => None,
        };
        let i = agg_items.len();
        let out_ty = match (func, arg_ty) {
            (AggFunc::Count | AggFunc::ApproxCountDistinct, _) => ColType {
                ty: DslType::I64,
                nullable: false,
            },
            (AggFunc::Sum, Some(t)) => ColType {
                ty: if t.ty.is_integer() {
                    DslType::I64
                } else {
                    DslType::F64
                },
                nullable: true,
            },
            (AggFunc::Avg, _) => ColType {
                ty: DslType::F64,
                nullable: true,
            },
            // a group has a row, so a list, empty when every value was null
            (AggFunc::CollectList | AggFunc::CollectSet, Some(t)) => ColType {
                ty: DslType::list_of(t.ty).unwrap_or(DslType::I64),
                nullable: false,
            },
            (_, Some(t)) => ColType {
                ty: t.ty,
                nullable: true,
            },
            (_, None) => ColType {
                ty: DslType::I64,
                nullable: true,
            },
        };
        match func {
            AggFunc::ApproxCountDistinct => acc_schema.push(Column {
                name: format!("__acc{i}"),
                ty: ColType {
                    ty: DslType::Binary,
                    nullable: false,
                },
            }),
            AggFunc::Avg => {
                acc_schema.push(Column {
                    name: format!("__acc{i}_sum"),
                    ty: ColType {
                        ty: DslType::F64,
                        nullable: false,
                    },
                });
                acc_schema.push(Column {
                    name: format!("__acc{i}_n"),
                    ty: ColType {
                        ty: DslType::I64,
                        nullable: false,
                    },
                });
            }
            _ => acc_schema.push(Column {
                name: format!("__acc{i}"),
                ty: out_ty,
            }),
        }
        // `max_by` / `min_by` keep the ordering of the value beside it, null until a row
        // with a non-null ordering comes
        if let Some((_, ty)) = ord {
            acc_schema.push(Column {
                name: format!("__acc{i}_ord"),
                ty: ColType { ty, nullable: true },
            });
        }
        if output.iter().any(|c| c.name == name) {
            cx.cx.error(
                alias.span(),
                format!("the output has two columns named `{name}`"),
                "give the aggregate another name",
            );
            ok = false;
            continue;
        }
        output.push(Column {
            name: name.clone(),
            ty: out_ty,
        });
        agg_items.push(AggItem {
            func,
            arg,
            arg_ty,
            ord: ord.map(|(index, _)| index),
            name,
        });
    }
    if aggs.is_empty() {
        cx.cx.error(
            agg_span,
            "`agg` needs at least one aggregate",
            "count the rows of each group: `agg(count() as n)`",
        );
        ok = false;
    }
    if !ok {
        return None;
    }
    let input_schema: Schema = input
        .iter()
        .map(|(n, e)| Column {
            name: n.clone(),
            ty: e.ty,
        })
        .collect();
    let id = cx.stateful_ops;
    cx.stateful_ops += 1;
    // the input row leaves the key columns out: the map side reads them in place
    let key_inputs: Vec<usize> = key_items
        .iter()
        .filter_map(|k| match k {
            KeyItem::Column { input, .. } => Some(*input),
            KeyItem::Window | KeyItem::Session => None,
        })
        .collect();
    let row_schema: Schema = input_schema
        .iter()
        .enumerate()
        .filter(|(i, _)| !key_inputs.contains(i))
        .map(|(_, c)| c.clone())
        .collect();
    let rows = [
        cx.internal_row(row_schema, format!("AggInput{id}"), RowRole::Plain),
        cx.internal_row(key_schema.clone(), format!("GroupKey{id}"), RowRole::Key),
        cx.internal_row(
            acc_schema.clone(),
            format!("Accumulator{id}"),
            RowRole::State,
        ),
        cx.internal_row(output.clone(), format!("AggOutput{id}"), RowRole::Plain),
    ];
    if chained && time_key.is_none() {
        let column = stream
            .event_time
            .as_ref()
            .map_or("window_end", |e| e.column.as_str());
        cx.cx.error(
            group_span,
            format!("an aggregation of an aggregation groups by the first one's window: `{column}` is not among the keys"),
            format!("group by the window the first aggregation closed: `.group_by(window_start, {column}, ..)`"),
        );
        return None;
    }
    let evict = watermarked_key && (window.is_some() || session.is_some() || time_key.is_some());
    // late rows keep the stream's columns, not the internal ones of the projection
    let late_schema = evict.then(|| stream.schema.clone());
    let plan = AggPlan {
        rows,
        id,
        input,
        input_schema,
        keys: key_items,
        evict,
        time_key,
        event_time_key,
        window,
        session: session.map(|(spec, _)| spec),
        aggs: agg_items,
        key_schema,
    };
    // a window closed by the watermark is written once, in the batch whose watermark
    // passed its end: its `window_end` carries the event time on, so that a second
    // aggregation can close its groups by it (Spark 3.4+'s chained aggregations)
    let propagated = (evict && window.is_some() && !chained).then(|| crate::check::EventTime {
        column: "window_end".to_string(),
        delay_ms: 0,
    });
    let mut next = super::push(stream, TypedOp::Aggregate(Box::new(plan)), output);
    next.event_time = propagated;
    next.stateful = Some(StatefulSeen {
        op: StatefulKind::Agg,
        span: group_span,
        aggregation: true,
        watermarked_key,
        session_window: session.is_some(),
        late_schema,
        chained,
        global: keys.is_empty(),
    });
    Some(next)
}

/// Whether `func` takes an argument of type `ty`.
fn takes(func: AggFunc, ty: DslType) -> bool {
    match func {
        AggFunc::Count
        | AggFunc::First
        | AggFunc::Last
        | AggFunc::ApproxCountDistinct
        | AggFunc::MaxBy
        | AggFunc::MinBy => true,
        AggFunc::Sum | AggFunc::Avg => ty.is_numeric(),
        AggFunc::Min | AggFunc::Max => !matches!(ty, DslType::Binary),
        AggFunc::CollectList | AggFunc::CollectSet => DslType::list_of(ty).is_some(),
    }
}

/// Whether `max_by` / `min_by` can order by `ty`: a bool, a number, a string, a date or a
/// timestamp (the scalar types a list holds).
fn orderable(ty: DslType) -> bool {
    DslType::list_of(ty).is_some()
}

/// The names `agg` takes, for help lines.
const AGGREGATE_NAMES: &str = "count, sum, avg, min, max, first, last, max_by, min_by, approx_count_distinct, collect_list and collect_set";

/// The function, argument and ordering (of `max_by` / `min_by`) of an aggregate item, or
/// an error on it.
fn aggregate_call<'a>(
    cx: &mut Checker,
    item: &'a SelectItem,
) -> Option<(AggFunc, Option<&'a Expr>, Option<&'a Expr>, String)> {
    let Expr::Call { name, args } = &item.expr else {
        // an expression of aggregates, as Spark's `agg(sum(x) / count(x))`
        let mut parts = Vec::new();
        let rewritten = of_aggregates(&item.expr, &mut parts);
        if !parts.is_empty() {
            let aggs = parts
                .iter()
                .map(|(call, name)| format!("{call} as {name}"))
                .collect::<Vec<_>>()
                .join(", ");
            let column = item
                .alias
                .as_ref()
                .map_or("value".to_string(), ToString::to_string);
            cx.cx.error_range(
                item.range,
                "an expression of aggregates is not supported yet: each item of `agg(..)` is one aggregate function",
                format!("aggregate each part, then compute from them after `agg`: `.agg({aggs}).with_column({column}, {rewritten})`"),
            );
            return None;
        }
        cx.cx.error_range(
            item.range,
            "`agg` takes aggregate functions",
            "write `count() as n`, `sum(amount) as total`, `avg(amount) as mean`, `min(ts) as first_seen`",
        );
        return None;
    };
    let fname = name.to_string();
    let func = match fname.as_str() {
        "count" => AggFunc::Count,
        "sum" => AggFunc::Sum,
        "avg" | "mean" => AggFunc::Avg,
        "min" => AggFunc::Min,
        "max" => AggFunc::Max,
        "first" => AggFunc::First,
        "last" => AggFunc::Last,
        "approx_count_distinct" => AggFunc::ApproxCountDistinct,
        "collect_list" => AggFunc::CollectList,
        "collect_set" => AggFunc::CollectSet,
        "max_by" => AggFunc::MaxBy,
        "min_by" => AggFunc::MinBy,
        other if NOT_YET.contains(&other) => {
            cx.cx.error(
                name.span(),
                format!("the aggregate `{other}` is not supported yet"),
                format!("the aggregates are {AGGREGATE_NAMES}"),
            );
            return None;
        }
        other => {
            let help = match crate::diag::did_you_mean(
                other,
                ["count", "sum", "avg", "min", "max", "max_by", "min_by"],
            ) {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!("the aggregates are {AGGREGATE_NAMES}"),
            };
            cx.cx.error(
                name.span(),
                format!("`{other}` is not an aggregate function"),
                help,
            );
            return None;
        }
    };
    match (func, args.as_slice()) {
        (AggFunc::Count, []) => Some((func, None, None, fname)),
        (AggFunc::MaxBy | AggFunc::MinBy, [arg, ord]) => Some((func, Some(arg), Some(ord), fname)),
        (AggFunc::MaxBy | AggFunc::MinBy, _) => {
            let most = if func == AggFunc::MaxBy {
                "largest"
            } else {
                "smallest"
            };
            cx.cx.error(
                name.span(),
                format!("`{fname}` takes two arguments"),
                format!(
                    "write `{fname}(value, ordering)`: the value at the row whose ordering is the {most}"
                ),
            );
            None
        }
        (_, [arg]) => Some((func, Some(arg), None, fname)),
        _ => {
            let usage = if func == AggFunc::Count {
                "`count()` or `count(column)`".to_string()
            } else {
                format!("`{fname}(column)`")
            };
            cx.cx.error(
                name.span(),
                format!("`{fname}` takes one argument"),
                format!("write {usage}"),
            );
            None
        }
    }
}

/// `expr` as a block writes it, each aggregate call in it replaced by a name for its
/// result, the calls and names pushed to `parts` (`sum(x) / count()` is `sum_x / n`).
fn of_aggregates(expr: &Expr, parts: &mut Vec<(String, String)>) -> String {
    let operand = |e: &Expr, parts: &mut Vec<(String, String)>| match e {
        Expr::Binary { .. } | Expr::Cast { .. } => format!("({})", of_aggregates(e, parts)),
        _ => of_aggregates(e, parts),
    };
    match expr {
        Expr::Call { name, args }
            if crate::check::functions::AGGREGATES.contains(&name.to_string().as_str()) =>
        {
            let call = expr.text();
            let base = match args.as_slice() {
                [] => "n".to_string(),
                [Expr::Column(c)] => format!("{name}_{c}"),
                _ => format!("{name}_value"),
            };
            let mut alias = base.clone();
            let mut i = 2;
            while parts.iter().any(|(c, a)| *a == alias && *c != call) {
                alias = format!("{base}_{i}");
                i += 1;
            }
            if !parts.iter().any(|(c, _)| *c == call) {
                parts.push((call, alias.clone()));
            }
            alias
        }
        Expr::Binary {
            op, left, right, ..
        } => {
            let l = operand(left, parts);
            let r = operand(right, parts);
            format!("{l} {} {r}", op.symbol())
        }
        Expr::Unary {
            op, expr: inner, ..
        } => {
            let sign = if *op == crate::parse::UnOp::Not {
                "!"
            } else {
                "-"
            };
            format!("{sign}{}", operand(inner, parts))
        }
        Expr::Cast { expr: inner, ty } => format!("{} as {}", operand(inner, parts), ty.base),
        Expr::Call { name, args } => format!(
            "{name}({})",
            args.iter()
                .map(|a| of_aggregates(a, parts))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => other.text(),
    }
}

/// The unit of a window's time column and its ticks per millisecond; an error on the
/// column for anything but a timestamp (`func` is `window` or `session_window`,
/// `duration` the example duration of its help line).
pub(crate) fn time_unit(
    cx: &mut Checker,
    func: &str,
    duration: &str,
    time_expr: &Expr,
    time: &TExpr,
) -> Option<(DslType, i64)> {
    match time.ty.ty {
        DslType::TimestampMs => Some((DslType::TimestampMs, 1)),
        DslType::TimestampUs => Some((DslType::TimestampUs, 1_000)),
        other => {
            cx.cx.error(
                time_expr.span(),
                format!("`{func}` needs a timestamp, and this is `{}`", other.name()),
                match crate::check::functions::to_timestamp_help(time_expr, other) {
                    Some(fix) => format!("convert it: `{func}({fix}, {duration})`"),
                    None => format!(
                        "group by `{func}(ts, {duration})` of a `timestamp_ms` or `timestamp_us` column"
                    ),
                },
            );
            None
        }
    }
}

/// `window(time, "size"[, "slide"[, "start"]])`: the spec and the typed time column.
fn window_spec(
    cx: &mut Checker,
    stream: &StreamState,
    name: &syn::Ident,
    args: &[Expr],
    time_index: usize,
) -> Option<(WindowSpec, TExpr)> {
    let usage = "write `window(ts, \"10 minutes\")`, or `window(ts, \"10 minutes\", \"5 minutes\")` for sliding windows";
    let Some(time_expr) = args.first().filter(|_| (2..=4).contains(&args.len())) else {
        cx.cx.error(
            name.span(),
            "`window` takes a timestamp column and a size (and a slide and a start)",
            usage,
        );
        return None;
    };
    let time = cx.check_expr(time_expr, &stream.schema, None)?;
    let (unit, unit_per_ms) = time_unit(cx, "window", "\"1 minute\"", time_expr, &time)?;
    let mut durations = Vec::new();
    for (i, arg) in args.iter().enumerate().skip(1) {
        let duration = match arg {
            Expr::Lit(syn::Lit::Str(s)) => {
                match super::settings::interval_in_unit(&s.value(), unit_per_ms) {
                    Some(d) if d > 0 || i == 3 => d,
                    _ if super::settings::refuse_unfixed(cx, s, unit_per_ms, "a window") => {
                        return None;
                    }
                    _ => {
                        cx.cx.error(
                        s.span(),
                        super::options::unreadable_interval("the duration", &s.value()),
                        "write a number above 0 and a unit: \"30 seconds\", \"10 minutes\", \"1 hour\"",
                    );
                        return None;
                    }
                }
            }
            other => {
                cx.cx
                    .error(other.span(), "a window duration is a string", usage);
                return None;
            }
        };
        durations.push(duration);
    }
    let size = durations[0];
    let slide = durations.get(1).copied().unwrap_or(size);
    let start = durations.get(2).copied().unwrap_or(0);
    if slide > size {
        cx.cx.error(
            args[2].span(),
            "a window's slide is longer than its size",
            "make the slide at most the size: rows between windows would belong to none",
        );
        return None;
    }
    if start >= slide {
        cx.cx.error(
            args[3].span(),
            "a window's start offset is not shorter than its slide",
            "give an offset below the slide",
        );
        return None;
    }
    Some((
        WindowSpec {
            time: time_index,
            size,
            slide,
            start,
            unit_per_ms,
            unit,
        },
        time,
    ))
}

/// The code of an aggregation: the map side (each task's partial aggregates, routed to
/// shuffle partitions by key) and the reduce side (merged into the partition's state
/// store, emitted as the output mode says, committed).
pub(crate) mod emit {
    use proc_macro2::TokenStream;
    use quote::{format_ident, quote};

    use super::{AggFunc, AggPlan, KeyItem};
    use crate::codegen::key_columns::KeyColumn;
    use crate::codegen::rows::field_ident;
    use crate::codegen::stateful::StatefulCode;
    use crate::plan::OutputMode;

    fn ident(name: &str) -> syn::Ident {
        field_ident(name)
    }

    /// The code of an aggregation: the `Aggregation` impl of its types and per-row
    /// functions, and the `AggregateExec` field that runs it (see
    /// `stream_core::__private::aggregate`).
    pub(crate) fn executor(
        plan: &AggPlan,
        rows: &[TokenStream; 4],
        mode: OutputMode,
        late_sink: bool,
    ) -> StatefulCode {
        let [input, key, acc, out] = rows;
        let p = quote!(::stream_core::__private);
        let r = quote!(::stream_core::Result);
        let spec = format_ident!("__Agg{}", plan.id);
        let columns = key_columns(plan);
        let reader_types = columns.iter().map(|c| {
            let ty = &c.ty;
            quote!(<#ty as #p::KeyColumn>::Reader<'a>)
        });
        let row_name = format!("AggInput{}", plan.id);
        let readers = columns.iter().map(|c| {
            let (ty, column) = (&c.ty, &c.column);
            quote!(<#ty as #p::KeyColumn>::reader(__batch, #column, #row_name)?)
        });
        let reads = columns.iter().enumerate().map(|(n, c)| {
            let (ty, field) = (&c.ty, &c.field);
            let n = syn::Index::from(n);
            quote!(<#ty as #p::KeyColumn>::read_into(&__keys.#n, __i, &mut __k.#field)?;)
        });
        let updates = plan
            .aggs
            .iter()
            .enumerate()
            .map(|(i, a)| update(i, a, plan));
        let merge = merge(plan);
        let finish = finish(plan, out);
        // the time of a row, the window's bounds in the key, and how groups are made
        let time_of = |time: usize| {
            if plan.input_schema[time].ty.nullable {
                quote!(__row.__t.map(|__t| __t.0))
            } else {
                quote!(::core::option::Option::Some(__row.__t.0))
            }
        };
        let bounds = |start: &str, end: &str, unit: crate::types::DslType| {
            let (s, e) = (ident(start), ident(end));
            let unit = unit_type(unit);
            quote! {
                fn window(__k: &#key) -> (i64, i64) {
                    (__k.#s.0, __k.#e.0)
                }
                fn set_window(__k: &mut #key, __start: i64, __end: i64) {
                    __k.#s = #unit(__start);
                    __k.#e = #unit(__end);
                }
            }
        };
        let (grouping, windowing, unit_per_ms) = match (plan.window, plan.session, &plan.time_key) {
            (Some(w), _, _) => {
                let (size, slide, start) = (w.size, w.slide, w.start);
                let time = time_of(w.time);
                let bounds = bounds("window_start", "window_end", w.unit);
                (
                    quote!(#p::Grouping::Window { size: #size, slide: #slide, start: #start }),
                    quote! {
                        fn time(__row: &#input) -> ::core::option::Option<i64> { #time }
                        #bounds
                    },
                    w.unit_per_ms,
                )
            }
            (None, Some(s), _) => {
                let gap = s.gap;
                let time = time_of(s.time);
                let bounds = bounds("session_start", "session_end", s.unit);
                (
                    quote!(#p::Grouping::Session { gap: #gap }),
                    quote! {
                        fn time(__row: &#input) -> ::core::option::Option<i64> { #time }
                        #bounds
                    },
                    s.unit_per_ms,
                )
            }
            // an aggregation of a windowed one closes a group by its time key
            (None, None, Some((name, unit))) if !plan.event_time_key => {
                let f = ident(name);
                (
                    quote!(#p::Grouping::Keys),
                    quote! {
                        fn window(__k: &#key) -> (i64, i64) {
                            (i64::MIN, __k.#f.0)
                        }
                    },
                    *unit,
                )
            }
            // a key that is the watermarked column: its rows are late, and its group
            // closes, by its time; a null time never (Spark's comparison with the
            // watermark is null then)
            (None, None, Some((name, unit))) => {
                let f = ident(name);
                let nullable = plan
                    .key_schema
                    .iter()
                    .any(|c| c.name == *name && c.ty.nullable);
                let end = if nullable {
                    quote!(match __k.#f {
                        ::core::option::Option::Some(__t) => __t.0,
                        ::core::option::Option::None => i64::MAX,
                    })
                } else {
                    quote!(__k.#f.0)
                };
                (
                    quote!(#p::Grouping::EventTime),
                    quote! {
                        fn window(__k: &#key) -> (i64, i64) {
                            (i64::MIN, #end)
                        }
                    },
                    *unit,
                )
            }
            (None, None, None) => (quote!(#p::Grouping::Keys), TokenStream::new(), 1),
        };
        let mode = crate::codegen::stateful::output_mode(mode);
        let (id, evict) = (plan.id, plan.evict);
        // without keys: one group, with a row in every batch (only then: other plans'
        // code is unchanged)
        let global = plan.keys.is_empty().then(|| {
            quote!(
                const GLOBAL: bool = true;
            )
        });
        let items = quote! {
            #[allow(non_camel_case_types)]
            struct #spec;
            impl #p::Aggregation for #spec {
                const GROUPING: #p::Grouping = #grouping;
                #global
                type Input = #input;
                type Keys<'a> = (#(#reader_types,)*);
                type Key = #key;
                type Acc = #acc;
                type Out = #out;
                fn keys(__batch: &#p::arrow_array::RecordBatch) -> #r<Self::Keys<'_>> {
                    ::core::result::Result::Ok((#(#readers,)*))
                }
                #[allow(unused_variables)]
                fn read_key(__keys: &Self::Keys<'_>, __i: usize, __k: &mut #key) -> #r<()> {
                    #(#reads)*
                    ::core::result::Result::Ok(())
                }
                #windowing
                #[allow(unused_variables)]
                fn update(__acc: &mut #acc, __row: &#input) {
                    #(#updates)*
                }
                #[allow(unused_variables)]
                fn merge(__into: &mut #acc, __from: #acc) {
                    #merge
                }
                fn finish(__k: #key, __a: #acc) -> #out {
                    #finish
                }
            }
        };
        let field = format_ident!("__state{}", id);
        let project = if late_sink {
            quote!(::core::option::Option::Some(
                &|__b| self.__agg_input(__ctx, __b)
            ))
        } else {
            quote!(::core::option::Option::None)
        };
        StatefulCode {
            items,
            map: quote!(self.#field.map(__ctx, __batches, #project)),
            reduce: quote!(self.#field.reduce(__ctx, input)),
            check: quote!(self.#field.check_state(__checkpoint)),
            field: quote!(#field: #p::AggregateExec<#spec>),
            init: quote! {
                #field: #p::AggregateExec::new(#p::AggregateConf {
                    id: #id,
                    mode: #mode,
                    evict: #evict,
                    unit_per_ms: #unit_per_ms,
                    late_rows: #late_sink,
                })
            },
        }
    }

    /// The Rust type of key column `input` (an `Option` when it is nullable).
    fn key_column_type(plan: &AggPlan, input: usize) -> TokenStream {
        let ty = plan.input_schema[input].ty;
        let value = ty.ty.value();
        if ty.nullable {
            quote!(::core::option::Option<#value>)
        } else {
            value
        }
    }

    /// The key columns of the aggregation's input (`__k<N>`), read in place: the input
    /// row struct leaves them out, so no key value is copied for a row whose group is
    /// already there.
    fn key_columns(plan: &AggPlan) -> Vec<KeyColumn> {
        plan.keys
            .iter()
            .filter_map(|k| match k {
                KeyItem::Window | KeyItem::Session => None,
                KeyItem::Column { input, name } => Some(KeyColumn {
                    reader: format_ident!("__kr{}", input),
                    column: format!("__k{input}"),
                    field: ident(name),
                    ty: key_column_type(plan, *input),
                }),
            })
            .collect()
    }

    /// The Rust type of a window bound of the time column's unit.
    pub(crate) fn unit_type(unit: crate::types::DslType) -> TokenStream {
        match unit {
            crate::types::DslType::TimestampUs => quote!(::stream_core::types::TimestampUs),
            _ => quote!(::stream_core::types::TimestampMs),
        }
    }

    /// Folds one input row's argument into accumulator `i`.
    pub(crate) fn update(i: usize, a: &super::AggItem, plan: &AggPlan) -> TokenStream {
        let acc = format_ident!("__acc{}", i);
        if let (AggFunc::MaxBy | AggFunc::MinBy, Some(x), Some(ord)) = (a.func, a.arg, a.ord) {
            return update_by(i, a.func, plan, x, ord);
        }
        let (arg, nullable) = match a.arg {
            Some(index) => (
                format_ident!("__a{}", index),
                plan.input_schema[index].ty.nullable,
            ),
            None => return quote!(__acc.#acc += 1;),
        };
        // the value `__v`, present
        let body = match a.func {
            AggFunc::Count => quote!(__acc.#acc += 1;),
            AggFunc::Sum => {
                if a.arg_ty.is_some_and(|t| t.ty.is_integer()) {
                    quote!(__acc.#acc = ::core::option::Option::Some(__acc.#acc.unwrap_or(0).wrapping_add(__v as i64));)
                } else {
                    quote!(__acc.#acc = ::core::option::Option::Some(__acc.#acc.unwrap_or(0.0) + __v as f64);)
                }
            }
            AggFunc::Avg => {
                let (sum, n) = (
                    format_ident!("__acc{}_sum", i),
                    format_ident!("__acc{}_n", i),
                );
                quote! {
                    __acc.#sum += __v as f64;
                    __acc.#n += 1;
                }
            }
            AggFunc::First => quote! {
                if __acc.#acc.is_none() {
                    __acc.#acc = ::core::option::Option::Some(::core::clone::Clone::clone(&__v));
                }
            },
            AggFunc::Last => quote! {
                __acc.#acc = ::core::option::Option::Some(::core::clone::Clone::clone(&__v));
            },
            AggFunc::ApproxCountDistinct => quote! {
                ::stream_core::__private::hll_add(&mut __acc.#acc, &__v);
            },
            AggFunc::CollectList => quote! {
                __acc.#acc.push(__v);
            },
            AggFunc::CollectSet => quote! {
                ::stream_core::__private::collect_set_add(&mut __acc.#acc, __v);
            },
            // folded by `update_by` above (the checker gives both their arguments)
            AggFunc::MaxBy | AggFunc::MinBy => TokenStream::new(),
            AggFunc::Min | AggFunc::Max => {
                let better = if a.func == AggFunc::Min {
                    quote!(::stream_core::__private::spark_lt(&__v, __cur))
                } else {
                    quote!(::stream_core::__private::spark_gt(&__v, __cur))
                };
                quote! {
                    let __replace = match &__acc.#acc {
                        ::core::option::Option::Some(__cur) => #better,
                        ::core::option::Option::None => true,
                    };
                    if __replace {
                        __acc.#acc = ::core::option::Option::Some(::core::clone::Clone::clone(&__v));
                    }
                }
            }
        };
        if nullable {
            quote! {
                if let ::core::option::Option::Some(__v) = ::core::clone::Clone::clone(&__row.#arg) {
                    #body
                }
            }
        } else {
            quote! {
                {
                    let __v = ::core::clone::Clone::clone(&__row.#arg);
                    #body
                }
            }
        }
    }

    /// Folds one input row into the accumulator `i` of `max_by` / `min_by` (`func`): its
    /// value `__a<x>` and ordering `__a<ord>`, kept when the ordering is not null and
    /// strictly beyond the one held (so the first of tied rows stays).
    fn update_by(i: usize, func: AggFunc, plan: &AggPlan, x: usize, ord: usize) -> TokenStream {
        let (acc, acc_ord) = (format_ident!("__acc{}", i), format_ident!("__acc{}_ord", i));
        let (xf, of) = (format_ident!("__a{}", x), format_ident!("__a{}", ord));
        let better = beyond(func);
        let value = if plan.input_schema[x].ty.nullable {
            quote!(::core::clone::Clone::clone(&__row.#xf))
        } else {
            quote!(::core::option::Option::Some(::core::clone::Clone::clone(&__row.#xf)))
        };
        let body = quote! {
            let __replace = match &__acc.#acc_ord {
                ::core::option::Option::Some(__cur) => #better,
                ::core::option::Option::None => true,
            };
            if __replace {
                __acc.#acc_ord = ::core::option::Option::Some(::core::clone::Clone::clone(__o));
                __acc.#acc = #value;
            }
        };
        if plan.input_schema[ord].ty.nullable {
            quote! {
                if let ::core::option::Option::Some(__o) = &__row.#of {
                    #body
                }
            }
        } else {
            quote! {
                {
                    let __o = &__row.#of;
                    #body
                }
            }
        }
    }

    /// Whether the ordering `__o` (a reference) is strictly beyond the held `__cur` (a
    /// reference) for `max_by` (larger) or `min_by` (smaller).
    fn beyond(func: AggFunc) -> TokenStream {
        if func == AggFunc::MinBy {
            quote!(::stream_core::__private::spark_lt(__o, __cur))
        } else {
            quote!(::stream_core::__private::spark_gt(__o, __cur))
        }
    }

    /// Merges accumulator `__from` into `__into` (both `&mut`/owned accumulators).
    pub(crate) fn merge(plan: &AggPlan) -> TokenStream {
        let steps = plan.aggs.iter().enumerate().map(|(i, a)| {
            let acc = format_ident!("__acc{}", i);
            match a.func {
                AggFunc::Count => quote!(__into.#acc += __from.#acc;),
                AggFunc::Sum => {
                    let add = if a.arg_ty.is_some_and(|t| t.ty.is_integer()) {
                        quote!(__x.wrapping_add(__y))
                    } else {
                        quote!(__x + __y)
                    };
                    quote! {
                        __into.#acc = match (__into.#acc.take(), __from.#acc) {
                            (::core::option::Option::Some(__x), ::core::option::Option::Some(__y)) => ::core::option::Option::Some(#add),
                            (__x, ::core::option::Option::None) => __x,
                            (::core::option::Option::None, __y) => __y,
                        };
                    }
                }
                AggFunc::Avg => {
                    let (sum, n) = (format_ident!("__acc{}_sum", i), format_ident!("__acc{}_n", i));
                    quote! {
                        __into.#sum += __from.#sum;
                        __into.#n += __from.#n;
                    }
                }
                AggFunc::First => quote! {
                    if __into.#acc.is_none() {
                        __into.#acc = __from.#acc;
                    }
                },
                AggFunc::Last => quote! {
                    if __from.#acc.is_some() {
                        __into.#acc = __from.#acc;
                    }
                },
                AggFunc::ApproxCountDistinct => quote! {
                    ::stream_core::__private::hll_merge(&mut __into.#acc, &__from.#acc);
                },
                // the stored values first, then the newer ones
                AggFunc::CollectList => quote! {
                    __into.#acc.extend(__from.#acc);
                },
                AggFunc::CollectSet => quote! {
                    ::stream_core::__private::collect_set_merge(&mut __into.#acc, __from.#acc);
                },
                // `__into` holds the older rows: on a tie it stays
                AggFunc::MaxBy | AggFunc::MinBy => {
                    let acc_ord = format_ident!("__acc{}_ord", i);
                    let better = beyond(a.func);
                    quote! {
                        if let ::core::option::Option::Some(__o) = &__from.#acc_ord {
                            let __replace = match &__into.#acc_ord {
                                ::core::option::Option::Some(__cur) => #better,
                                ::core::option::Option::None => true,
                            };
                            if __replace {
                                __into.#acc_ord = __from.#acc_ord;
                                __into.#acc = __from.#acc;
                            }
                        }
                    }
                }
                AggFunc::Min | AggFunc::Max => {
                    let better = if a.func == AggFunc::Min {
                        quote!(::stream_core::__private::spark_lt(&__v, __cur))
                    } else {
                        quote!(::stream_core::__private::spark_gt(&__v, __cur))
                    };
                    quote! {
                        if let ::core::option::Option::Some(__v) = __from.#acc {
                            let __replace = match &__into.#acc {
                                ::core::option::Option::Some(__cur) => #better,
                                ::core::option::Option::None => true,
                            };
                            if __replace {
                                __into.#acc = ::core::option::Option::Some(__v);
                            }
                        }
                    }
                }
            }
        });
        quote!(#(#steps)*)
    }

    /// The output row of a key and its accumulator (`__k`, `__a`, owned).
    pub(crate) fn finish(plan: &AggPlan, out: &TokenStream) -> TokenStream {
        let mut fields = Vec::new();
        for k in &plan.keys {
            match k {
                KeyItem::Window => {
                    fields.push(quote!(window_start: __k.window_start));
                    fields.push(quote!(window_end: __k.window_end));
                }
                KeyItem::Session => {
                    fields.push(quote!(session_window_start: __k.session_start));
                    fields.push(quote!(session_window_end: __k.session_end));
                }
                KeyItem::Column { name, .. } => {
                    let f = ident(name);
                    fields.push(quote!(#f: __k.#f));
                }
            }
        }
        for (i, a) in plan.aggs.iter().enumerate() {
            let f = ident(&a.name);
            let acc = format_ident!("__acc{}", i);
            fields.push(match a.func {
                AggFunc::Avg => {
                    let (sum, n) = (format_ident!("__acc{}_sum", i), format_ident!("__acc{}_n", i));
                    quote!(#f: if __a.#n == 0 { ::core::option::Option::None } else { ::core::option::Option::Some(__a.#sum / __a.#n as f64) })
                }
                AggFunc::ApproxCountDistinct => {
                    quote!(#f: ::stream_core::__private::hll_estimate(&__a.#acc))
                }
                _ => quote!(#f: __a.#acc),
            });
        }
        quote!(#out { #(#fields,)* })
    }
}
