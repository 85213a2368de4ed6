//! `with_watermark(ts, "10 minutes")`: the event-time column of the stream and how late
//! its rows may arrive. The operator passes rows through; each task reports the event
//! times it saw, and the engine derives the next batch's watermark from them.

use crate::check::{Checker, EventTime, StreamState};
use crate::parse::OptionValue;
use crate::plan::TypedOp;
use crate::types::DslType;

pub(crate) fn check(
    cx: &mut Checker,
    mut stream: StreamState,
    column: &syn::Ident,
    delay: &OptionValue,
) -> Option<StreamState> {
    if let Some(stateful) = &stream.stateful {
        let (what, op) = if stateful.aggregation {
            ("an aggregation", "group_by")
        } else {
            ("`drop_duplicates`", stateful.op.as_str())
        };
        cx.cx.error(
            column.span(),
            format!("a watermark after {what}"),
            format!(
                "put `.with_watermark(..)` before `.{op}(..)`: the watermark decides which of its input is late"
            ),
        );
        return None;
    }
    let name = column.to_string();
    let index = match cx.column(column, &stream.schema)?.kind {
        crate::check::TKind::Column { index, .. } => index,
        _ => return None,
    };
    let ty = stream.schema[index].ty.ty;
    let unit_per_ms = match ty {
        DslType::TimestampMs => 1,
        DslType::TimestampUs => 1_000,
        other => {
            cx.cx.error(
                column.span(),
                format!(
                    "a watermark needs a timestamp column, and `{name}` is `{}`",
                    other.name()
                ),
                format!(
                    "convert it first: `.with_column({name}, to_timestamp({name}))`, then `.with_watermark({name}, \"10 minutes\")`"
                ),
            );
            return None;
        }
    };
    let delay_ms = match delay {
        OptionValue::Lit(syn::Lit::Str(text)) => {
            match super::settings::watermark_delay_ms(&text.value()) {
                Some(ms) => ms,
                None => {
                    cx.cx.error(
                        text.span(),
                        super::options::unreadable_interval("the delay", &text.value()),
                        "write a number and a unit: \"30 seconds\", \"10 minutes\", \"1 hour\"",
                    );
                    return None;
                }
            }
        }
        OptionValue::Capture(_) => {
            super::compile_time::watermark_delay(cx, column, delay);
            return None;
        }
        other => {
            cx.cx.error(
                other.span(),
                "`with_watermark` takes the delay as a string",
                format!("write `with_watermark({name}, \"10 minutes\")`"),
            );
            return None;
        }
    };
    let id = cx.next_watermark_id();
    stream.event_time = Some(EventTime {
        column: name,
        delay_ms,
    });
    let schema = stream.schema.clone();
    Some(super::push(
        stream,
        TypedOp::Watermark {
            column: index,
            delay_ms,
            unit_per_ms,
            id,
        },
        schema,
    ))
}
