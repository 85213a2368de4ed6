//! One file per operator: what it takes, its type rule, and (for the operators that run
//! on batches) its code.

pub(crate) mod aggregate;
pub(crate) mod compile_time;
pub(crate) mod dedup;
pub(crate) mod drop;
pub(crate) mod file_sink;
pub(crate) mod file_source;
pub(crate) mod filter;
pub(crate) mod join;
pub(crate) mod kafka;
pub(crate) mod limit;
pub(crate) mod map;
pub(crate) mod options;
pub(crate) mod rename;
pub(crate) mod select;
pub(crate) mod session_window;
pub(crate) mod settings;
pub(crate) mod sink;
pub(crate) mod sort;
pub(crate) mod source;
pub(crate) mod stream_join;
pub(crate) mod union;
pub(crate) mod watermark;
pub(crate) mod with_column;

use crate::check::{StreamState, TExpr, TKind};
use crate::plan::{Column, Schema, TypedOp};

/// Appends `op` to every branch of `stream` and gives it `schema`.
pub(crate) fn push(mut stream: StreamState, op: TypedOp, schema: Schema) -> StreamState {
    for branch in &mut stream.branches {
        branch.ops.push(op.clone());
    }
    stream.schema = schema;
    stream
}

/// A reference to column `index` of `schema`, as a typed expression.
pub(crate) fn column_ref(schema: &Schema, index: usize, span: proc_macro2::Span) -> TExpr {
    let Column { name, ty } = schema[index].clone();
    TExpr {
        kind: TKind::Column { index, name },
        ty,
        constant: false,
        span,
    }
}
