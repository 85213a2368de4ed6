//! Runs a pipeline's stages over one micro-batch's input on all cores.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use arrow_array::RecordBatch;
use rayon::prelude::*;

use crate::metrics::BatchMetrics;
use crate::pipeline::{InputChunk, Pipeline, PipelineInfo, StateContext, TaskContext, TaskOutput};
use crate::{Result, StreamError};

/// Below this many rows a source's input is not split further: a task has a fixed cost.
const MIN_ROWS_PER_PARTITION: usize = 4096;

/// Batch-wide facts every task gets.
#[derive(Clone, Debug)]
pub(crate) struct BatchFacts {
    pub(crate) batch_id: u64,
    pub(crate) parallelism: usize,
    pub(crate) shuffle_partitions: usize,
    pub(crate) watermark_ms: i64,
    pub(crate) late_watermark_ms: i64,
    pub(crate) batch_timestamp_ms: i64,
    pub(crate) metrics: Arc<BatchMetrics>,
    pub(crate) state: Arc<StateContext>,
}

/// Splits each source's rows into at most `parallelism` contiguous ranges, one task per
/// range, sources in order. Always at least one task, so a stage runs even without rows.
pub(crate) fn partition_input(
    inputs: Vec<Vec<RecordBatch>>,
    parallelism: usize,
) -> Vec<Vec<InputChunk>> {
    let mut tasks = Vec::new();
    for (input, batches) in inputs.into_iter().enumerate() {
        let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
        if rows == 0 {
            continue;
        }
        let parts = rows
            .div_ceil(MIN_ROWS_PER_PARTITION)
            .clamp(1, parallelism.max(1));
        let bounds: Vec<usize> = (0..=parts).map(|p| p * rows / parts).collect();
        let mut current: Vec<InputChunk> = Vec::new();
        let mut part = 0;
        let mut row = 0; // global row index of the start of `batch`
        for batch in batches {
            let mut offset = 0;
            while offset < batch.num_rows() {
                let end_of_part = bounds[part + 1];
                let take = (batch.num_rows() - offset).min(end_of_part - (row + offset));
                current.push(InputChunk {
                    input,
                    batch: batch.slice(offset, take),
                });
                offset += take;
                if row + offset == end_of_part {
                    tasks.push(std::mem::take(&mut current));
                    part += 1;
                }
            }
            row += batch.num_rows();
        }
    }
    if tasks.is_empty() {
        tasks.push(Vec::new());
    }
    tasks
}

/// Runs every stage of `pipeline`; returns the last stage's rows in task order.
pub(crate) fn execute(
    pipeline: &dyn Pipeline,
    info: &PipelineInfo,
    facts: &BatchFacts,
    inputs: Vec<Vec<RecordBatch>>,
) -> Result<Vec<RecordBatch>> {
    let mut tasks = partition_input(inputs, facts.parallelism);
    let stages = info.stages.max(1);
    for stage in 0..stages {
        let last = stage + 1 == stages;
        let num_partitions = tasks.len();
        let outputs: Vec<Result<TaskOutput>> = tasks
            .into_par_iter()
            .enumerate()
            .map(|(partition, chunks)| {
                let ctx = TaskContext {
                    batch_id: facts.batch_id,
                    stage,
                    partition,
                    num_partitions,
                    shuffle_partitions: facts.shuffle_partitions,
                    watermark_ms: facts.watermark_ms,
                    late_watermark_ms: facts.late_watermark_ms,
                    batch_timestamp_ms: facts.batch_timestamp_ms,
                    metrics: facts.metrics.clone(),
                    state: facts.state.clone(),
                };
                run_task(pipeline, &ctx, chunks)
            })
            .collect();
        if last {
            let mut rows = Vec::new();
            for out in outputs {
                match out? {
                    TaskOutput::Rows(batches) => {
                        rows.extend(batches.into_iter().filter(|b| b.num_rows() > 0))
                    }
                    TaskOutput::Exchange(_) => {
                        return Err(stage_error(
                            info,
                            stage,
                            "returned an exchange from its last stage",
                        ));
                    }
                }
            }
            return Ok(rows);
        }
        tasks = exchange(info, stage, facts.shuffle_partitions, outputs)?;
    }
    Ok(Vec::new())
}

