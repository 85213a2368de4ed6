//! A query may change its state store between runs: the two stores write the same
//! checkpoint files, so a run on the disk store resumes the state the memory store left
//! and the other way round. Each run dies at a fault point of some batch and the next
//! one, on the other store, runs that batch again; the rows over the runs are Spark's
//! for one uninterrupted run (the golden files).

use std::path::Path;

use stream_core::state::StateStoreKind;
use stream_core::{FaultPoint, QueryBuilder, StreamingQueryManager, stream};
use tests::{emitted, expected_rows, land_golden, runtime};

fn tumbling_count(landing: &Path, table: &str) -> QueryBuilder {
    stream! {
        schema Event { ts: Option<timestamp_ms>, user: Option<string>, page: Option<string>, amount: Option<f64>, country: Option<string> }
        read(json, path = {landing}, schema = Event, max_files_per_trigger = 1)
            .with_watermark(ts, "2 minutes")
            .group_by(window(ts, "1 minute"), country)
            .agg(count() as count, sum(amount) as sum_amount)
            .write(memory, name = {table})
            .output_mode(update)
            .trigger(available_now)
    }
    .untyped()
}

fn dedup(landing: &Path, table: &str) -> QueryBuilder {
    stream! {
        schema Event { ts: Option<timestamp_ms>, user: Option<string>, page: Option<string>, amount: Option<f64>, country: Option<string> }
        read(json, path = {landing}, schema = Event, max_files_per_trigger = 1)
            .with_watermark(ts, "2 minutes")
            .drop_duplicates(user, ts)
            .write(memory, name = {table})
            .trigger(available_now)
    }
    .untyped()
}

/// The stores of the runs, the fault each run but the last dies at, the table's name.
type Case = (
    &'static [StateStoreKind],
    &'static [(FaultPoint, u64)],
    &'static str,
);

/// Runs the query over the six golden files on each store of `stores` in turn: every
/// run but the last dies at its fault (`faults`, one per run but the last), and the
/// next run, on the next store, resumes from the checkpoint.
fn run_switching(
    make: impl Fn(&Path, &str) -> QueryBuilder,
    table: &str,
    stores: &[StateStoreKind],
    faults: &[(FaultPoint, u64)],
) {
    assert_eq!(stores.len(), faults.len() + 1);
    let landing = tempfile::tempdir().unwrap();
    let checkpoint = tempfile::tempdir().unwrap();
    land_golden(landing.path(), 0..6);
    let rt = runtime();
    for (run, &store) in stores.iter().enumerate() {
        let mut builder = make(landing.path(), table)
            .manager(&StreamingQueryManager::new())
            .checkpoint_location(checkpoint.path())
            .state_store(store);
        if let Some(&(point, batch)) = faults.get(run) {
            builder = builder.inject_fault(point, batch);
        }
        let q = builder.start().unwrap();
        let ended = rt.block_on(q.await_termination());
        assert_eq!(
            ended.is_err(),
            run < faults.len(),
            "run {run} on {store:?}: {ended:?}"
        );
    }
}

#[test]
fn a_windowed_count_moves_between_the_stores_and_gives_sparks_rows() {
    use FaultPoint::{AfterOffsetsWrite, BeforeCommit, DuringSinkWrite};
    use StateStoreKind::{Disk, Memory};
    let cases: [Case; 3] = [
        (
            &[Memory, Disk, Memory],
            &[(BeforeCommit, 1), (BeforeCommit, 4)],
            "switch_count_mdm",
        ),
        (
            &[Disk, Memory, Disk],
            &[(DuringSinkWrite, 2), (AfterOffsetsWrite, 3)],
            "switch_count_dmd",
        ),
        (
            &[Disk, Disk, Memory],
            &[(BeforeCommit, 0), (BeforeCommit, 5)],
            "switch_count_ddm",
        ),
    ];
    for (stores, faults, name) in cases {
        run_switching(tumbling_count, name, stores, faults);
        assert_eq!(
            emitted(name),
            expected_rows("tumbling_count.update.mft1.batches.jsonl"),
            "{stores:?} {faults:?}"
        );
    }
}

#[test]
fn a_deduplication_moves_between_the_stores_and_gives_sparks_rows() {
    use FaultPoint::{BeforeCommit, DuringSinkWrite};
    use StateStoreKind::{Disk, Memory};
    let cases: [Case; 2] = [
        (
            &[Disk, Memory, Disk],
            &[(BeforeCommit, 2), (DuringSinkWrite, 4)],
            "switch_dedup_dmd",
        ),
        (
            &[Memory, Disk, Disk],
            &[(BeforeCommit, 3), (BeforeCommit, 5)],
            "switch_dedup_mdd",
        ),
    ];
    for (stores, faults, name) in cases {
        run_switching(dedup, name, stores, faults);
        assert_eq!(
            emitted(name),
            expected_rows("dedup.append.mft1.batches.jsonl"),
            "{stores:?} {faults:?}"
        );
    }
}
