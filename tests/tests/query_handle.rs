//! The query handle and manager: stop, termination, errors, listeners, one query per
//! checkpoint, and the checks `start()` makes.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use arrow_array::{Int64Array, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use stream_core::{
    MapPipeline, MemorySink, MemoryStream, OutputMode, QueryBuilder, QueryProgressEvent,
    QueryStartedEvent, QueryTerminatedEvent, Sink, SinkBatch, StreamError, StreamingQuery,
    StreamingQueryListener, StreamingQueryManager, Trigger,
};
use tests::runtime;

fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, false)]))
}

fn numbers(values: &[i64]) -> RecordBatch {
    RecordBatch::try_new(schema(), vec![Arc::new(Int64Array::from(values.to_vec()))]).unwrap()
}

fn base(
    manager: &StreamingQueryManager,
    input: &MemoryStream,
    table: &str,
    checkpoint: &std::path::Path,
) -> QueryBuilder {
    StreamingQuery::builder()
        .manager(manager)
        .source(input.clone())
        .pipeline(MapPipeline::identity(schema()))
        .sink(MemorySink::new(table))
        .checkpoint_location(checkpoint)
}

#[test]
fn process_all_available_then_stop() {
    let rt = runtime();
    let manager = StreamingQueryManager::new();
    let input = MemoryStream::new(schema());
    let checkpoint = tempfile::tempdir().unwrap();
    let query = base(&manager, &input, "handle_process_all", checkpoint.path())
        .start()
        .unwrap();
    let table = MemorySink::new("handle_process_all").table();
    for round in 1..=3i64 {
        input.add_batch(numbers(&[round; 10])).unwrap();
        rt.block_on(query.process_all_available()).unwrap();
        assert_eq!(table.num_rows() as i64, 10 * round);
    }
    assert!(query.is_active());
    assert_eq!(manager.active().len(), 1);
    assert_eq!(manager.get(query.id()).unwrap().run_id(), query.run_id());
    assert!(
        !rt.block_on(query.await_termination_timeout(Duration::from_millis(20)))
            .unwrap(),
        "still running"
    );
    rt.block_on(query.stop());
    assert!(!query.is_active());
    assert!(query.exception().is_none());
    assert_eq!(query.status().message, "Stopped");
    assert!(manager.active().is_empty());
    rt.block_on(manager.await_any_termination()).unwrap();
}

#[test]
fn a_failing_pipeline_stops_the_query_with_its_error() {
    let rt = runtime();
    let manager = StreamingQueryManager::new();
    let input = MemoryStream::new(schema());
    input.add_batch(numbers(&[1])).unwrap();
    let checkpoint = tempfile::tempdir().unwrap();
    let failing = MapPipeline::new("failing", schema(), schema(), |_| {
        Err(StreamError::InvalidQuery(
            "division by zero in column `n`".into(),
        ))
    });
    let query = StreamingQuery::builder()
        .manager(&manager)
        .source(input)
        .pipeline(failing)
        .sink(MemorySink::new("handle_failing"))
        .checkpoint_location(checkpoint.path())
        .start()
        .unwrap();
    let error = rt.block_on(query.await_termination()).unwrap_err();
    assert!(error.to_string().contains("division by zero"));
    assert!(query.exception().is_some());
    let any = rt.block_on(manager.await_any_termination()).unwrap_err();
    assert_eq!(any.to_string(), error.to_string());
    // The failed batch is logged but not committed: it will be re-run on restart.
    assert!(checkpoint.path().join("offsets/0").exists());
    assert!(!checkpoint.path().join("commits/0").exists());
}

#[test]
fn a_panicking_pipeline_is_an_error_not_an_abort() {
    let rt = runtime();
    let input = MemoryStream::new(schema());
    input.add_batch(numbers(&[1])).unwrap();
    let checkpoint = tempfile::tempdir().unwrap();
    let query = StreamingQuery::builder()
        .manager(&StreamingQueryManager::new())
        .source(input)
        .pipeline(MapPipeline::new("panicking", schema(), schema(), |_| {
            panic!("boom")
        }))
        .sink(MemorySink::new("handle_panicking"))
        .checkpoint_location(checkpoint.path())
        .start()
        .unwrap();
    let error = rt.block_on(query.await_termination()).unwrap_err();
    assert!(
        matches!(&*error, StreamError::TaskPanicked { batch_id: 0, message } if message == "boom"),
        "{error}"
    );
}

