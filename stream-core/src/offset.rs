//! Source offsets: positions in a source that the offset log records.

use serde::{Serialize, de::DeserializeOwned};

use crate::{Result, StreamError};

/// A position in a source, kept as JSON in `offsets/N` (as Spark keeps them).
///
/// Each source decides what its offset holds; the engine only stores, compares and
/// hands them back.
///
/// ```
/// use stream_core::Offset;
/// #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
/// struct LogOffset { #[serde(rename = "logOffset")] log_offset: u64 }
/// let o = Offset::from_value(&LogOffset { log_offset: 3 }).unwrap();
/// assert_eq!(o.json(), r#"{"logOffset":3}"#);
/// assert_eq!(o.to_value::<LogOffset>().unwrap(), LogOffset { log_offset: 3 });
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct Offset(serde_json::Value);

impl Offset {
    /// Serialises a source's own offset type.
    pub fn from_value<T: Serialize>(value: &T) -> Result<Self> {
        serde_json::to_value(value)
            .map(Offset)
            .map_err(|e| StreamError::InvalidQuery(format!("offset cannot be serialised: {e}")))
    }

    /// Parses the compact JSON text written in the offset log.
    pub fn parse_json(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text).map(Offset)
    }

    /// Reads the offset back as the source's own type.
    pub fn to_value<T: DeserializeOwned>(&self) -> Result<T> {
        serde_json::from_value(self.0.clone()).map_err(|e| StreamError::Source {
            source_name: "offset".into(),
            message: format!("offset {} is not of the expected shape: {e}", self.0),
        })
    }

    /// The compact JSON text.
    pub fn json(&self) -> String {
        self.0.to_string()
    }

    /// The JSON value.
    pub fn as_json(&self) -> &serde_json::Value {
        &self.0
    }
}

impl std::fmt::Display for Offset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}
