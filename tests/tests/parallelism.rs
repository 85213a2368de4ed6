//! Results do not depend on how many partitions a batch is split into: a stateless
//! pipeline keeps rows and their order, and a two-stage pipeline with an exchange gives
//! the same rows for any task and shuffle-partition count.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow_array::{Int64Array, RecordBatch, StringArray, UInt32Array};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use stream_core::{
    InputChunk, MapPipeline, MemorySink, MemoryStream, Pipeline, PipelineInfo, StreamingQuery,
    StreamingQueryManager, TaskContext, TaskOutput, Trigger,
};
use tests::{batch_rows, rows_of, runtime};

fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("user", DataType::Utf8, false),
        Field::new("n", DataType::Int64, false),
    ]))
}

fn counts_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("user", DataType::Utf8, false),
        Field::new("count", DataType::Int64, false),
    ]))
}

/// 3 micro-batches of 20 000 rows each, users spread over 97 keys.
fn input() -> MemoryStream {
    let stream = MemoryStream::new(schema());
    for b in 0..3i64 {
        let n: Vec<i64> = (b * 20_000..(b + 1) * 20_000).collect();
        let users: Vec<String> = n
            .iter()
            .map(|i| format!("user_{}", (i * 7 + b) % 97))
            .collect();
        let batch = RecordBatch::try_new(
            schema(),
            vec![
                Arc::new(StringArray::from(users)),
                Arc::new(Int64Array::from(n)),
            ],
        )
        .unwrap();
        stream.add_batch(batch).unwrap();
    }
    stream
}

fn run(
    pipeline: impl Pipeline,
    parallelism: usize,
    shuffle: usize,
    table: &str,
) -> Vec<RecordBatch> {
    let checkpoint = tempfile::tempdir().unwrap();
    let sink = MemorySink::new(table);
    let query = StreamingQuery::builder()
        .manager(&StreamingQueryManager::new())
        .source(input())
        .pipeline(pipeline)
        .sink(sink.clone())
        .trigger(Trigger::Once)
        .parallelism(parallelism)
        .shuffle_partitions(shuffle)
        .checkpoint_location(checkpoint.path())
        .start()
        .unwrap();
    runtime().block_on(query.await_termination()).unwrap();
    sink.table().batches()
}

#[test]
fn stateless_output_is_identical_for_any_parallelism() {
    let doubled = || {
        MapPipeline::new("doubled", schema(), schema(), |batch| {
            let n = batch
                .column(1)
                .as_any()
                .downcast_ref::<Int64Array>()
                .unwrap();
            let twice: Int64Array = n.iter().map(|v| v.map(|v| v * 2)).collect();
            Ok(RecordBatch::try_new(
                batch.schema(),
                vec![batch.column(0).clone(), Arc::new(twice)],
            )?)
        })
    };
    let reference: Vec<String> = run(doubled(), 1, 8, "parallel_stateless_1")
        .iter()
        .flat_map(batch_rows)
        .collect();
    assert_eq!(reference.len(), 60_000);
    for parallelism in [2, 3, 8] {
        let rows: Vec<String> = run(
            doubled(),
            parallelism,
            8,
            &format!("parallel_stateless_{parallelism}"),
        )
        .iter()
        .flat_map(batch_rows)
        .collect();
        assert_eq!(
            rows, reference,
            "same rows in the same order with {parallelism} tasks"
        );
    }
}

/// Counts rows per user within one micro-batch: stage 0 routes rows by a hash of `user`,
/// stage 1 counts each shuffle partition's users.
struct CountPerUser;

fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf29ce484222325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100000001b3)
    })
}

impl Pipeline for CountPerUser {
    fn info(&self) -> PipelineInfo {
        PipelineInfo {
            name: "count_per_user".into(),
            input_schemas: vec![schema()],
            output_schema: counts_schema(),
            stages: 2,
            fingerprint: "count_per_user-v1".into(),
            stateful: false,
            watermark_policy: Default::default(),
            watermark_operators: Vec::new(),
        }
    }

    fn run_task(
        &self,
        ctx: &TaskContext,
        input: Vec<InputChunk>,
    ) -> stream_core::Result<TaskOutput> {
        if ctx.stage == 0 {
            let mut buckets: Vec<Vec<InputChunk>> =
                (0..ctx.shuffle_partitions).map(|_| Vec::new()).collect();
            for chunk in input {
                let users = chunk
                    .batch
                    .column(0)
                    .as_any()
                    .downcast_ref::<StringArray>()
                    .unwrap();
                let mut rows: Vec<Vec<u32>> = vec![Vec::new(); ctx.shuffle_partitions];
                for (i, user) in users.iter().enumerate() {
                    rows[(fnv(user.unwrap()) % ctx.shuffle_partitions as u64) as usize]
                        .push(i as u32);
                }
                for (p, indices) in rows.into_iter().enumerate() {
                    let taken = arrow_select::take::take_record_batch(
                        &chunk.batch,
                        &UInt32Array::from(indices),
                    )?;
                    buckets[p].push(InputChunk {
                        input: 0,
                        batch: taken,
                    });
                }
            }
            return Ok(TaskOutput::Exchange(buckets));
        }
        let mut counts: BTreeMap<String, i64> = BTreeMap::new();
        for chunk in &input {
            let users = chunk
                .batch
                .column(0)
                .as_any()
                .downcast_ref::<StringArray>()
                .unwrap();
            for user in users.iter().flatten() {
                *counts.entry(user.to_string()).or_default() += 1;
            }
        }
        let users: StringArray = counts.keys().map(|k| Some(k.as_str())).collect();
        let n: Int64Array = counts.values().map(|v| Some(*v)).collect();
        Ok(TaskOutput::Rows(vec![RecordBatch::try_new(
            counts_schema(),
            vec![Arc::new(users), Arc::new(n)],
        )?]))
    }
}

#[test]
fn exchange_output_is_the_same_rows_for_any_partition_counts() {
    // Expected, computed directly: `Trigger::Once` takes all three pushes in one
    // micro-batch, so rows per user over all of them.
    let mut counts: BTreeMap<String, i64> = BTreeMap::new();
    for b in 0..3i64 {
        for i in b * 20_000..(b + 1) * 20_000 {
            *counts
                .entry(format!("user_{}", (i * 7 + b) % 97))
                .or_default() += 1;
        }
    }
    let mut expected: Vec<String> = counts
        .into_iter()
        .map(|(u, c)| format!(r#"{{"count":{c},"user":"{u}"}}"#))
        .collect();
    expected.sort();
    for (parallelism, shuffle) in [(1, 1), (2, 4), (4, 8), (3, 5)] {
        let table = format!("parallel_exchange_{parallelism}_{shuffle}");
        let rows = rows_of(&run(CountPerUser, parallelism, shuffle, &table));
        assert_eq!(
            rows, expected,
            "{parallelism} tasks, {shuffle} shuffle partitions"
        );
    }
}
