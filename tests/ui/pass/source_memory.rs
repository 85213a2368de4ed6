// Source `memory`: a `MemoryStream` captured from the caller.
use std::sync::Arc;

use arrow_schema::{DataType, Field, Schema};
use stream_core::{MemoryStream, stream};

fn main() {
    let input = MemoryStream::new(Arc::new(Schema::new(vec![
        Field::new("user", DataType::Utf8, false),
        Field::new("amount", DataType::Float64, true),
    ])));
    let _query: stream_core::QueryBuilder<_> = stream! {
        schema Order { user: string, amount: Option<f64> }
        read(memory, stream = {input}, schema = Order)
            .write(console)
    };
}
