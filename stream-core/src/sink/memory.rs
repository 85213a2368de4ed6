//! placeholder
/// placeholder
#[derive(Debug, Clone)]
pub struct MemorySink;
/// placeholder
#[derive(Debug, Clone)]
pub struct MemoryTable;
