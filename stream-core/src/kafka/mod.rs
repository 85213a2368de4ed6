//! Kafka: a replayable source and an at-least-once or exactly-once sink (cargo feature
//! `kafka`).
//!
//! The client is [rdkafka](https://docs.rs/rdkafka), over the librdkafka it vendors:
//! it is the client with an idempotent and transactional producer (which the
//! exactly-once sink needs), SASL and TLS. librdkafka settings pass through
//! [`KafkaSource::option`] and [`KafkaSink::option`], as Spark's `kafka.`-prefixed
//! options do.
//!
//! ```
//! use stream_core::kafka::KafkaSource;
//! let names: Vec<String> = KafkaSource::output_schema(None, true)
//!     .fields().iter().map(|f| f.name().clone()).collect();
//! assert_eq!(names.last().map(String::as_str), Some("headers"));
//! ```

mod client;
mod decode;
mod offsets;
mod rows;
mod sink;
mod source;

pub use decode::CORRUPT_RECORD;
pub use offsets::{PartitionOffsets, TopicPartition};
pub use rows::headers_type;
pub use sink::{BATCH_ID_HEADER, COMMIT_MARKER_TOPIC, KafkaSink};
pub use source::{KafkaSource, StartingOffsets, Subscription};
