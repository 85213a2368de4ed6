//! The interface a compiled pipeline implements: the code `stream!` generates.
//!
//! A pipeline runs as one or more *stages*. Stage 0 gets the batch's input split into
//! partitions (contiguous row ranges of each source) and runs one task per partition on
//! all cores. A stage that is not the last returns an [`TaskOutput::Exchange`]: its rows
//! routed to `shuffle_partitions` buckets (by a hash of a key, as Spark's shuffle does);
//! task `p` of the next stage gets bucket `p` of every task of this one, in task order.
//! Stateful operators keep their state per shuffle partition, so the number of shuffle
//! partitions is fixed by the checkpoint. The last stage returns [`TaskOutput::Rows`];
//! the sink gets them in task order.
//!
//! A stateless pipeline is a single stage, and because partitions are contiguous ranges
//! concatenated in order, its output is the same rows in the same order for any number of
//! partitions.

use std::path::PathBuf;
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;

use crate::Result;
use crate::metrics::{BatchMetrics, WatermarkPolicy};

/// Static facts about a pipeline, fixed when it is compiled.
#[derive(Clone, Debug)]
pub struct PipelineInfo {
    /// A name for logs and the checkpoint's plan record.
    pub name: String,
    /// The schema each source must have, one per source, in the order of the query's
    /// sources.
    pub input_schemas: Vec<SchemaRef>,
    /// The schema of the rows the pipeline emits.
    pub output_schema: SchemaRef,
    /// The number of stages (1 for a stateless pipeline).
    pub stages: usize,
    /// A fingerprint of the plan; a checkpoint written by a pipeline with another
    /// fingerprint is refused. Generated code puts a hash of its plan here.
    pub fingerprint: String,
    /// Whether the pipeline keeps state across batches (aggregations, deduplication).
    /// The engine runs a batch without input for a stateful pipeline when the watermark
    /// has moved, so that windows close and state is evicted.
    pub stateful: bool,
    /// How the watermark is chosen when the pipeline has several watermark operators.
    pub watermark_policy: WatermarkPolicy,
    /// The ids of the pipeline's watermark operators, as its tasks report event times
    /// ([`BatchMetrics::observe_event_times`]). Under the min policy, one that has seen
    /// no row yet holds the query's watermark where it is, as in Spark: a join or union
    /// does not drop the rows of an input that has not started yet as late.
    pub watermark_operators: Vec<usize>,
}

/// A slice of input for one task, tagged with where it comes from.
#[derive(Clone, Debug)]
pub struct InputChunk {
    /// In stage 0, the index of the source. In later stages, the tag the previous stage
    /// gave it (for example the side of a join).
    pub input: usize,
    /// The rows.
    pub batch: RecordBatch,
}

/// What one task of a stage returns.
#[derive(Debug)]
pub enum TaskOutput {
    /// Final rows (last stage only).
    Rows(Vec<RecordBatch>),
    /// Rows for the next stage, one bucket per shuffle partition.
    Exchange(Vec<Vec<InputChunk>>),
}

/// Facts a task gets about the batch and its place in it.
#[derive(Clone, Debug)]
pub struct TaskContext {
    /// The micro-batch id.
    pub batch_id: u64,
    /// The stage this task belongs to.
    pub stage: usize,
    /// This task's index within the stage.
    pub partition: usize,
    /// The number of tasks in this stage.
    pub num_partitions: usize,
    /// The number of shuffle partitions an [`TaskOutput::Exchange`] must have.
    pub shuffle_partitions: usize,
    /// The event-time watermark in effect for this batch (ms since the epoch): what
    /// stateful operators emit and evict by (Spark's watermark for eviction).
    pub watermark_ms: i64,
    /// The watermark input rows are dropped as late against: the previous batch's
    /// (Spark's watermark for late events).
    pub late_watermark_ms: i64,
    /// Where the task reports event times and state figures.
    pub metrics: Arc<BatchMetrics>,
    /// Where stateful operators keep their state.
    pub state: Arc<StateContext>,
    /// The batch's timestamp (ms), which `current_timestamp()` returns for the whole batch.
    pub batch_timestamp_ms: i64,
}

/// Where and how stateful operators keep their state: one store per operator and
/// shuffle partition under the checkpoint's `state` folder.
#[derive(Clone, Debug)]
pub struct StateContext {
    /// The checkpoint folder.
    pub dir: PathBuf,
    /// How many versions of each store stay recoverable (the query's
    /// `min_batches_to_retain`).
    pub min_versions_to_retain: u64,
    /// The query's `state_store`.
    pub store: crate::state::StateStoreKind,
    /// The query's `state_memory`, in bytes.
    pub memory_bytes: u64,
    /// The query's shuffle partitions (the stores of an operator).
    pub partitions: u64,
}

impl StateContext {
    /// The settings every state store of the query opens with.
    pub(crate) fn store_conf(&self) -> crate::state::StateStoreConf {
        crate::state::StateStoreConf {
            min_versions_to_retain: self.min_versions_to_retain,
            kind: self.store,
            memory_bytes: self.memory_bytes,
            stores_sharing_memory: self.partitions,
            ..Default::default()
        }
    }
}

