//! `QueryBuilder`: what a query reads, runs, writes, and how often.

use std::marker::PhantomData;
use std::path::PathBuf;
use std::sync::Arc;

use arrow_schema::SchemaRef;

use super::handle::QueryInner;
use super::typed::{OutputRow, Untyped};
use super::{StreamingQuery, StreamingQueryManager};
use crate::checkpoint::{Checkpoint, PlanRecord};
use crate::clock::{Clock, SystemClock};
use crate::engine::{LateRowsSink, MicroBatchExecution, recover};
use crate::fault::Faults;
use crate::pipeline::Pipeline;
use crate::progress::{QueryStartedEvent, format_timestamp};
use crate::sink::{Sink, SinkContext};
use crate::source::{Source, SourceContext};
use crate::state::StateStoreKind;
use crate::{OutputMode, Result, StreamError, Trigger};

/// Spark keeps the last 100 batches of its logs (`minBatchesToRetain`).
pub(crate) const DEFAULT_MIN_BATCHES_TO_RETAIN: u64 = 100;

/// Shuffle partitions when the checkpoint does not fix them already.
const DEFAULT_SHUFFLE_PARTITIONS: usize = 8;

/// The smallest `state_memory`.
const MIN_STATE_MEMORY: u64 = 16 << 20;

/// The query's store and memory budget: the builder's, else the environment's
/// (`STREAM_STATE_STORE`, `STREAM_STATE_MEMORY` in MiB), else the defaults.
fn state_settings(
    kind: Option<StateStoreKind>,
    memory: Option<u64>,
) -> Result<(StateStoreKind, u64)> {
    let kind = match kind {
        Some(kind) => kind,
        None => match std::env::var("STREAM_STATE_STORE") {
            Ok(name) => StateStoreKind::from_name(&name).ok_or_else(|| {
                invalid(
                    "state_store",
                    &format!(
                        "`{name}` (from STREAM_STATE_STORE) is not a store: use `memory` or `disk`"
                    ),
                )
            })?,
            Err(_) => StateStoreKind::Memory,
        },
    };
    let memory = match memory {
        Some(bytes) => bytes,
        None => match std::env::var("STREAM_STATE_MEMORY") {
            Ok(mib) => mib.trim().parse::<u64>().map(|m| m << 20).map_err(|_| {
                invalid(
                    "state_memory",
                    &format!("`{mib}` (from STREAM_STATE_MEMORY) is not a number of MiB"),
                )
            })?,
            Err(_) => crate::state::DEFAULT_STATE_MEMORY,
        },
    };
    if memory < MIN_STATE_MEMORY {
        return Err(invalid("state_memory", "must be at least 16 MiB"));
    }
    if kind == StateStoreKind::Disk && !cfg!(feature = "disk-state") {
        return Err(crate::state::disk_not_built());
    }
    Ok((kind, memory))
}

