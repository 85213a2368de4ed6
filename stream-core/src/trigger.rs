//! Triggers: when the next micro-batch starts.

use std::time::Duration;

/// When micro-batches run, as Spark's `Trigger`.
///
/// **The progress bar.** A run that stops by itself ([`Trigger::Once`],
/// [`Trigger::AvailableNow`]) draws a progress bar on standard error when standard
/// error is a terminal (cargo feature `progress-bar`, on by default): done against
/// total, summed over the sources (files for a file source, from its
/// `numFilesOutstanding` metric; offsets for Kafka, from its offsets behind the latest,
/// and for sources with integer offsets), rows per second and the batch in progress; a
/// spinner with the rows when a source's backlog cannot be known. Nothing is drawn on a
/// pipe or a file. The environment variable `STREAM_PROGRESS=off` turns it off,
/// `STREAM_PROGRESS=on` draws it even without a terminal. The book's "Monitoring"
/// chapter shows it.
///
/// ```
/// use std::time::Duration;
/// use stream_core::Trigger;
/// let t = Trigger::ProcessingTime(Duration::from_secs(10));
/// assert_eq!(t.interval_ms(), 10_000);
/// assert!(!t.stops_when_caught_up());
/// assert!(Trigger::AvailableNow.stops_when_caught_up());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Trigger {
    /// The next batch starts as soon as the previous one ends (Spark's default).
    #[default]
    Default,
    /// Batches start on multiples of the interval; a batch that overruns its interval is
    /// followed at once by the next. No batch runs when there is no new data.
    ProcessingTime(Duration),
    /// One batch with everything available, then the query stops.
    Once,
    /// Everything available when the query starts, in as many batches as the sources'
    /// per-trigger limits need, then the query stops.
    AvailableNow,
}

impl Trigger {
    /// The interval in milliseconds (0 for every trigger but `ProcessingTime`).
    pub fn interval_ms(&self) -> i64 {
        match self {
            Trigger::ProcessingTime(d) => i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
            _ => 0,
        }
    }

    /// Whether the query ends by itself once it has processed what was available.
    pub fn stops_when_caught_up(&self) -> bool {
        matches!(self, Trigger::Once | Trigger::AvailableNow)
    }

    /// The name used in progress and status messages.
    pub fn name(&self) -> String {
        match self {
            Trigger::Default => "default".into(),
            Trigger::ProcessingTime(d) => format!("processing_time({} ms)", d.as_millis()),
            Trigger::Once => "once".into(),
            Trigger::AvailableNow => "available_now".into(),
        }
    }
}