/// A compiled pipeline. Tasks of one stage run in parallel, so `run_task` takes `&self`.
///
/// ```
/// use std::sync::Arc;
/// use arrow_array::RecordBatch;
/// use arrow_schema::{DataType, Field, Schema};
/// use stream_core::{InputChunk, Pipeline, PipelineInfo, Result, TaskContext, TaskOutput};
///
/// /// Passes rows through unchanged.
/// struct Identity(PipelineInfo);
///
/// impl Pipeline for Identity {
///     fn info(&self) -> PipelineInfo { self.0.clone() }
///     fn run_task(&self, _ctx: &TaskContext, input: Vec<InputChunk>) -> Result<TaskOutput> {
///         Ok(TaskOutput::Rows(input.into_iter().map(|c| c.batch).collect()))
///     }
/// }
///
/// let schema = Arc::new(Schema::new(vec![Field::new("v", DataType::Int64, false)]));
/// let p = Identity(PipelineInfo {
///     name: "identity".into(),
///     input_schemas: vec![schema.clone()],
///     output_schema: schema,
///     stages: 1,
///     fingerprint: "identity-v1".into(),
///     stateful: false,
///     watermark_policy: Default::default(),
///     watermark_operators: Vec::new(),
/// });
/// assert_eq!(p.info().stages, 1);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a streaming pipeline",
    note = "write the pipeline in a `stream!` block, or implement `stream_core::Pipeline` by hand"
)]
pub trait Pipeline: Send + Sync + 'static {
    /// Static facts about the pipeline.
    fn info(&self) -> PipelineInfo;

    /// Runs one task of one stage.
    fn run_task(&self, ctx: &TaskContext, input: Vec<InputChunk>) -> Result<TaskOutput>;

    /// Checks the state the checkpoint folder `checkpoint` holds for the pipeline's
    /// stateful operators against their key and value types, as each state store does
    /// when it opens: the engine calls it when the query starts, before it writes
    /// anything, so that state written with other columns stops the query there
    /// ([`crate::StreamError::StateSchemaMismatch`]). Generated pipelines check each of
    /// their operators; the default, for a pipeline without state, checks nothing.
    fn check_state(&self, checkpoint: &std::path::Path) -> Result<()> {
        let _ = checkpoint;
        Ok(())
    }

    /// A text of the compiled plan, for people: the live page shows it, and
    /// [`crate::StreamingQuery::explain`] returns it, a tree in the manner of Spark's
    /// `explain()` under a `== Compiled plan ==` line. `stream!` pipelines give their
    /// operators, from the sink down to the sources, with their expressions as the block
    /// writes them (the book's "Monitoring" chapter shows one); the default gives what
    /// [`Pipeline::info`] knows: the name, the stages, the output columns, then each
    /// input's.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arrow_schema::{DataType, Field, Schema};
    /// use stream_core::{MapPipeline, Pipeline};
    ///
    /// let schema = Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, false)]));
    /// assert_eq!(
    ///     MapPipeline::identity(schema).explain(),
    ///     "== Compiled plan ==\n\
    ///      Pipeline `identity`, 1 stage (n: Int64 not null)\n\
    ///      +- Source 0 (n: Int64 not null)"
    /// );
    /// ```
    fn explain(&self) -> String {
        let info = self.info();
        let columns = |schema: &SchemaRef| {
            let cols: Vec<String> = schema
                .fields()
                .iter()
                .map(|f| {
                    let null = if f.is_nullable() { "" } else { " not null" };
                    format!("{}: {}{null}", f.name(), f.data_type())
                })
                .collect();
            format!("({})", cols.join(", "))
        };
        let mut text = format!(
            "== Compiled plan ==\nPipeline `{}`, {} stage{} {}",
            info.name,
            info.stages,
            if info.stages == 1 { "" } else { "s" },
            columns(&info.output_schema)
        );
        // Spark's marks: `:-` before an input that is not the last, `+-` before the last
        let last = info.input_schemas.len().saturating_sub(1);
        for (i, input) in info.input_schemas.iter().enumerate() {
            let mark = if i == last { "+-" } else { ":-" };
            text.push_str(&format!("\n{mark} Source {i} {}", columns(input)));
        }
        text
    }
}

/// Signature of the per-batch function of a [`MapPipeline`].
pub type MapFn = dyn Fn(&RecordBatch) -> Result<RecordBatch> + Send + Sync;

/// A one-stage pipeline from a function applied to every input slice: the hand-written
/// stand-in for what `stream!` generates for a stateless pipeline.
///
/// ```
/// use std::sync::Arc;
/// use arrow_array::{Array, Float64Array, RecordBatch};
/// use arrow_schema::{DataType, Field, Schema};
/// use stream_core::MapPipeline;
///
/// let schema = Arc::new(Schema::new(vec![Field::new("amount", DataType::Float64, false)]));
/// let big = MapPipeline::new("big_amounts", schema.clone(), schema.clone(), |batch| {
///     let amount = batch.column(0).as_any().downcast_ref::<Float64Array>().unwrap();
///     let keep = arrow_array::BooleanArray::from_iter(amount.iter().map(|a| a.map(|a| a > 50.0)));
///     Ok(arrow_select::filter::filter_record_batch(batch, &keep)?)
/// });
/// # let _ = big;
/// ```
pub struct MapPipeline {
    info: PipelineInfo,
    f: Box<MapFn>,
}