/// Builds and starts a streaming query: Spark's `DataStreamWriter`.
///
/// A query needs its sources (in the order the pipeline expects them), a pipeline and a
/// sink. The checkpoint location is what makes it resumable: without one the query runs
/// on a fresh temporary checkpoint and cannot resume.
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use arrow_schema::{DataType, Field, Schema};
/// use stream_core::{ConsoleSink, MapPipeline, MemoryStream, OutputMode, StreamingQuery, Trigger};
///
/// let schema = Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, false)]));
/// let builder = StreamingQuery::builder()
///     .query_name("numbers_to_console")
///     .source(MemoryStream::new(schema.clone()))
///     .pipeline(MapPipeline::identity(schema))
///     .sink(ConsoleSink::new())
///     .output_mode(OutputMode::Append)
///     .trigger(Trigger::ProcessingTime(Duration::from_secs(10)))
///     .checkpoint_location("/tmp/checkpoints/numbers_to_console");
/// # let _ = builder;
/// ```
///
/// `R` is the type of the output rows: [`Untyped`] for a builder put together by hand
/// and for `stream!` blocks writing to sinks other than memory (`start()` returns a
/// [`StreamingQuery`]), or a row struct, which `stream!` sets when it writes to a memory
/// sink and [`QueryBuilder::output_row`] sets by hand (`start()` returns a
/// [`crate::TypedQuery`], which reads the memory sink's rows as `Vec<R>`).
///
/// # What a `stream!` block fixes
///
/// The builder a `stream!` block returns was checked at compile time against its
/// output mode (the default `Append` included), its sink, its sources, its pipeline and
/// its late-rows sink: the rules of each output mode, the modes the sink takes, the
/// columns the sink and the sources get. Those five stay as the block compiled them: a
/// later [`QueryBuilder::output_mode`] with another mode, or any
/// [`QueryBuilder::sink`], [`QueryBuilder::source`], [`QueryBuilder::pipeline`] or
/// [`QueryBuilder::late_rows_sink`] call, makes `start()` fail with
/// [`StreamError::FixedByStream`], which names the setting and says what to change in
/// the block. Everything else — the trigger, the checkpoint location, the query name,
/// the clock, parallelism, shuffle partitions, the manager — no check depends on, and
/// it may be set on the block's builder as on any other. A builder from
/// [`StreamingQuery::builder`] fixes nothing.
///
/// ```
/// use stream_core::{MemoryStream, OutputMode, Schema, StreamError, stream};
///
/// #[derive(Schema)]
/// struct N { n: i64 }
///
/// let input = MemoryStream::of::<N>();
/// let dir = tempfile::tempdir().unwrap();
/// let builder = stream! {
///     schema N = N;
///     read(memory, stream = {input}, schema = N)
///         .write(memory, name = "doc_fixed_mode")
///         .output_mode(append)
/// }
/// .checkpoint_location(dir.path()) // not fixed: any folder
/// .output_mode(OutputMode::Complete); // fixed: `start()` refuses it
/// match builder.start() {
///     Err(StreamError::FixedByStream { setting, .. }) => assert_eq!(setting, "output_mode"),
///     Err(other) => panic!("{other}"),
///     Ok(_) => panic!("started in complete mode"),
/// }
/// ```
#[must_use = "a query builder does nothing until `start()`"]
pub struct QueryBuilder<R: OutputRow = Untyped> {
    name: Option<String>,
    sources: Vec<Box<dyn Source>>,
    pipeline: Option<Box<dyn Pipeline>>,
    sink: Option<Box<dyn Sink>>,
    late_rows: Option<(Box<dyn Sink>, SchemaRef)>,
    output_mode: OutputMode,
    trigger: Trigger,
    checkpoint: Option<PathBuf>,
    clock: Option<Arc<dyn Clock>>,
    parallelism: Option<usize>,
    shuffle_partitions: usize,
    min_batches_to_retain: u64,
    state_store: Option<StateStoreKind>,
    state_memory: Option<u64>,
    manager: Option<StreamingQueryManager>,
    /// Where to serve the manager's page (`.ui(..)`; else `STREAM_UI`).
    #[cfg(feature = "ui")]
    ui: Option<String>,
    faults: Faults,
    /// What a `stream!` block fixed (`None` for a builder put together by hand).
    fixed: Option<Fixed>,
    /// The first setter that asked for something else than `fixed`: `start()` returns it.
    contradiction: Option<StreamError>,
    row: PhantomData<fn() -> R>,
}

/// The settings a `stream!` block was checked and compiled for, as the block's builder
/// had them when the block marked them fixed.
struct Fixed {
    output_mode: OutputMode,
    /// The sink's description.
    sink: String,
    /// The late-rows sink's description, if the block has one.
    late_rows: Option<String>,
    sources: usize,
}

impl<R: OutputRow> Default for QueryBuilder<R> {
    fn default() -> Self {
        QueryBuilder {
            name: None,
            sources: Vec::new(),
            pipeline: None,
            sink: None,
            late_rows: None,
            output_mode: OutputMode::Append,
            trigger: Trigger::Default,
            checkpoint: None,
            clock: None,
            parallelism: None,
            shuffle_partitions: DEFAULT_SHUFFLE_PARTITIONS,
            min_batches_to_retain: DEFAULT_MIN_BATCHES_TO_RETAIN,
            state_store: None,
            state_memory: None,
            manager: None,
            #[cfg(feature = "ui")]
            ui: None,
            faults: Faults::default(),
            fixed: None,
            contradiction: None,
            row: PhantomData,
        }
    }
}

impl<R: OutputRow> QueryBuilder<R> {
    /// Gives the output rows the type `T`: `start()` then returns a
    /// [`crate::TypedQuery<T>`] whose `rows()` reads the memory sink as `Vec<T>`.
    /// `stream!` calls it with the block's output row struct.
    pub fn output_row<T: crate::types::TypedRow>(self) -> QueryBuilder<T> {
        self.retype()
    }