fn run_task(
    pipeline: &dyn Pipeline,
    ctx: &TaskContext,
    chunks: Vec<InputChunk>,
) -> Result<TaskOutput> {
    catch_unwind(AssertUnwindSafe(|| pipeline.run_task(ctx, chunks))).unwrap_or_else(|payload| {
        Err(StreamError::TaskPanicked {
            batch_id: ctx.batch_id,
            message: panic_message(&*payload),
        })
    })
}

/// The text of a panic's payload, if it was a string.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a non-string panic".into())
}

/// Gathers bucket `p` of every task, in task order, into task `p` of the next stage.
fn exchange(
    info: &PipelineInfo,
    stage: usize,
    partitions: usize,
    outputs: Vec<Result<TaskOutput>>,
) -> Result<Vec<Vec<InputChunk>>> {
    let mut next: Vec<Vec<InputChunk>> = (0..partitions).map(|_| Vec::new()).collect();
    for out in outputs {
        match out? {
            TaskOutput::Exchange(buckets) if buckets.len() == partitions => {
                for (p, chunks) in buckets.into_iter().enumerate() {
                    next[p].extend(chunks.into_iter().filter(|c| c.batch.num_rows() > 0));
                }
            }
            TaskOutput::Exchange(buckets) => {
                return Err(stage_error(
                    info,
                    stage,
                    &format!(
                        "returned {} exchange buckets, expected {partitions}",
                        buckets.len()
                    ),
                ));
            }
            TaskOutput::Rows(_) => {
                return Err(stage_error(
                    info,
                    stage,
                    "returned rows from a stage that is not the last",
                ));
            }
        }
    }
    Ok(next)
}

fn stage_error(info: &PipelineInfo, stage: usize, what: &str) -> StreamError {
    StreamError::InvalidQuery(format!("pipeline `{}` stage {stage} {what}", info.name))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::Int64Array;
    use arrow_schema::{DataType, Field, Schema};

    use super::*;

    fn batch(values: std::ops::Range<i64>) -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![Field::new("v", DataType::Int64, false)]));
        RecordBatch::try_new(schema, vec![Arc::new(Int64Array::from_iter_values(values))]).unwrap()
    }

    fn values(tasks: &[Vec<InputChunk>]) -> Vec<Vec<i64>> {
        tasks
            .iter()
            .map(|t| {
                t.iter()
                    .flat_map(|c| {
                        let a = c
                            .batch
                            .column(0)
                            .as_any()
                            .downcast_ref::<Int64Array>()
                            .unwrap();
                        a.values().to_vec()
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn partitions_are_contiguous_ranges_that_cover_every_row_once() {
        let n = (MIN_ROWS_PER_PARTITION * 3 + 17) as i64;
        let input = vec![batch(0..1000), batch(1000..n)];
        for parallelism in 1..6 {
            let tasks = partition_input(vec![input.clone()], parallelism);
            assert_eq!(tasks.len(), parallelism.min(4));
            let flat: Vec<i64> = values(&tasks).concat();
            assert_eq!(flat, (0..n).collect::<Vec<_>>());
        }
    }

    #[test]
    fn empty_input_still_gets_one_task() {
        let tasks = partition_input(vec![vec![], vec![batch(0..0)]], 4);
        assert_eq!(tasks.len(), 1);
        assert!(tasks[0].is_empty());
    }

    #[test]
    fn each_source_gets_its_own_tasks() {
        let tasks = partition_input(vec![vec![batch(0..3)], vec![batch(10..12)]], 8);
        assert_eq!(values(&tasks), vec![vec![0, 1, 2], vec![10, 11]]);
        assert_eq!(tasks[1][0].input, 1);
    }
}