impl MapPipeline {
    /// A pipeline named `name` that maps each slice of the one source with `f`.
    pub fn new(
        name: impl Into<String>,
        input: SchemaRef,
        output: SchemaRef,
        f: impl Fn(&RecordBatch) -> Result<RecordBatch> + Send + Sync + 'static,
    ) -> Self {
        let name = name.into();
        MapPipeline {
            info: PipelineInfo {
                fingerprint: format!("map:{name}"),
                name,
                input_schemas: vec![input],
                output_schema: output,
                stages: 1,
                stateful: false,
                watermark_policy: WatermarkPolicy::Min,
                watermark_operators: Vec::new(),
            },
            f: Box::new(f),
        }
    }

    /// A pipeline that passes its input through unchanged.
    pub fn identity(schema: SchemaRef) -> Self {
        MapPipeline::new("identity", schema.clone(), schema, |b| Ok(b.clone()))
    }
}

impl std::fmt::Debug for MapPipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MapPipeline")
            .field("info", &self.info)
            .finish()
    }
}

impl Pipeline for MapPipeline {
    fn info(&self) -> PipelineInfo {
        self.info.clone()
    }

    fn run_task(&self, _ctx: &TaskContext, input: Vec<InputChunk>) -> Result<TaskOutput> {
        input
            .iter()
            .map(|chunk| (self.f)(&chunk.batch))
            .collect::<Result<Vec<_>>>()
            .map(TaskOutput::Rows)
    }
}

impl<P: Pipeline> Pipeline for Arc<P> {
    fn info(&self) -> PipelineInfo {
        (**self).info()
    }

    fn run_task(&self, ctx: &TaskContext, input: Vec<InputChunk>) -> Result<TaskOutput> {
        (**self).run_task(ctx, input)
    }

    fn explain(&self) -> String {
        (**self).explain()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_schema::{DataType, Field, Schema, TimeUnit};

    use super::*;

    /// A pipeline of two sources and two stages that keeps the default `explain`.
    struct Joined(PipelineInfo);

    impl Pipeline for Joined {
        fn info(&self) -> PipelineInfo {
            self.0.clone()
        }

        fn run_task(&self, _ctx: &TaskContext, _input: Vec<InputChunk>) -> Result<TaskOutput> {
            Ok(TaskOutput::Rows(Vec::new()))
        }
    }

    fn schema(fields: Vec<Field>) -> SchemaRef {
        Arc::new(Schema::new(fields))
    }

    #[test]
    fn the_default_explain_gives_the_name_stages_and_every_schema() {
        let ts = DataType::Timestamp(TimeUnit::Millisecond, None);
        let ads = schema(vec![
            Field::new("ad", DataType::Int64, false),
            Field::new("at", ts.clone(), false),
        ]);
        let clicks = schema(vec![
            Field::new("ad", DataType::Int64, true),
            Field::new("user", DataType::Utf8, true),
        ]);
        let output = schema(vec![
            Field::new("ad", DataType::Int64, false),
            Field::new("user", DataType::Utf8, true),
        ]);
        let joined = Joined(PipelineInfo {
            name: "ad_clicks".into(),
            input_schemas: vec![ads, clicks],
            output_schema: output,
            stages: 2,
            fingerprint: "ad-clicks-v1".into(),
            stateful: true,
            watermark_policy: Default::default(),
            watermark_operators: Vec::new(),
        });
        let text = "== Compiled plan ==\n\
                    Pipeline `ad_clicks`, 2 stages (ad: Int64 not null, user: Utf8)\n\
                    :- Source 0 (ad: Int64 not null, at: Timestamp(ms) not null)\n\
                    +- Source 1 (ad: Int64, user: Utf8)";
        assert_eq!(joined.explain(), text);
    }

    /// A pipeline with a text of its own, as `stream!` pipelines have.
    struct Explained;

    impl Pipeline for Explained {
        fn info(&self) -> PipelineInfo {
            MapPipeline::identity(schema(Vec::new())).info()
        }

        fn run_task(&self, _ctx: &TaskContext, _input: Vec<InputChunk>) -> Result<TaskOutput> {
            Ok(TaskOutput::Rows(Vec::new()))
        }

        fn explain(&self) -> String {
            "== Compiled plan ==\nWrite console\n+- Read rate".into()
        }
    }

    #[test]
    fn an_arc_of_a_pipeline_explains_as_the_pipeline_does() {
        let shared = Arc::new(Explained);
        assert_eq!(Pipeline::explain(&shared), Explained.explain());
        assert!(Pipeline::explain(&shared).ends_with("+- Read rate"));
    }
}
