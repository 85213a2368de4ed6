//! `union(other)`: the rows of both streams; the columns must be the same, by name and
//! in order. As in Spark, a column nullable on one side is nullable in the union, and
//! a column of two types that widen to one (`i32` and `i64`, `timestamp_ms` and
//! `timestamp_us`, a `date` and a timestamp: Spark's widening of a union's columns) takes
//! the wider: a side whose columns differ from the union's gets a projection to them.

use crate::check::{Checker, StreamState};
use crate::plan::{Column, Schema};
use crate::types::{ColType, DslType};

pub(crate) fn check(
    cx: &mut Checker,
    mut stream: StreamState,
    mut other: StreamState,
    name: &syn::Ident,
) -> Option<StreamState> {
    if stream.schema != other.schema
        && let Some(schema) = widened(&stream.schema, &other.schema)
    {
        stream = conform(stream, &schema, name.span());
        other = conform(other, &schema, name.span());
    }
    if stream.schema != other.schema {
        let show = |s: &crate::plan::Schema| {
            s.iter()
                .map(|c| format!("{}: {}", c.name, c.ty))
                .collect::<Vec<_>>()
                .join(", ")
        };
        // the same columns in another order: Spark's `union` is by position
        fn sorted(s: &Schema) -> Vec<String> {
            let mut n: Vec<String> = s.iter().map(|c| format!("{}: {}", c.name, c.ty)).collect();
            n.sort_unstable();
            n
        }
        if sorted(&stream.schema) == sorted(&other.schema) {
            let order = stream
                .schema
                .iter()
                .map(|c| c.name.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            cx.cx.error(
                name.span(),
                format!(
                    "`{name}` has the same columns in another order: ({}) and ({}); a union is by position, as Spark's `union`",
                    show(&stream.schema),
                    show(&other.schema)
                ),
                format!("end the stream `{name}` with `.select({order})`, this side's order"),
            );
            return None;
        }
        cx.cx.error(
            name.span(),
            format!(
                "cannot union streams of different schemas: ({}) and ({})",
                show(&stream.schema),
                show(&other.schema)
            ),
            "select the same columns, with the same types, in the same order on both sides",
        );
        return None;
    }
    stream.branches.extend(other.branches);
    Some(stream)
}

/// The union's schema of two sides whose columns have the same names in the same order
/// and types that are equal or widen to one; `None` otherwise.
fn widened(a: &Schema, b: &Schema) -> Option<Schema> {
    if a.len() != b.len() {
        return None;
    }
    a.iter()
        .zip(b)
        .map(|(x, y)| {
            if x.name != y.name {
                return None;
            }
            let ty = if x.ty.ty == y.ty.ty {
                x.ty.ty
            } else {
                DslType::common(x.ty.ty, y.ty.ty)?
            };
            Some(Column {
                name: x.name.clone(),
                ty: ColType {
                    ty,
                    nullable: x.ty.nullable || y.ty.nullable,
                },
            })
        })
        .collect()
}

/// `stream` with the columns of `schema` (the same names, each of the same type or one
/// it widens to, nullable where `schema` says): unchanged if it has them, or else a
/// projection casting each column that differs.
fn conform(stream: StreamState, schema: &Schema, span: proc_macro2::Span) -> StreamState {
    if stream.schema == *schema {
        return stream;
    }
    // the watermarked column is still the event time when a cast widens it
    let event_time = stream.event_time.clone();
    let exprs = schema
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let mut e = super::column_ref(&stream.schema, i, span).cast_to(c.ty.ty);
            e.ty.nullable = c.ty.nullable;
            (c.name.clone(), e)
        })
        .collect();
    let mut stream = super::select::project(stream, exprs);
    stream.event_time = event_time;
    stream
}
