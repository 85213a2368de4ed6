//! Output modes: what a sink receives after each batch.

use std::fmt;

/// How the result table is written to the sink after each micro-batch, as in Spark.
///
/// ```
/// use stream_core::OutputMode;
/// assert_eq!(OutputMode::Append.to_string(), "append");
/// assert_eq!("complete".parse::<OutputMode>().unwrap(), OutputMode::Complete);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutputMode {
    /// Only rows added to the result table since the last trigger; a row is never changed
    /// once written.
    Append,
    /// Rows of the result table that changed in this trigger.
    Update,
    /// The whole result table after every trigger.
    Complete,
}

impl OutputMode {
    /// All modes, in the order used in messages.
    pub const ALL: [OutputMode; 3] = [OutputMode::Append, OutputMode::Update, OutputMode::Complete];

    /// The lowercase name, as Spark spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            OutputMode::Append => "append",
            OutputMode::Update => "update",
            OutputMode::Complete => "complete",
        }
    }
}

impl fmt::Display for OutputMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for OutputMode {
    type Err = crate::StreamError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        OutputMode::ALL
            .into_iter()
            .find(|m| m.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| crate::StreamError::InvalidOption {
                name: "output_mode".into(),
                message: format!(
                    "unknown output mode `{s}`; expected `append`, `update` or `complete`"
                ),
            })
    }
}
