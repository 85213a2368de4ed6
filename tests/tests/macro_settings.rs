//! What a `stream!` block fixes and what it leaves to run time: the builder it returns
//! cannot contradict the block's output mode, sink, sources, pipeline or late-rows sink
//! (`start()` refuses, naming the setting), while settings no check depends on — the
//! checkpoint, the trigger, per-trigger limits, the rate, the console's rows — come from
//! captured Rust values, take effect, and are checked when the query starts.

use std::path::Path;

use stream_core::types::TypedRow;
use stream_core::{
    ConsoleSink, MapPipeline, MemorySink, MemoryStream, OutputMode, QueryBuilder, Schema,
    StreamError, StreamingQueryManager, Trigger, stream,
};
use tests::{land_file, runtime};

#[derive(Schema, Debug, PartialEq)]
struct Order {
    id: i64,
    amount: f64,
}

#[derive(Schema, Clone)]
struct Sale {
    shop: String,
    amount: i64,
}

fn sales() -> MemoryStream {
    let input = MemoryStream::of::<Sale>();
    input
        .add_rows(&[
            Sale {
                shop: "n".into(),
                amount: 3,
            },
            Sale {
                shop: "s".into(),
                amount: 4,
            },
            Sale {
                shop: "n".into(),
                amount: 5,
            },
        ])
        .unwrap();
    input
}

/// Totals per shop in update mode, into a memory table.
#[allow(deprecated)] // the warning that the aggregation's state can only grow
fn totals_in_update_mode(input: &MemoryStream) -> QueryBuilder<impl TypedRow> {
    stream! {
        schema Sale = Sale;
        read(memory, stream = {input}, schema = Sale)
            .group_by(shop)
            .agg(sum(amount) as total)
            .write(memory, name = "macro_settings_totals")
            .output_mode(update)
            .trigger(available_now)
    }
}

/// The error `start()` returns, or a panic if the query started.
fn start_error<R: stream_core::OutputRow>(builder: QueryBuilder<R>) -> StreamError {
    let checkpoint = tempfile::tempdir().unwrap();
    match builder
        .manager(&StreamingQueryManager::new())
        .checkpoint_location(checkpoint.path())
        .start()
    {
        Err(e) => e,
        Ok(_) => panic!("the query started"),
    }
}

#[test]
fn the_builder_cannot_change_the_output_mode_the_block_was_checked_for() {
    let error = start_error(totals_in_update_mode(&sales()).output_mode(OutputMode::Complete));
    let StreamError::FixedByStream {
        setting,
        compiled,
        asked,
        ..
    } = &error
    else {
        panic!("{error}");
    };
    assert_eq!(
        (setting.as_str(), compiled.as_str(), asked.as_str()),
        ("output_mode", "`update` mode", "`complete` mode")
    );
    assert_eq!(
        error.to_string(),
        "`output_mode` is fixed by the `stream!` block, which was checked and compiled for \
         `update` mode, but the builder was asked for `complete` mode; change \
         `.output_mode(..)` in the `stream!` block"
    );
}

#[test]
fn a_block_without_an_output_mode_is_fixed_to_append_the_mode_it_was_checked_for() {
    let input = sales();
    let builder = stream! {
        schema Sale = Sale;
        read(memory, stream = {input}, schema = Sale)
            .filter(amount > 3)
            .write(memory, name = "macro_settings_default_mode")
    };
    let error = start_error(builder.output_mode(OutputMode::Update));
    assert!(
        error
            .to_string()
            .contains("compiled for `append` mode, but the builder was asked for `update` mode"),
        "{error}"
    );
}