#[test]
fn a_panicking_sink_ends_the_query_with_an_error_instead_of_hanging() {
    let rt = runtime();
    let input = MemoryStream::new(schema());
    input.add_batch(numbers(&[1])).unwrap();
    let checkpoint = tempfile::tempdir().unwrap();
    let sink = stream_core::ForeachBatchSink::new(|_, _: &[RecordBatch]| -> Result<(), String> {
        panic!("sink exploded")
    });
    let query = StreamingQuery::builder()
        .manager(&StreamingQueryManager::new())
        .source(input)
        .pipeline(MapPipeline::identity(schema()))
        .sink(sink)
        .checkpoint_location(checkpoint.path())
        .start()
        .unwrap();
    let error = rt.block_on(query.await_termination()).unwrap_err();
    assert!(
        matches!(&*error, StreamError::QueryPanicked { message } if message == "sink exploded"),
        "{error}"
    );
    assert!(!query.is_active());
    assert!(
        !checkpoint.path().join("commits/0").exists(),
        "the batch stays uncommitted"
    );
}

#[derive(Default)]
struct Recorder(Mutex<Vec<String>>);

impl StreamingQueryListener for Recorder {
    fn on_query_started(&self, e: &QueryStartedEvent) {
        self.0
            .lock()
            .unwrap()
            .push(format!("started {}", e.name.as_deref().unwrap_or("")));
    }
    fn on_query_progress(&self, e: &QueryProgressEvent) {
        self.0.lock().unwrap().push(format!(
            "progress {} rows={}",
            e.progress.batch_id, e.progress.num_input_rows
        ));
    }
    fn on_query_terminated(&self, e: &QueryTerminatedEvent) {
        self.0
            .lock()
            .unwrap()
            .push(format!("terminated error={}", e.exception.is_some()));
    }
}

#[test]
fn listeners_hear_start_progress_and_termination_in_order() {
    let rt = runtime();
    let manager = StreamingQueryManager::new();
    let recorder = Arc::new(Recorder::default());
    manager.add_listener(recorder.clone());
    let input = MemoryStream::new(schema());
    input.add_batch(numbers(&[1, 2])).unwrap();
    input.add_batch(numbers(&[3])).unwrap();
    let checkpoint = tempfile::tempdir().unwrap();
    let query = base(&manager, &input, "handle_listeners", checkpoint.path())
        .query_name("listened")
        .trigger(Trigger::Once)
        .start()
        .unwrap();
    rt.block_on(query.await_termination()).unwrap();
    assert_eq!(
        *recorder.0.lock().unwrap(),
        [
            "started listened",
            "progress 0 rows=3",
            "terminated error=false"
        ]
    );
}

#[test]
fn a_second_query_on_the_same_checkpoint_is_refused_while_the_first_runs() {
    let rt = runtime();
    let manager = StreamingQueryManager::new();
    let input = MemoryStream::new(schema());
    let checkpoint = tempfile::tempdir().unwrap();
    let first = base(&manager, &input, "handle_twice", checkpoint.path())
        .start()
        .unwrap();
    let error = base(&manager, &input, "handle_twice", checkpoint.path())
        .start()
        .unwrap_err();
    assert!(error.to_string().contains("already active"), "{error}");
    rt.block_on(first.stop());
    let again = base(&manager, &input, "handle_twice", checkpoint.path())
        .start()
        .unwrap();
    assert_eq!(again.id(), first.id());
    rt.block_on(again.stop());
}

struct AppendOnly;

impl Sink for AppendOnly {
    fn description(&self) -> String {
        "AppendOnly".into()
    }
    fn supports(&self, mode: OutputMode) -> bool {
        mode == OutputMode::Append
    }
    fn add_batch(&mut self, _batch: SinkBatch<'_>) -> stream_core::Result<()> {
        Ok(())
    }
}

#[test]
fn start_refuses_a_sink_that_cannot_take_the_mode() {
    let checkpoint = tempfile::tempdir().unwrap();
    let error = StreamingQuery::builder()
        .manager(&StreamingQueryManager::new())
        .source(MemoryStream::new(schema()))
        .pipeline(MapPipeline::identity(schema()))
        .sink(AppendOnly)
        .output_mode(OutputMode::Complete)
        .checkpoint_location(checkpoint.path())
        .start()
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "sink `AppendOnly` does not support output mode `complete`; it supports: append"
    );
    assert!(
        std::fs::read_dir(checkpoint.path())
            .unwrap()
            .next()
            .is_none(),
        "nothing written"
    );
}

#[test]
fn start_refuses_a_source_whose_schema_the_pipeline_does_not_take() {
    let other = Arc::new(Schema::new(vec![Field::new("n", DataType::Utf8, false)]));
    let checkpoint = tempfile::tempdir().unwrap();
    let error = StreamingQuery::builder()
        .manager(&StreamingQueryManager::new())
        .source(MemoryStream::new(other))
        .pipeline(MapPipeline::identity(schema()))
        .sink(MemorySink::new("handle_schema"))
        .checkpoint_location(checkpoint.path())
        .start()
        .unwrap_err();
    assert!(
        matches!(error, StreamError::SchemaMismatch { .. }),
        "{error}"
    );
    assert!(
        error
            .to_string()
            .contains("column `n` is Utf8 but the pipeline expects Int64"),
        "{error}"
    );
}
