//! The late-rows sink's protocol: written with the batch's id after the main sink and
//! before `commits/N`, replaced when a batch runs again, opened and closed with the
//! query, counted in the progress record.

use std::sync::{Arc, Mutex};

use arrow_array::{Array, BooleanArray, Int64Array, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef};

use crate::pipeline::{InputChunk, Pipeline, PipelineInfo, TaskContext, TaskOutput};
use crate::sink::{MemorySink, MemoryTable, Sink, SinkBatch, SinkContext};
use crate::{
    MemoryStream, OutputMode, Result, StreamError, StreamingQuery, StreamingQueryManager,
    StreamingQueryProgress, Trigger,
};

fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![Field::new("v", DataType::Int64, false)]))
}

fn numbers(values: &[i64]) -> RecordBatch {
    RecordBatch::try_new(schema(), vec![Arc::new(Int64Array::from(values.to_vec()))]).unwrap()
}

fn values(batches: &[RecordBatch]) -> Vec<i64> {
    batches
        .iter()
        .flat_map(|b| {
            let a = b.column(0).as_any().downcast_ref::<Int64Array>().unwrap();
            a.values().to_vec()
        })
        .collect()
}

/// A stand-in for a stateful operator: negative numbers are "late", the others pass.
struct DropNegatives;

impl Pipeline for DropNegatives {
    fn info(&self) -> PipelineInfo {
        PipelineInfo {
            name: "drop_negatives".into(),
            input_schemas: vec![schema()],
            output_schema: schema(),
            stages: 1,
            fingerprint: "drop_negatives-v1".into(),
            stateful: true,
            watermark_policy: Default::default(),
            watermark_operators: Vec::new(),
        }
    }

    fn run_task(&self, ctx: &TaskContext, input: Vec<InputChunk>) -> Result<TaskOutput> {
        let mut kept = Vec::new();
        let mut late = Vec::new();
        for chunk in input {
            let v = chunk
                .batch
                .column(0)
                .as_any()
                .downcast_ref::<Int64Array>()
                .unwrap();
            let on_time: BooleanArray = v.iter().map(|x| x.map(|x| x >= 0)).collect();
            let is_late = arrow_arith::boolean::not(&on_time)?;
            kept.push(arrow_select::filter::filter_record_batch(
                &chunk.batch,
                &on_time,
            )?);
            late.push(arrow_select::filter::filter_record_batch(
                &chunk.batch,
                &is_late,
            )?);
        }
        ctx.metrics.add_late_rows(0, ctx.stage, ctx.partition, late);
        Ok(TaskOutput::Rows(kept))
    }
}

/// Records what happens to it, in order, in a log shared with the main sink's wrapper;
/// fails its first `add_batch` of `fail_at`.
struct Recording {
    name: &'static str,
    inner: MemorySink,
    log: Arc<Mutex<Vec<String>>>,
    fail_at: Option<u64>,
}

impl Sink for Recording {
    fn description(&self) -> String {
        format!("Recording[{}]", self.name)
    }
    fn supports(&self, mode: OutputMode) -> bool {
        mode == OutputMode::Append
    }
    fn open(&mut self, ctx: &SinkContext) -> Result<()> {
        self.log.lock().unwrap().push(format!(
            "{} open {} {:?}",
            self.name,
            ctx.schema.field(0).name(),
            ctx.output_mode
        ));
        Ok(())
    }
    fn add_batch(&mut self, batch: SinkBatch<'_>) -> Result<()> {
        let commits = batch.batch_id;
        self.log.lock().unwrap().push(format!(
            "{} add {commits} {:?}",
            self.name, batch.output_mode
        ));
        if self.fail_at == Some(batch.batch_id) {
            self.fail_at = None;
            return Err(StreamError::InvalidQuery("injected".into()));
        }
        self.inner.add_batch(batch)
    }
    fn close(&mut self) {
        self.log
            .lock()
            .unwrap()
            .push(format!("{} close", self.name));
    }
}

struct Run {
    log: Arc<Mutex<Vec<String>>>,
    progress: Vec<StreamingQueryProgress>,
    error: Option<Arc<StreamError>>,
}

/// Runs one batch (`Trigger::Once`) of `input` on `checkpoint`.
fn run_once(
    input: &MemoryStream,
    checkpoint: &std::path::Path,
    tables: (&'static str, &'static str),
    fail_late_at: Option<u64>,
) -> Run {
    let log = Arc::new(Mutex::new(Vec::new()));
    let query = StreamingQuery::builder()
        .manager(&StreamingQueryManager::new())
        .source(input.clone())
        .pipeline(DropNegatives)
        .sink(Recording {
            name: "main",
            inner: MemorySink::new(tables.0),
            log: log.clone(),
            fail_at: None,
        })
        .late_rows_sink(
            Recording {
                name: "late",
                inner: MemorySink::new(tables.1),
                log: log.clone(),
                fail_at: fail_late_at,
            },
            schema(),
        )
        .trigger(Trigger::Once)
        .checkpoint_location(checkpoint)
        .start()
        .unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let error = rt.block_on(query.await_termination()).err();
    Run {
        log,
        progress: query.recent_progress(),
        error,
    }
}

