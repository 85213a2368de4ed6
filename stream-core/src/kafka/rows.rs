//! Kafka records into Arrow columns.

use arrow_array::builder::{
    BinaryBuilder, Int32Builder, Int64Builder, ListBuilder, StringBuilder, StructBuilder,
    TimestampMicrosecondBuilder,
};
use arrow_array::{Array, ArrayRef, BooleanArray};
use arrow_schema::{DataType, Field, TimeUnit};
use rdkafka::Message;
use rdkafka::message::{BorrowedMessage, Headers};

use std::sync::Arc;

use crate::Result;

use crate::types::kafka_header_fields as header_fields;
pub use crate::types::kafka_headers_type as headers_type;

/// The columns after `key` and `value`.
pub(crate) fn metadata_fields(include_headers: bool) -> Vec<Field> {
    let mut fields = vec![
        Field::new("topic", DataType::Utf8, false),
        Field::new("partition", DataType::Int32, false),
        Field::new("offset", DataType::Int64, false),
        Field::new(
            "timestamp",
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            false,
        ),
        Field::new("timestamp_type", DataType::Int32, false),
    ];
    if include_headers {
        fields.push(Field::new("headers", headers_type(), true));
    }
    fields
}

/// Builds the columns of one range's records.
pub(crate) struct RowsBuilder {
    key: BinaryBuilder,
    value: BinaryBuilder,
    topic: StringBuilder,
    partition: Int32Builder,
    offset: Int64Builder,
    timestamp: TimestampMicrosecondBuilder,
    timestamp_type: Int32Builder,
    headers: Option<ListBuilder<StructBuilder>>,
    len: usize,
}

/// The metadata columns of a range, in [`metadata_fields`] order.
pub(crate) struct Meta {
    pub(crate) columns: Vec<ArrayRef>,
}

impl Meta {
    /// Topic, partition and offset of row `i`, for errors.
    pub(crate) fn position(&self, i: usize) -> (String, i32, i64) {
        use arrow_array::cast::AsArray;
        let topic = self.columns[0].as_string::<i32>().value(i).to_string();
        let partition = self.columns[1]
            .as_primitive::<arrow_array::types::Int32Type>()
            .value(i);
        let offset = self.columns[2]
            .as_primitive::<arrow_array::types::Int64Type>()
            .value(i);
        (topic, partition, offset)
    }

    pub(crate) fn filter(self, keep: &BooleanArray) -> Result<Meta> {
        let columns = self
            .columns
            .iter()
            .map(|c| arrow_select::filter::filter(c, keep))
            .collect::<std::result::Result<_, _>>()?;
        Ok(Meta { columns })
    }
}

impl RowsBuilder {
    pub(crate) fn new(include_headers: bool, capacity: usize) -> Self {
        let capacity = capacity.min(1 << 20);
        RowsBuilder {
            key: BinaryBuilder::with_capacity(capacity, 0),
            value: BinaryBuilder::with_capacity(capacity, capacity * 64),
            topic: StringBuilder::with_capacity(capacity, 0),
            partition: Int32Builder::with_capacity(capacity),
            offset: Int64Builder::with_capacity(capacity),
            timestamp: TimestampMicrosecondBuilder::with_capacity(capacity).with_timezone("UTC"),
            timestamp_type: Int32Builder::with_capacity(capacity),
            headers: include_headers
                .then(|| ListBuilder::new(StructBuilder::from_fields(header_fields(), 0))),
            len: 0,
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub(crate) fn push(&mut self, m: &BorrowedMessage<'_>) {
        self.key.append_option(m.key());
        self.value.append_option(m.payload());
        self.topic.append_value(m.topic());
        self.partition.append_value(m.partition());
        self.offset.append_value(m.offset());
        let (ms, kind) = match m.timestamp() {
            rdkafka::Timestamp::NotAvailable => (-1, -1),
            rdkafka::Timestamp::CreateTime(ms) => (ms, 0),
            rdkafka::Timestamp::LogAppendTime(ms) => (ms, 1),
        };
        self.timestamp.append_value(ms.saturating_mul(1000));
        self.timestamp_type.append_value(kind);
        if let Some(list) = &mut self.headers {
            if let Some(headers) = m.headers() {
                for h in headers.iter() {
                    let s = list.values();
                    s.field_builder::<StringBuilder>(0)
                        .expect("key builder")
                        .append_value(h.key);
                    s.field_builder::<BinaryBuilder>(1)
                        .expect("value builder")
                        .append_option(h.value);
                    s.append(true);
                }
            }
            list.append(true);
        }
        self.len += 1;
    }

    /// `key`, `value` and the metadata columns.
    pub(crate) fn finish(mut self) -> (ArrayRef, ArrayRef, Meta) {
        let key: ArrayRef = Arc::new(self.key.finish());
        let value: ArrayRef = Arc::new(self.value.finish());
        let topic: ArrayRef = Arc::new(self.topic.finish());
        let mut columns: Vec<ArrayRef> = vec![
            topic,
            Arc::new(self.partition.finish()),
            Arc::new(self.offset.finish()),
            Arc::new(self.timestamp.finish()),
            Arc::new(self.timestamp_type.finish()),
        ];
        if let Some(mut h) = self.headers {
            columns.push(Arc::new(h.finish()));
        }
        debug_assert!(columns.iter().all(|c| c.len() == key.len()));
        (key, value, Meta { columns })
    }
}
