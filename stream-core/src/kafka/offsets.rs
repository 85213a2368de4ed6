//! Kafka offsets as the offset log keeps them: Spark's `KafkaSourceOffset` JSON,
//! `{"topic":{"0":23,"1":7}}`, the next offset to read of each partition.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{Offset, Result, StreamError};

/// A topic and a partition of it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TopicPartition {
    /// The topic's name.
    pub topic: String,
    /// The partition's number.
    pub partition: i32,
}

impl TopicPartition {
    /// A topic-partition.
    ///
    /// ```
    /// let tp = stream_core::kafka::TopicPartition::new("events", 2);
    /// assert_eq!(tp.to_string(), "events-2");
    /// ```
    pub fn new(topic: impl Into<String>, partition: i32) -> Self {
        TopicPartition {
            topic: topic.into(),
            partition,
        }
    }
}

impl std::fmt::Display for TopicPartition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.topic, self.partition)
    }
}

/// Spark's stand-ins in a starting-offsets JSON: `-2` the earliest offset, `-1` the
/// latest.
pub(crate) const EARLIEST: i64 = -2;
/// See [`EARLIEST`].
pub(crate) const LATEST: i64 = -1;

/// The next offset to read of each partition, in Spark's JSON shape.
///
/// ```
/// use stream_core::kafka::{PartitionOffsets, TopicPartition};
/// let offsets = PartitionOffsets::parse(r#"{"events":{"0":23,"1":7}}"#).unwrap();
/// assert_eq!(offsets.get(&TopicPartition::new("events", 1)), Some(7));
/// assert_eq!(offsets.json(), r#"{"events":{"0":23,"1":7}}"#);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PartitionOffsets(BTreeMap<String, BTreeMap<i32, i64>>);

impl PartitionOffsets {
    /// Parses Spark's JSON shape; the error says what shape was expected.
    pub fn parse(json: &str) -> Result<Self> {
        serde_json::from_str(json).map_err(|e| StreamError::InvalidOption {
            name: "starting_offsets".into(),
            message: format!(
                "`{json}` is not a JSON object of topics to partitions to offsets, \
                 like {{\"events\":{{\"0\":23,\"1\":-2}}}}: {e}"
            ),
        })
    }

    /// The offset of a partition.
    pub fn get(&self, tp: &TopicPartition) -> Option<i64> {
        self.0.get(&tp.topic)?.get(&tp.partition).copied()
    }

    /// Sets the offset of a partition.
    pub fn insert(&mut self, tp: &TopicPartition, offset: i64) {
        self.0
            .entry(tp.topic.clone())
            .or_default()
            .insert(tp.partition, offset);
    }

    /// Removes a partition (a topic with no partitions left goes too).
    pub fn remove(&mut self, tp: &TopicPartition) {
        if let Some(parts) = self.0.get_mut(&tp.topic) {
            parts.remove(&tp.partition);
            if parts.is_empty() {
                self.0.remove(&tp.topic);
            }
        }
    }

    /// Every partition and its offset, in topic then partition order.
    pub fn iter(&self) -> impl Iterator<Item = (TopicPartition, i64)> + '_ {
        self.0.iter().flat_map(|(topic, parts)| {
            parts
                .iter()
                .map(move |(p, o)| (TopicPartition::new(topic.clone(), *p), *o))
        })
    }

    /// The partitions.
    pub fn partitions(&self) -> Vec<TopicPartition> {
        self.iter().map(|(tp, _)| tp).collect()
    }

    /// The number of partitions.
    pub fn len(&self) -> usize {
        self.0.values().map(BTreeMap::len).sum()
    }

    /// Whether no partition is in it.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The compact JSON text.
    pub fn json(&self) -> String {
        serde_json::to_string(&self.0).unwrap_or_default()
    }

    pub(crate) fn to_offset(&self) -> Result<Offset> {
        Offset::from_value(self)
    }

    pub(crate) fn from_offset(offset: &Offset) -> Result<Self> {
        offset.to_value()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_the_offset_log_shape() {
        let mut o = PartitionOffsets::default();
        o.insert(&TopicPartition::new("b", 1), 5);
        o.insert(&TopicPartition::new("a", 0), 3);
        let back = PartitionOffsets::from_offset(&o.to_offset().unwrap()).unwrap();
        assert_eq!(back, o);
        assert_eq!(o.json(), r#"{"a":{"0":3},"b":{"1":5}}"#);
        assert_eq!(o.len(), 2);
        o.remove(&TopicPartition::new("a", 0));
        assert_eq!(o.json(), r#"{"b":{"1":5}}"#);
    }

    #[test]
    fn a_malformed_json_names_the_option() {
        let e = PartitionOffsets::parse(r#"{"a":[1]}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("starting_offsets"), "{e}");
    }
}