    /// Forgets the output row type: `start()` returns a plain [`StreamingQuery`]. For a
    /// function that returns the builder of a `stream!` block writing to a memory sink
    /// as a plain `QueryBuilder` (or write its return type as
    /// `QueryBuilder<impl TypedRow>` and keep `rows()`).
    ///
    /// ```
    /// use stream_core::{MemoryStream, QueryBuilder, stream};
    ///
    /// fn job(input: &MemoryStream) -> QueryBuilder {
    ///     stream! {
    ///         schema N { n: i64 }
    ///         read(memory, stream = {input}, schema = N).write(memory, name = "doc_untyped")
    ///     }
    ///     .untyped()
    /// }
    /// # let _ = job;
    /// ```
    pub fn untyped(self) -> QueryBuilder<Untyped> {
        self.retype()
    }

    fn retype<T: OutputRow>(self) -> QueryBuilder<T> {
        QueryBuilder {
            name: self.name,
            sources: self.sources,
            pipeline: self.pipeline,
            sink: self.sink,
            late_rows: self.late_rows,
            output_mode: self.output_mode,
            trigger: self.trigger,
            checkpoint: self.checkpoint,
            clock: self.clock,
            parallelism: self.parallelism,
            shuffle_partitions: self.shuffle_partitions,
            min_batches_to_retain: self.min_batches_to_retain,
            state_store: self.state_store,
            state_memory: self.state_memory,
            manager: self.manager,
            #[cfg(feature = "ui")]
            ui: self.ui,
            faults: self.faults,
            fixed: self.fixed,
            contradiction: self.contradiction,
            row: PhantomData,
        }
    }

    /// Names the query (shown in progress records and logs).
    pub fn query_name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Adds a source; sources are numbered in the order they are added. Fixed by a
    /// `stream!` block: on its builder, `start()` fails with
    /// [`StreamError::FixedByStream`].
    pub fn source(mut self, source: impl Source + 'static) -> Self {
        if let Some(fixed) = &self.fixed {
            let compiled = match fixed.sources {
                1 => "its 1 source".to_string(),
                n => format!("its {n} sources"),
            };
            let asked = format!("one more, `{}`", source.description());
            self.contradict("source", compiled, asked, "`read(..)`");
            return self;
        }
        self.sources.push(Box::new(source));
        self
    }

    /// The compiled pipeline to run on every batch. Fixed by a `stream!` block: on its
    /// builder, `start()` fails with [`StreamError::FixedByStream`].
    pub fn pipeline(mut self, pipeline: impl Pipeline) -> Self {
        if self.fixed.is_some() {
            let asked = format!("pipeline `{}`", pipeline.info().name);
            self.contradict(
                "pipeline",
                "its own operators".into(),
                asked,
                "the operators",
            );
            return self;
        }
        self.pipeline = Some(Box::new(pipeline));
        self
    }

    /// Where the output goes. Fixed by a `stream!` block (its `write(..)`): on its
    /// builder, `start()` fails with [`StreamError::FixedByStream`].
    pub fn sink(mut self, sink: impl Sink + 'static) -> Self {
        if let Some(fixed) = &self.fixed {
            let compiled = format!("`{}`", fixed.sink);
            let asked = format!("`{}`", sink.description());
            self.contradict("sink", compiled, asked, "`.write(..)`");
            return self;
        }
        self.sink = Some(Box::new(sink));
        self
    }

    /// A second sink for the rows the pipeline's stateful operators drop as late
    /// (behind the watermark), instead of only counting them in
    /// `numRowsDroppedByWatermark`. `schema` is the schema of those rows: the input of
    /// the stateful operator. `stream!` calls this for `.late_rows(kind, ..)`.
    ///
    /// The late rows of batch N reach this sink in append mode with batch id N, after
    /// the main sink has batch N and before `commits/N` is written, so a batch that is
    /// run again after a crash replaces or skips them as the main sink does. The sink is
    /// opened and closed with the query; the progress record's `lateRowsSink` counts
    /// the rows it got. `start()` refuses a sink that cannot append and a pipeline
    /// without state. Fixed by a `stream!` block, with or without `.late_rows(..)`: on
    /// its builder, `start()` fails with [`StreamError::FixedByStream`].
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arrow_schema::{DataType, Field, Schema};
    /// use stream_core::{MemorySink, StreamingQuery};
    ///
    /// let clicks = Arc::new(Schema::new(vec![Field::new("user", DataType::Utf8, false)]));
    /// let builder = StreamingQuery::builder()
    ///     .late_rows_sink(MemorySink::new("doc_late_clicks"), clicks);
    /// # let _ = builder;
    /// ```
    pub fn late_rows_sink(mut self, sink: impl Sink + 'static, schema: SchemaRef) -> Self {
        if let Some(fixed) = &self.fixed {
            let compiled = match &fixed.late_rows {
                Some(late) => format!("the late-rows sink `{late}`"),
                None => "no late-rows sink".to_string(),
            };
            let asked = format!("`{}`", sink.description());
            self.contradict("late_rows_sink", compiled, asked, "`.late_rows(..)`");
            return self;
        }
        self.late_rows = Some((Box::new(sink), schema));
        self
    }

