//! placeholder
/// placeholder
#[derive(Debug, Clone)]
pub struct MemoryStream;