#[test]
fn late_rows_go_to_the_second_sink_with_the_batch_id_before_the_commit() {
    let dir = tempfile::tempdir().unwrap();
    let input = MemoryStream::new(schema());
    input.add_batch(numbers(&[1, -2, 3, -4])).unwrap();
    let run = run_once(
        &input,
        dir.path(),
        ("lr_engine_main_1", "lr_engine_late_1"),
        None,
    );
    assert!(run.error.is_none(), "{:?}", run.error);
    assert!(dir.path().join("commits/0").exists());
    assert_eq!(
        *run.log.lock().unwrap(),
        [
            "main open v Append",
            "late open v Append",
            "main add 0 Append",
            "late add 0 Append",
            "main close",
            "late close",
        ]
    );
    let late = MemoryTable::get("lr_engine_late_1").unwrap();
    assert_eq!(late.batch_ids(), [0]);
    assert_eq!(values(&late.batches()), [-2, -4]);
    assert_eq!(
        values(&MemoryTable::get("lr_engine_main_1").unwrap().batches()),
        [1, 3]
    );
    let p = &run.progress[0];
    let late_progress = p.late_rows_sink.as_ref().unwrap();
    assert_eq!(late_progress.description, "Recording[late]");
    assert_eq!(late_progress.num_output_rows, 2);
    assert_eq!(p.sink.num_output_rows, 2);
    assert!(
        p.json()
            .contains("\"lateRowsSink\":{\"description\":\"Recording[late]\",\"numOutputRows\":2}")
    );

    // a batch without late rows still reaches the late sink, empty
    input.add_batch(numbers(&[5])).unwrap();
    let run = run_once(
        &input,
        dir.path(),
        ("lr_engine_main_1", "lr_engine_late_1"),
        None,
    );
    assert!(run.error.is_none());
    assert_eq!(late.batch_ids(), [0, 1]);
    assert_eq!(values(&late.batches()), [-2, -4]);
    assert_eq!(
        run.progress[0]
            .late_rows_sink
            .as_ref()
            .unwrap()
            .num_output_rows,
        0
    );
}

#[test]
fn a_failed_late_write_leaves_no_commit_and_the_rerun_replaces_the_rows() {
    let dir = tempfile::tempdir().unwrap();
    let tables = ("lr_engine_main_2", "lr_engine_late_2");
    let input = MemoryStream::new(schema());
    input.add_batch(numbers(&[-1, 2])).unwrap();
    assert!(run_once(&input, dir.path(), tables, None).error.is_none());
    input.add_batch(numbers(&[-3, 4, -5])).unwrap();
    let failed = run_once(&input, dir.path(), tables, Some(1));
    assert!(failed.error.is_some());
    assert!(dir.path().join("offsets/1").exists());
    assert!(!dir.path().join("commits/1").exists());
    // the main sink had batch 1 before the late sink failed
    assert!(
        failed
            .log
            .lock()
            .unwrap()
            .contains(&"main add 1 Append".to_string())
    );

    let rerun = run_once(&input, dir.path(), tables, None);
    assert!(rerun.error.is_none(), "{:?}", rerun.error);
    assert!(dir.path().join("commits/1").exists());
    assert_eq!(rerun.progress[0].batch_id, 1);
    let late = MemoryTable::get(tables.1).unwrap();
    assert_eq!(late.batch_ids(), [0, 1]);
    assert_eq!(values(&late.batches()), [-1, -3, -5]);
    assert_eq!(
        values(&MemoryTable::get(tables.0).unwrap().batches()),
        [2, 4]
    );
}

#[test]
fn start_refuses_a_late_sink_that_cannot_append_or_a_pipeline_without_state() {
    struct CompleteOnly;
    impl Sink for CompleteOnly {
        fn description(&self) -> String {
            "CompleteOnly".into()
        }
        fn supports(&self, mode: OutputMode) -> bool {
            mode == OutputMode::Complete
        }
        fn add_batch(&mut self, _: SinkBatch<'_>) -> Result<()> {
            Ok(())
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let err = StreamingQuery::builder()
        .manager(&StreamingQueryManager::new())
        .source(MemoryStream::new(schema()))
        .pipeline(DropNegatives)
        .sink(MemorySink::new("lr_engine_main_3"))
        .late_rows_sink(CompleteOnly, schema())
        .checkpoint_location(dir.path())
        .start()
        .unwrap_err();
    assert!(err.to_string().contains("late-rows sink"), "{err}");

    let err = StreamingQuery::builder()
        .manager(&StreamingQueryManager::new())
        .source(MemoryStream::new(schema()))
        .pipeline(crate::MapPipeline::identity(schema()))
        .sink(MemorySink::new("lr_engine_main_4"))
        .late_rows_sink(MemorySink::new("lr_engine_late_4"), schema())
        .checkpoint_location(dir.path())
        .start()
        .unwrap_err();
    assert!(err.to_string().contains("no stateful operator"), "{err}");
}

#[test]
fn late_rows_of_another_schema_fail_the_batch() {
    let dir = tempfile::tempdir().unwrap();
    let input = MemoryStream::new(schema());
    input.add_batch(numbers(&[-1])).unwrap();
    let other = Arc::new(Schema::new(vec![Field::new("w", DataType::Int64, false)]));
    let query = StreamingQuery::builder()
        .manager(&StreamingQueryManager::new())
        .source(input)
        .pipeline(DropNegatives)
        .sink(MemorySink::new("lr_engine_main_5"))
        .late_rows_sink(MemorySink::new("lr_engine_late_5"), other)
        .trigger(Trigger::Once)
        .checkpoint_location(dir.path())
        .start()
        .unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let err = rt.block_on(query.await_termination()).unwrap_err();
    assert!(err.to_string().contains("late-rows sink expects"), "{err}");
    assert!(!dir.path().join("commits/0").exists());
}