    /// The output mode (default `Append`).
    ///
    /// Fixed by a `stream!` block, whose checks hold for its own mode (`append` when it
    /// names none): on its builder, another mode makes `start()` fail with
    /// [`StreamError::FixedByStream`]; the same mode changes nothing.
    pub fn output_mode(mut self, mode: OutputMode) -> Self {
        if let Some(fixed) = &self.fixed {
            if mode != fixed.output_mode {
                let compiled = format!("`{}` mode", fixed.output_mode);
                self.contradict(
                    "output_mode",
                    compiled,
                    format!("`{mode}` mode"),
                    "`.output_mode(..)`",
                );
            }
            return self;
        }
        self.output_mode = mode;
        self
    }

    /// Records the first setter that contradicts what the `stream!` block fixed.
    fn contradict(&mut self, setting: &str, compiled: String, asked: String, change: &str) {
        if self.contradiction.is_none() {
            self.contradiction = Some(StreamError::FixedByStream {
                setting: setting.into(),
                compiled,
                asked,
                change: change.into(),
            });
        }
    }

    /// Called by `stream!` last, on the builder it returns: fixes the output mode, the
    /// sink, the sources, the pipeline and the late-rows sink as they are now, the
    /// settings its compile-time checks hold for (see [What a `stream!` block
    /// fixes](QueryBuilder#what-a-stream-block-fixes)). Not a stable API.
    ///
    /// ```
    /// use stream_core::{ConsoleSink, StreamError, StreamingQuery};
    ///
    /// let builder = StreamingQuery::builder()
    ///     .sink(ConsoleSink::new())
    ///     .__fixed_by_stream_block()
    ///     .sink(ConsoleSink::new());
    /// assert!(matches!(builder.start(), Err(StreamError::FixedByStream { .. })));
    /// ```
    #[doc(hidden)]
    pub fn __fixed_by_stream_block(mut self) -> Self {
        self.fixed = Some(Fixed {
            output_mode: self.output_mode,
            sink: self
                .sink
                .as_ref()
                .map_or_else(String::new, |s| s.description()),
            late_rows: self.late_rows.as_ref().map(|(s, _)| s.description()),
            sources: self.sources.len(),
        });
        self
    }

    /// Serves the live page and `/metrics` of the query's manager at `addr`
    /// (`"127.0.0.1:4040"`; port 0 picks a free port), from when the query starts until
    /// the manager is dropped (the global manager's: until the process ends). Without
    /// it, the `STREAM_UI` environment variable, if set, gives the address. See
    /// [`crate::ui`] for what is served and
    /// [`StreamingQueryManager::ui_address`] for the address.
    ///
    /// ```
    /// use stream_core::StreamingQuery;
    /// let builder = StreamingQuery::builder().ui("127.0.0.1:4040");
    /// # let _ = builder;
    /// ```
    #[cfg(feature = "ui")]
    pub fn ui(mut self, addr: impl Into<String>) -> Self {
        self.ui = Some(addr.into());
        self
    }

    /// When batches run (default: as soon as the previous one ends).
    pub fn trigger(mut self, trigger: Trigger) -> Self {
        self.trigger = trigger;
        self
    }

    /// The checkpoint folder, which makes the query resumable.
    pub fn checkpoint_location(mut self, dir: impl Into<PathBuf>) -> Self {
        self.checkpoint = Some(dir.into());
        self
    }

