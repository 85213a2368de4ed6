//! placeholder
/// placeholder
#[derive(Debug)]
pub struct RateSource;