#[test]
fn the_same_output_mode_again_changes_nothing_and_the_query_runs() {
    tests::run_to_end(totals_in_update_mode(&sales()).output_mode(OutputMode::Update));
    let mut totals = tests::memory_table_rows("macro_settings_totals");
    totals.sort();
    assert_eq!(
        totals,
        [r#"{"shop":"n","total":8}"#, r#"{"shop":"s","total":4}"#]
    );
}

#[test]
fn the_builder_cannot_replace_the_sink_the_block_writes_to() {
    let error = start_error(totals_in_update_mode(&sales()).sink(ConsoleSink::new()));
    assert_eq!(
        error.to_string(),
        "`sink` is fixed by the `stream!` block, which was checked and compiled for \
         `MemorySink`, but the builder was asked for `ConsoleSink`; change `.write(..)` in \
         the `stream!` block"
    );
}

#[test]
fn the_builder_cannot_add_a_source_swap_the_pipeline_or_add_a_late_rows_sink() {
    let input = sales();
    let error = start_error(totals_in_update_mode(&input).source(input.clone()));
    assert_eq!(
        error.to_string(),
        "`source` is fixed by the `stream!` block, which was checked and compiled for its 1 \
         source, but the builder was asked for one more, `MemoryStream[shop,amount]`; change \
         `read(..)` in the `stream!` block"
    );

    let identity = MapPipeline::identity(Sale::arrow_schema());
    let error = start_error(totals_in_update_mode(&input).pipeline(identity));
    assert_eq!(
        error.to_string(),
        "`pipeline` is fixed by the `stream!` block, which was checked and compiled for its \
         own operators, but the builder was asked for pipeline `identity`; change the \
         operators in the `stream!` block"
    );

    let late = MemorySink::new("macro_settings_late");
    let error =
        start_error(totals_in_update_mode(&input).late_rows_sink(late, Sale::arrow_schema()));
    assert_eq!(
        error.to_string(),
        "`late_rows_sink` is fixed by the `stream!` block, which was checked and compiled for \
         no late-rows sink, but the builder was asked for `MemorySink`; change \
         `.late_rows(..)` in the `stream!` block"
    );
}

#[test]
fn forgetting_the_row_type_keeps_what_the_block_fixed() {
    let error = start_error(
        totals_in_update_mode(&sales())
            .untyped()
            .output_mode(OutputMode::Append),
    );
    assert!(
        matches!(&error, StreamError::FixedByStream { setting, .. } if setting == "output_mode"),
        "{error}"
    );
}

#[test]
fn the_first_contradiction_is_the_one_reported() {
    let error = start_error(
        totals_in_update_mode(&sales())
            .sink(ConsoleSink::new())
            .output_mode(OutputMode::Complete),
    );
    assert!(
        matches!(&error, StreamError::FixedByStream { setting, .. } if setting == "sink"),
        "{error}"
    );
}

#[test]
fn what_no_check_depends_on_stays_settable_on_the_blocks_builder() {
    // the block names no trigger and no query name: the builder gives both, and its own
    // checkpoint folder, which the query then writes
    let input = sales();
    let checkpoint = tempfile::tempdir().unwrap();
    let query = stream! {
        schema Sale = Sale;
        read(memory, stream = {input}, schema = Sale)
            .filter(amount > 3)
            .write(memory, name = "macro_settings_settable")
    }
    .trigger(Trigger::AvailableNow)
    .query_name("settable")
    .parallelism(1)
    .shuffle_partitions(2)
    .manager(&StreamingQueryManager::new())
    .checkpoint_location(checkpoint.path())
    .start()
    .unwrap();
    runtime().block_on(query.await_termination()).unwrap();
    assert_eq!(query.name(), Some("settable"));
    let amounts: Vec<i64> = query.rows().unwrap().iter().map(|r| r.amount).collect();
    assert_eq!(amounts, [4, 5]);
    assert!(checkpoint.path().join("commits").join("0").exists());
}

/// Lands `count` JSON-lines files of one order each, in order.
fn land_orders(dir: &Path, count: u64) {
    for i in 0..count {
        land_file(
            dir,
            &format!("orders-{i:03}.json"),
            &format!("{{\"id\":{i},\"amount\":{}.5}}\n", i * 10),
            i,
        );
    }
}

/// One pipeline for every setting: how many files a batch takes and where the
/// checkpoint is come from the caller (a command line, say).
fn orders(
    landing: &Path,
    files_per_batch: usize,
    checkpoint: &Path,
    table: &str,
) -> QueryBuilder<Order> {
    stream! {
        schema Order = Order;
        read(json, path = {landing}, schema = Order, max_files_per_trigger = {files_per_batch})
            .select(id, amount)
            .write(memory, name = {table})
            .trigger(available_now)
            .checkpoint({checkpoint})
            .query_name("macro_settings_orders")
    }
}

#[test]
fn max_files_per_trigger_and_the_checkpoint_come_from_variables_and_take_effect() {
    let landing = tempfile::tempdir().unwrap();
    let files = 5;
    land_orders(landing.path(), files);
    for files_per_batch in [1, 2, 5] {
        let checkpoint = tempfile::tempdir().unwrap();
        let table = format!("macro_settings_orders_{files_per_batch}");
        let query = orders(landing.path(), files_per_batch, checkpoint.path(), &table)
            .manager(&StreamingQueryManager::new())
            .start()
            .unwrap();
        runtime().block_on(query.await_termination()).unwrap();
        let batches = files.div_ceil(files_per_batch as u64);
        assert_eq!(
            MemorySink::new(&table).table().batch_ids(),
            (0..batches).collect::<Vec<_>>(),
            "{files_per_batch} file(s) per batch"
        );
        let ids: Vec<i64> = query.rows().unwrap().iter().map(|r| r.id).collect();
        assert_eq!(ids, (0..files as i64).collect::<Vec<_>>());
        // the captured checkpoint folder is the query's: one commit per batch
        let commits = std::fs::read_dir(checkpoint.path().join("commits"))
            .unwrap()
            .filter(|e| {
                !e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .starts_with('.')
            })
            .count();
        assert_eq!(commits as u64, batches);
    }
}

#[test]
fn a_captured_max_files_per_trigger_of_zero_is_refused_when_the_query_starts() {
    let landing = tempfile::tempdir().unwrap();
    land_orders(landing.path(), 1);
    let checkpoint = tempfile::tempdir().unwrap();
    let error = match orders(landing.path(), 0, checkpoint.path(), "macro_settings_zero")
        .manager(&StreamingQueryManager::new())
        .start()
    {
        Err(e) => e,
        Ok(_) => panic!("started with max_files_per_trigger = 0"),
    };
    assert_eq!(
        error.to_string(),
        "invalid option `max_files_per_trigger`: must be at least 1, got 0"
    );
}

#[test]
fn a_captured_setting_does_not_enter_the_plan_fingerprint() {
    // the first run has the limit written in the block, the second captures it: the same
    // plan, so the second resumes the first's checkpoint and reads only the new files
    let landing = tempfile::tempdir().unwrap();
    land_orders(landing.path(), 2);
    let checkpoint = tempfile::tempdir().unwrap();
    let first = stream! {
        schema Order = Order;
        read(json, path = {landing.path()}, schema = Order, max_files_per_trigger = 1)
            .select(id, amount)
            .write(memory, name = "macro_settings_fingerprint_literal")
            .trigger(available_now)
            .checkpoint({checkpoint.path()})
            .query_name("macro_settings_orders")
    }
    .manager(&StreamingQueryManager::new())
    .start()
    .unwrap();
    runtime().block_on(first.await_termination()).unwrap();
    assert_eq!(first.rows().unwrap().len(), 2);

    for i in 2..4 {
        land_file(
            landing.path(),
            &format!("orders-{i:03}.json"),
            &format!("{{\"id\":{i},\"amount\":1.0}}\n"),
            i,
        );
    }
    let second = orders(
        landing.path(),
        1,
        checkpoint.path(),
        "macro_settings_fingerprint_capture",
    )
    .manager(&StreamingQueryManager::new())
    .start()
    .unwrap();
    runtime().block_on(second.await_termination()).unwrap();
    let ids: Vec<i64> = second.rows().unwrap().iter().map(|r| r.id).collect();
    assert_eq!(ids, [2, 3]);
    assert_eq!(
        MemorySink::new("macro_settings_fingerprint_capture")
            .table()
            .batch_ids(),
        [2, 3]
    );
}

#[test]
fn a_query_renamed_between_runs_resumes_its_checkpoint() {
    // `query_name` changes no result: the renamed query reads only the files after the
    // first run's, while a changed plan is still refused
    let landing = tempfile::tempdir().unwrap();
    land_orders(landing.path(), 2);
    let checkpoint = tempfile::tempdir().unwrap();
    let first = orders(
        landing.path(),
        1,
        checkpoint.path(),
        "macro_settings_renamed_1",
    )
    .manager(&StreamingQueryManager::new())
    .start()
    .unwrap();
    runtime().block_on(first.await_termination()).unwrap();
    land_file(
        landing.path(),
        "orders-002.json",
        "{\"id\":2,\"amount\":1.0}\n",
        2,
    );
    let renamed = stream! {
        schema Order = Order;
        read(json, path = {landing.path()}, schema = Order, max_files_per_trigger = 1)
            .select(id, amount)
            .write(memory, name = "macro_settings_renamed_2")
            .trigger(available_now)
            .checkpoint({checkpoint.path()})
            .query_name("orders_renamed")
    }
    .manager(&StreamingQueryManager::new())
    .start()
    .unwrap();
    runtime().block_on(renamed.await_termination()).unwrap();
    let ids: Vec<i64> = renamed.rows().unwrap().iter().map(|r| r.id).collect();
    assert_eq!(ids, [2]);

    let changed = stream! {
        schema Order = Order;
        read(json, path = {landing.path()}, schema = Order)
            .filter(amount > 0.5)
            .select(id, amount)
            .write(memory, name = "macro_settings_renamed_3")
            .trigger(available_now)
            .checkpoint({checkpoint.path()})
            .query_name("orders_renamed")
    }
    .manager(&StreamingQueryManager::new())
    .start();
    assert!(
        matches!(changed, Err(StreamError::CheckpointMismatch { .. })),
        "a filter added to the plan must be refused"
    );
}

#[test]
fn a_captured_trigger_and_rate_run_the_query_as_written_ones_would() {
    // the rate source on a manual clock: `rows` rows a second, one batch a second
    let clock = stream_core::ManualClock::new(1_704_067_200_000);
    let rows_per_second: u64 = 3;
    let interval = std::time::Duration::from_secs(1);
    let trigger = Trigger::ProcessingTime(interval);
    let checkpoint = tempfile::tempdir().unwrap();
    let query = stream! {
        read(rate, rows_per_second = {rows_per_second}, num_partitions = {1usize})
            .write(memory, name = "macro_settings_rate")
            .trigger({trigger})
    }
    .clock(clock.clone())
    .manager(&StreamingQueryManager::new())
    .checkpoint_location(checkpoint.path())
    .start()
    .unwrap();
    let seconds = 3;
    for _ in 0..seconds {
        assert!(clock.wait_for_sleeper(std::time::Duration::from_secs(30)));
        clock.advance(1_000);
    }
    assert!(clock.wait_for_sleeper(std::time::Duration::from_secs(30)));
    runtime().block_on(query.stop());
    let values: Vec<i64> = query.rows().unwrap().iter().map(|r| r.value).collect();
    let expected = i64::try_from(rows_per_second * seconds).unwrap();
    assert_eq!(values, (0..expected).collect::<Vec<_>>());
}

#[test]
fn a_captured_rate_of_zero_is_refused_when_the_query_starts() {
    let rows_per_second: u64 = 0;
    let error = start_error(stream! {
        read(rate, rows_per_second = {rows_per_second})
            .write(console, num_rows = {5usize})
    });
    assert!(
        matches!(&error, StreamError::InvalidOption { name, .. } if name == "rows_per_second"),
        "{error}"
    );
}
