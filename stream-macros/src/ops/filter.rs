//! `filter(condition)` / `where_(condition)`: keep the rows where the condition is true
//! (null counts as false, as in SQL).

use crate::check::{Checker, StreamState};
use crate::parse::Expr;
use crate::plan::TypedOp;
use crate::types::DslType;

pub(crate) fn check(
    cx: &mut Checker,
    stream: StreamState,
    condition: &Expr,
    range: (proc_macro2::Span, proc_macro2::Span),
) -> Option<StreamState> {
    let pred = cx.check_expr(condition, &stream.schema, Some(DslType::Bool))?;
    if pred.ty.ty != DslType::Bool {
        cx.cx.error_range(
            range,
            format!("a filter needs a condition (bool), this is `{}`", pred.ty),
            "compare it: `amount > 0.0`, or test it: `name.is_not_null()`",
        );
        return None;
    }
    let schema = stream.schema.clone();
    Some(super::push(stream, TypedOp::Filter { pred }, schema))
}

/// The code of a filter: evaluate the condition, keep the rows where it is true.
pub(crate) fn emit(pred: &crate::check::TExpr) -> proc_macro2::TokenStream {
    let k = crate::codegen::expr::kernels();
    let pred = crate::codegen::expr::array(pred);
    quote::quote! {
        let __pred = #pred;
        #k::filter(&__batch, &__pred)?
    }
}