    /// The clock (default: the system clock). Tests pass a [`crate::ManualClock`].
    pub fn clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Some(Arc::new(clock));
        self
    }

    /// How many tasks a batch's input is split into at most (default: the cores).
    /// Does not change results.
    pub fn parallelism(mut self, tasks: usize) -> Self {
        self.parallelism = Some(tasks);
        self
    }

    /// The number of shuffle partitions for pipelines with an exchange (default 8).
    /// Fixed by the checkpoint at its first batch; later values are ignored.
    pub fn shuffle_partitions(mut self, partitions: usize) -> Self {
        self.shuffle_partitions = partitions;
        self
    }

    /// How many batches of the offset and commit logs are kept (default 100, at least 1).
    pub fn min_batches_to_retain(mut self, batches: u64) -> Self {
        self.min_batches_to_retain = batches;
        self
    }

    /// Which store keeps the query's keyed state (default [`StateStoreKind::Memory`], or
    /// the `STREAM_STATE_STORE` environment variable, `memory` or `disk`, when set).
    /// [`StateStoreKind::Disk`] keeps state larger than memory in an embedded store on
    /// local disk (stream-core's `disk-state` feature). The checkpoint holds the same
    /// files for both, so a query may change stores between runs.
    ///
    /// ```
    /// use stream_core::StreamingQuery;
    /// use stream_core::state::StateStoreKind;
    /// let builder = StreamingQuery::builder()
    ///     .state_store(StateStoreKind::Disk)
    ///     .state_memory(64 << 20);
    /// # let _ = builder;
    /// ```
    pub fn state_store(mut self, kind: StateStoreKind) -> Self {
        self.state_store = Some(kind);
        self
    }

    /// The disk store's memory budget in bytes, for its block cache and write buffers
    /// together, shared by the query's stores (default 256 MiB, or the
    /// `STREAM_STATE_MEMORY` environment variable in MiB; at least 16 MiB). The
    /// changes of the running batch are held in memory besides.
    pub fn state_memory(mut self, bytes: u64) -> Self {
        self.state_memory = Some(bytes);
        self
    }

    /// The manager the query belongs to (default: [`StreamingQueryManager::global`]).
    pub fn manager(mut self, manager: &StreamingQueryManager) -> Self {
        self.manager = Some(manager.clone());
        self
    }

    /// Test-only: fail at `point` of batch `batch_id`, as if the process died there.
    #[cfg(feature = "fault-injection")]
    #[doc(hidden)]
    pub fn inject_fault(self, point: crate::FaultPoint, batch_id: u64) -> Self {
        self.faults.plan(point, batch_id);
        self
    }

    /// Checks the query, opens (or creates) its checkpoint, decides where to resume and
    /// starts the query's thread. Every checkpoint error is returned here, before
    /// anything is written; so is a setter that contradicted what a `stream!` block
    /// fixed ([`StreamError::FixedByStream`]), before anything is opened.
    pub fn start(self) -> Result<R::Query> {
        let table = self.sink.as_ref().and_then(|s| s.memory_table());
        let query = self.start_untyped()?;
        Ok(R::query(query, table))
    }

    fn start_untyped(self) -> Result<StreamingQuery> {
        let QueryBuilder {
            name,
            mut sources,
            pipeline,
            sink,
            late_rows,
            output_mode,
            trigger,
            checkpoint,
            clock,
            parallelism,
            shuffle_partitions,
            min_batches_to_retain,
            state_store,
            state_memory,
            manager,
            #[cfg(feature = "ui")]
            ui,
            faults,
            fixed: _,
            contradiction,
            row: _,
        } = self;
        #[cfg(not(feature = "ui"))]
        let ui = ();
        if let Some(error) = contradiction {
            return Err(error);
        }
        let pipeline = pipeline
            .ok_or_else(|| StreamError::InvalidQuery("no pipeline: call `.pipeline(..)`".into()))?;
        let mut sink =
            sink.ok_or_else(|| StreamError::InvalidQuery("no sink: call `.sink(..)`".into()))?;
        let info = pipeline.info();
        check_sources(&sources, &info)?;
        check_mode(&*sink, output_mode)?;
        if let Some((late, _)) = &late_rows {
            check_late_rows(&**late, &info)?;
        }
        if shuffle_partitions == 0 {
            return Err(invalid("shuffle_partitions", "must be at least 1"));
        }
        if min_batches_to_retain == 0 {
            return Err(invalid("min_batches_to_retain", "must be at least 1"));
        }
        let (state_store, state_memory) = state_settings(state_store, state_memory)?;
        let parallelism = match parallelism {
            Some(0) => return Err(invalid("parallelism", "must be at least 1")),
            Some(n) => n,
            None => rayon::current_num_threads(),
        };
        let dir = match checkpoint {
            Some(dir) => dir,
            None => {
                let dir = std::env::temp_dir()
                    .join(format!("stream-checkpoint-{}", uuid::Uuid::new_v4()));
                tracing::warn!(
                    "no checkpoint location given: using the temporary `{}`; this query cannot resume",
                    dir.display()
                );
                dir
            }
        };
        let checkpoint =
            Checkpoint::open(&dir, &PlanRecord::of(&info)).map_err(StreamError::found_at_start)?;
        let resume = recover(&checkpoint, sources.len(), shuffle_partitions)
            .map_err(StreamError::found_at_start)?;
        // the state the first batch will load, checked before anything is written: its
        // files, and the columns it was written with against the operators' types
        crate::state::verify_resume(checkpoint.dir(), resume.next_batch_id.checked_sub(1))
            .and_then(|()| pipeline.check_state(checkpoint.dir()))
            .map_err(StreamError::found_at_start)?;
        let clock = clock.unwrap_or_else(|| Arc::new(SystemClock::new()));
        for (index, source) in sources.iter_mut().enumerate() {
            source
                .open(&SourceContext {
                    metadata_dir: checkpoint.source_dir(index),
                    clock: clock.clone(),
                    index,
                })
                .map_err(StreamError::found_at_start)?;
        }
        sink.open(&SinkContext {
            query_id: checkpoint.query_id().to_string(),
            query_name: name.clone(),
            checkpoint_dir: checkpoint.dir().to_path_buf(),
            output_mode,
            schema: info.output_schema.clone(),
            clock: clock.clone(),
        })
        .map_err(StreamError::found_at_start)?;
        let late_rows = match late_rows {
            Some((mut late, schema)) => {
                late.open(&SinkContext {
                    query_id: checkpoint.query_id().to_string(),
                    query_name: name.clone(),
                    checkpoint_dir: checkpoint.dir().to_path_buf(),
                    output_mode: OutputMode::Append,
                    schema: schema.clone(),
                    clock: clock.clone(),
                })
                .map_err(StreamError::found_at_start)?;
                Some(LateRowsSink { sink: late, schema })
            }
            None => None,
        };
        let manager = manager.unwrap_or_else(StreamingQueryManager::global);
        serve_page(&manager, ui)?;
        let plan = pipeline.explain();
        let inner = Arc::new(QueryInner::new(
            checkpoint.query_id().to_string(),
            name,
            plan,
            clock.clone(),
            manager.clone(),
        ));
        let query = StreamingQuery {
            inner: inner.clone(),
        };
        manager.register(&query)?;
        // the checkpoint is validated and this query holds it: what killed writes left
        // behind can go
        if let Err(e) = checkpoint.remove_leftover_temps() {
            manager.unregister(&inner);
            return Err(e);
        }
        // for the page of the stopped query; a monitoring file does not stop a start
        if let Err(e) = checkpoint.progress_log().start_run(&inner.plan) {
            tracing::warn!(query = %inner.id, "cannot keep the plan in the checkpoint: {e}");
        }
        manager.post_started(&QueryStartedEvent {
            id: inner.id.clone(),
            run_id: inner.run_id.clone(),
            name: inner.name.clone(),
            timestamp: format_timestamp(clock.now_ms()),
        });
        let state = Arc::new(crate::pipeline::StateContext {
            dir: checkpoint.dir().to_path_buf(),
            min_versions_to_retain: min_batches_to_retain,
            store: state_store,
            memory_bytes: state_memory,
            partitions: resume.shuffle_partitions as u64,
        });
        let execution = MicroBatchExecution {
            state,
            operator_watermarks: std::collections::BTreeMap::new(),
            query: inner.clone(),
            sources,
            pipeline,
            info,
            sink,
            late_rows,
            output_mode,
            trigger,
            checkpoint,
            clock,
            parallelism,
            min_batches_to_retain,
            faults: Arc::new(faults),
            resume,
        };
        let thread_name = format!(
            "stream-query-{}",
            inner.name.as_deref().unwrap_or(&inner.id)
        );
        let spawned = std::thread::Builder::new()
            .name(thread_name)
            .spawn(move || execution.run_to_end());
        if let Err(e) = spawned {
            let error = StreamError::InvalidQuery(format!("cannot start the query's thread: {e}"));
            inner.finish(Some(StreamError::InvalidQuery(error.to_string())));
            return Err(error);
        }
        Ok(query)
    }
}

