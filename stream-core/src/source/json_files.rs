//! placeholder
/// placeholder
#[derive(Debug)]
pub struct JsonFileSource;
