//! placeholder
/// placeholder
#[derive(Debug)]
pub struct ConsoleSink;