/// Starts the manager's page at the address `.ui(..)` gave, else `STREAM_UI`'s.
#[cfg(feature = "ui")]
fn serve_page(manager: &StreamingQueryManager, ui: Option<String>) -> Result<()> {
    let from_env = || {
        std::env::var("STREAM_UI")
            .ok()
            .filter(|a| !a.trim().is_empty())
    };
    match ui.or_else(from_env) {
        Some(addr) => manager.serve_ui(addr.trim()).map(|_| ()),
        None => Ok(()),
    }
}

/// Without the `ui` feature there is no page: `STREAM_UI` is only warned about.
#[cfg(not(feature = "ui"))]
fn serve_page(_: &StreamingQueryManager, _: ()) -> Result<()> {
    if std::env::var_os("STREAM_UI").is_some() {
        tracing::warn!(
            "STREAM_UI is set but this program is built without stream-core's `ui` feature: no page is served"
        );
    }
    Ok(())
}

fn invalid(name: &str, message: &str) -> StreamError {
    StreamError::InvalidOption {
        name: name.into(),
        message: message.into(),
    }
}

fn check_sources(sources: &[Box<dyn Source>], info: &crate::PipelineInfo) -> Result<()> {
    if sources.len() != info.input_schemas.len() {
        return Err(StreamError::InvalidQuery(format!(
            "pipeline `{}` reads {} source(s) but the query has {}",
            info.name,
            info.input_schemas.len(),
            sources.len()
        )));
    }
    for (i, (source, expected)) in sources.iter().zip(&info.input_schemas).enumerate() {
        let actual = source.schema();
        if actual.fields() != expected.fields() {
            return Err(StreamError::SchemaMismatch {
                context: format!("source {i} (`{}`)", source.description()),
                message: describe_difference(&actual, expected),
            });
        }
    }
    Ok(())
}

