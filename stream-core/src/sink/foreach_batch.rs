//! placeholder
/// placeholder
pub struct ForeachBatchSink;