/// Names the first column that differs between a source's schema and the pipeline's.
fn describe_difference(actual: &arrow_schema::Schema, expected: &arrow_schema::Schema) -> String {
    for field in expected.fields() {
        match actual.field_with_name(field.name()) {
            Err(_) => {
                return format!(
                    "column `{}` expected by the pipeline is missing",
                    field.name()
                );
            }
            Ok(a) if a.data_type() != field.data_type() => {
                return format!(
                    "column `{}` is {} but the pipeline expects {}",
                    field.name(),
                    a.data_type(),
                    field.data_type()
                );
            }
            Ok(a) if a.is_nullable() != field.is_nullable() => {
                return format!(
                    "column `{}` is {} but the pipeline expects it {}",
                    field.name(),
                    if a.is_nullable() {
                        "nullable"
                    } else {
                        "not null"
                    },
                    if field.is_nullable() {
                        "nullable"
                    } else {
                        "not null"
                    }
                );
            }
            Ok(_) => {}
        }
    }
    format!("the source has columns {actual} but the pipeline expects {expected}")
}

/// A late-rows sink must append, and only a pipeline with state drops rows as late.
fn check_late_rows(sink: &dyn Sink, info: &crate::PipelineInfo) -> Result<()> {
    if !info.stateful {
        return Err(StreamError::InvalidQuery(format!(
            "pipeline `{}` has a late-rows sink but no stateful operator, so it never drops a row as late",
            info.name
        )));
    }
    if !sink.supports(OutputMode::Append) {
        return Err(StreamError::UnsupportedOutputMode {
            sink: format!("{} (the late-rows sink)", sink.description()),
            mode: OutputMode::Append,
            supported: OutputMode::ALL
                .into_iter()
                .filter(|m| sink.supports(*m))
                .map(OutputMode::as_str)
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    Ok(())
}

fn check_mode(sink: &dyn Sink, mode: OutputMode) -> Result<()> {
    if sink.supports(mode) {
        return Ok(());
    }
    let supported: Vec<&str> = OutputMode::ALL
        .into_iter()
        .filter(|m| sink.supports(*m))
        .map(OutputMode::as_str)
        .collect();
    Err(StreamError::UnsupportedOutputMode {
        sink: sink.description(),
        mode,
        supported: supported.join(", "),
    })
}
