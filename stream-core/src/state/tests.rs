//! The store end to end on real folders: round trips, restarts, re-runs after a crash,
//! retention, damaged files, changed schemas, metrics, and a model-checked random run.

use std::collections::HashMap;
use std::fs;
use std::mem::size_of;
use std::path::{Path, PathBuf};

use super::layout::FileKind;
use super::*;
use crate::types::TimestampMs;
use crate::{Schema, StreamError};

#[derive(Schema, Clone, Debug, PartialEq, Eq, Hash)]
struct Key {
    user: String,
    window: TimestampMs,
}

impl HeapSize for Key {
    fn heap_size(&self) -> usize {
        self.user.heap_size() + self.window.heap_size()
    }
}

#[derive(Schema, Clone, Debug, PartialEq)]
struct Acc {
    count: i64,
    total: Option<f64>,
    last: String,
}

impl HeapSize for Acc {
    fn heap_size(&self) -> usize {
        self.count.heap_size() + self.total.heap_size() + self.last.heap_size()
    }
}

type Store = StateStore<Key, Acc>;
type Model = HashMap<Key, Acc>;

const OP: &str = "agg";

fn conf(snapshot_interval: u64, min_versions_to_retain: u64) -> StateStoreConf {
    StateStoreConf {
        snapshot_interval,
        min_versions_to_retain,
        ..StateStoreConf::default()
    }
}

fn load(checkpoint: &Path, version: Option<u64>, conf: &StateStoreConf) -> crate::Result<Store> {
    StateStore::load(checkpoint, OP, 0, version, conf.clone())
}

fn key(i: u64) -> Key {
    Key {
        user: format!("user-{i}"),
        window: TimestampMs(i as i64 * 1_000),
    }
}

fn acc(n: i64) -> Acc {
    Acc {
        count: n,
        total: (n % 3 != 0).then(|| n as f64 / 2.0),
        last: "x".repeat(n.unsigned_abs() as usize % 5),
    }
}

fn contents(store: &Store) -> Model {
    store.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

fn partition_dir(checkpoint: &Path) -> PathBuf {
    checkpoint.join("state").join(OP).join("0")
}

fn file(checkpoint: &Path, version: u64, kind: FileKind) -> PathBuf {
    let ext = match kind {
        FileKind::Delta => "delta",
        FileKind::Snapshot => "snapshot",
    };
    partition_dir(checkpoint).join(format!("{version}.{ext}"))
}

/// The file names in the partition folder, sorted by version then name.
fn names(checkpoint: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(partition_dir(checkpoint))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort_by_key(|n| {
        let (v, ext) = n.split_once('.').unwrap_or((n, ""));
        (v.parse::<u64>().unwrap_or(u64::MAX), ext.to_string())
    });
    names
}

/// The message of a corrupt-checkpoint error about exactly `path`.
fn corrupt_about(err: StreamError, path: &Path) -> String {
    match err {
        StreamError::CorruptCheckpoint { path: p, message } if p == path => message,
        other => panic!("expected a corrupt checkpoint error about {path:?}, got {other:?}"),
    }
}

/// A batch's worth of changes, deterministic in `v`: a new key, an update of an older
/// one in place, and now and then a removal.
fn batch(store: &mut Store, v: u64) {
    store.put(key(v), acc(v as i64));
    if let Some(a) = store.get_mut(&key(v / 2)) {
        a.count += 1;
        a.last.push('y');
    }
    if v.is_multiple_of(5) && v >= 3 {
        store.remove(&key(v - 3));
    }
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Commits versions `0..versions` of [`batch`], returning the state after each.
fn run(checkpoint: &Path, conf: &StateStoreConf, versions: u64) -> Vec<Model> {
    let mut store = load(checkpoint, None, conf).unwrap();
    (0..versions)
        .map(|v| {
            batch(&mut store, v);
            store.commit(v).unwrap();
            contents(&store)
        })
        .collect()
}

#[test]
fn commit_and_load_round_trip_over_many_versions_with_snapshots_and_deltas() {
    let checkpoint = tempfile::tempdir().unwrap();
    let conf = conf(4, 1_000);
    let models = run(checkpoint.path(), &conf, 30);
    let expected: Vec<String> = (0..30)
        .flat_map(|v| {
            let mut n = vec![format!("{v}.delta")];
            if v % 4 == 3 {
                n.push(format!("{v}.snapshot"));
            }
            n
        })
        .collect();
    assert_eq!(names(checkpoint.path()), expected);
    for (v, model) in models.iter().enumerate() {
        let store = load(checkpoint.path(), Some(v as u64), &conf).unwrap();
        assert_eq!(store.version(), Some(v as u64));
        assert_eq!(&contents(&store), model, "version {v}");
    }
    assert_eq!(models[29].len(), 30 - 5, "keys 2, 7, ..., 22 were removed");
    assert!(
        checkpoint
            .path()
            .join("state/agg/_metadata/schema")
            .is_file()
    );
}

#[test]
fn a_query_restarts_from_every_version_and_goes_on() {
    let original = tempfile::tempdir().unwrap();
    let conf = conf(3, 1_000);
    let models = run(original.path(), &conf, 20);
    for v in 0..20u64 {
        let checkpoint = tempfile::tempdir().unwrap();
        copy_dir(original.path(), checkpoint.path());
        let mut store = load(checkpoint.path(), Some(v), &conf).unwrap();
        assert_eq!(contents(&store), models[v as usize], "loaded {v}");
        store.put(key(1_000 + v), acc(7));
        store.remove(&key(v));
        store.commit(v + 1).unwrap();
        let mut expected = models[v as usize].clone();
        expected.insert(key(1_000 + v), acc(7));
        expected.remove(&key(v));
        let reloaded = load(checkpoint.path(), Some(v + 1), &conf).unwrap();
        assert_eq!(contents(&reloaded), expected, "after restart at {v}");
        // the abandoned run's later versions are gone, not left to be misread
        assert!(!file(checkpoint.path(), v + 2, FileKind::Delta).exists());
        assert!(
            (v + 2..20).all(|l| !file(checkpoint.path(), l, FileKind::Snapshot).exists()),
            "restart at {v}"
        );
    }
}

#[test]
fn removed_keys_stay_removed_after_reload_across_snapshots() {
    let checkpoint = tempfile::tempdir().unwrap();
    let conf = conf(3, 1_000);
    let mut store = load(checkpoint.path(), None, &conf).unwrap();
    let (a, b, c) = (key(1), key(2), key(3));
    for k in [&a, &b, &c] {
        store.put(k.clone(), acc(1));
    }
    store.commit(0).unwrap();
    store.remove(&a);
    store.commit(1).unwrap();
    assert_eq!(store.remove_where(|k, _| k == &b).len(), 1);
    let m = store.commit(2).unwrap(); // snapshot
    assert_eq!((m.num_rows_total, m.num_rows_removed), (1, 1));
    assert!(file(checkpoint.path(), 2, FileKind::Snapshot).exists());
    store.put(a.clone(), acc(2));
    store.remove(&c);
    store.commit(3).unwrap();
    store.remove(&a);
    store.commit(4).unwrap();

    let keys = |v: u64| {
        let mut k: Vec<String> = load(checkpoint.path(), Some(v), &conf)
            .unwrap()
            .iter()
            .map(|(k, _)| k.user.clone())
            .collect();
        k.sort();
        k
    };
    assert_eq!(keys(0), ["user-1", "user-2", "user-3"]);
    assert_eq!(keys(1), ["user-2", "user-3"]);
    assert_eq!(keys(2), ["user-3"]);
    assert_eq!(keys(3), ["user-1"]);
    assert!(keys(4).is_empty());
}

#[test]
fn a_batch_rerun_after_a_crash_replaces_that_versions_files() {
    let checkpoint = tempfile::tempdir().unwrap();
    // the first run writes 0..=3, with a snapshot at 3, then "crashes" before commits/3
    run(checkpoint.path(), &conf(4, 1_000), 4);
    assert!(file(checkpoint.path(), 3, FileKind::Snapshot).exists());

    // the re-run of batch 3 computes other rows (say the sink's view differs) and
    // snapshots less often: the old snapshot of version 3 must not survive
    let conf = conf(10, 1_000);
    let mut store = load(checkpoint.path(), Some(2), &conf).unwrap();
    let before = contents(&store);
    store.put(key(99), acc(99));
    store.commit(3).unwrap();
    assert!(!file(checkpoint.path(), 3, FileKind::Snapshot).exists());
    let mut expected = before.clone();
    expected.insert(key(99), acc(99));
    assert_eq!(
        contents(&load(checkpoint.path(), Some(3), &conf).unwrap()),
        expected
    );

    // and with a snapshot due again, the snapshot is replaced too
    let conf4 = self::conf(4, 1_000);
    let mut store = load(checkpoint.path(), Some(2), &conf4).unwrap();
    store.put(key(98), acc(98));
    store.commit(3).unwrap();
    let mut expected = before;
    expected.insert(key(98), acc(98));
    fs::remove_file(file(checkpoint.path(), 2, FileKind::Delta)).unwrap();
    assert_eq!(
        contents(&load(checkpoint.path(), Some(3), &conf4).unwrap()),
        expected,
        "read from the new snapshot alone"
    );
    assert!(
        names(checkpoint.path())
            .iter()
            .all(|n| !n.ends_with(".tmp")),
        "no temp files left"
    );
}

#[test]
fn a_first_batch_rerun_replaces_version_0_and_later_state_without_a_commit_is_refused() {
    let checkpoint = tempfile::tempdir().unwrap();
    let conf = conf(10, 1_000);
    run(checkpoint.path(), &conf, 1); // batch 0 wrote its state, no commits/0
    let mut store = load(checkpoint.path(), None, &conf).unwrap();
    assert!(store.is_empty(), "no committed batch: empty");
    store.put(key(5), acc(5));
    store.commit(0).unwrap();
    assert_eq!(
        contents(&load(checkpoint.path(), Some(0), &conf).unwrap()),
        Model::from([(key(5), acc(5))])
    );

    store.commit(1).unwrap();
    let err = load(checkpoint.path(), None, &conf).unwrap_err();
    let message = corrupt_about(err, &file(checkpoint.path(), 1, FileKind::Delta));
    assert!(message.contains("no committed batch"), "{message}");
}

#[test]
fn commit_must_follow_the_loaded_version() {
    let checkpoint = tempfile::tempdir().unwrap();
    let conf = conf(10, 1_000);
    let mut store = load(checkpoint.path(), None, &conf).unwrap();
    let err = store.commit(1).unwrap_err().to_string();
    assert!(
        err.contains("holds version none and can commit version 0, not 1"),
        "{err}"
    );
    store.commit(0).unwrap();
    assert!(store.commit(0).is_err(), "version 0 is committed already");
    store.commit(1).unwrap();
}

#[test]
fn retention_keeps_exactly_the_files_the_retained_versions_need() {
    let checkpoint = tempfile::tempdir().unwrap();
    let conf = conf(3, 4);
    let models = run(checkpoint.path(), &conf, 13);
    // snapshots at 2, 5, 8, 11; versions 9..=12 retained, rebuilt from snapshot 8
    assert_eq!(
        names(checkpoint.path()),
        [
            "8.snapshot",
            "9.delta",
            "10.delta",
            "11.delta",
            "11.snapshot",
            "12.delta"
        ]
    );
    for v in 8..=12u64 {
        let store = load(checkpoint.path(), Some(v), &conf).unwrap();
        assert_eq!(contents(&store), models[v as usize], "version {v}");
    }
    let err = load(checkpoint.path(), Some(7), &conf).unwrap_err();
    let message = corrupt_about(err, &file(checkpoint.path(), 0, FileKind::Delta));
    assert!(
        message.contains("is missing: state version 7 is rebuilt from the deltas 0..=7"),
        "{message}"
    );
}

#[test]
fn retention_keeps_everything_while_fewer_versions_than_retained_exist() {
    let checkpoint = tempfile::tempdir().unwrap();
    let conf = StateStoreConf {
        snapshot_interval: 2,
        ..StateStoreConf::default()
    };
    run(checkpoint.path(), &conf, 20);
    assert_eq!(names(checkpoint.path()).len(), 20 + 10);
}

/// Commits three versions (a snapshot at 1 when `interval` is 2) and returns the
/// checkpoint.
fn three_versions(interval: u64) -> (tempfile::TempDir, StateStoreConf) {
    let checkpoint = tempfile::tempdir().unwrap();
    let conf = conf(interval, 1_000);
    run(checkpoint.path(), &conf, 3);
    (checkpoint, conf)
}

#[test]
fn a_damaged_byte_in_a_delta_is_a_checksum_error_naming_it() {
    let (checkpoint, conf) = three_versions(100);
    let path = file(checkpoint.path(), 1, FileKind::Delta);
    let mut bytes = fs::read(&path).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    fs::write(&path, bytes).unwrap();
    let message = corrupt_about(load(checkpoint.path(), Some(2), &conf).unwrap_err(), &path);
    assert!(message.contains("fails its checksum"), "{message}");
    // versions before the damaged one still load
    load(checkpoint.path(), Some(0), &conf).unwrap();
}

#[test]
fn a_truncated_snapshot_is_reported_truncated_naming_it() {
    let (checkpoint, conf) = three_versions(2);
    let path = file(checkpoint.path(), 1, FileKind::Snapshot);
    let bytes = fs::read(&path).unwrap();
    fs::write(&path, &bytes[..bytes.len() - 10]).unwrap();
    let message = corrupt_about(load(checkpoint.path(), Some(2), &conf).unwrap_err(), &path);
    assert!(message.contains("is truncated"), "{message}");
}

#[test]
fn an_unknown_format_version_is_refused_naming_the_file() {
    let (checkpoint, conf) = three_versions(100);
    let path = file(checkpoint.path(), 0, FileKind::Delta);
    let mut bytes = fs::read(&path).unwrap();
    bytes[1] = b'7';
    fs::write(&path, bytes).unwrap();
    match load(checkpoint.path(), Some(2), &conf).unwrap_err() {
        StreamError::UnsupportedCheckpointVersion { path: p, found, .. } => {
            assert_eq!((p, found.as_str()), (path, "v7"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_missing_delta_in_the_chain_is_reported_naming_it() {
    let (checkpoint, conf) = three_versions(100);
    let path = file(checkpoint.path(), 1, FileKind::Delta);
    fs::remove_file(&path).unwrap();
    let message = corrupt_about(load(checkpoint.path(), Some(2), &conf).unwrap_err(), &path);
    assert!(message.starts_with("is missing"), "{message}");
    // after a snapshot, the missing delta is the one after it
    let (checkpoint, conf) = three_versions(2);
    let path = file(checkpoint.path(), 2, FileKind::Delta);
    fs::remove_file(&path).unwrap();
    let message = corrupt_about(load(checkpoint.path(), Some(2), &conf).unwrap_err(), &path);
    assert!(
        message.contains("rebuilt from snapshot 1 and the deltas 2..=2"),
        "{message}"
    );
}

#[test]
fn state_files_without_the_schema_file_are_refused() {
    let (checkpoint, conf) = three_versions(100);
    let schema = checkpoint.path().join("state/agg/_metadata/schema");
    fs::remove_file(&schema).unwrap();
    let message = corrupt_about(
        load(checkpoint.path(), Some(2), &conf).unwrap_err(),
        &schema,
    );
    assert!(message.contains("is missing while"), "{message}");
}

#[derive(Schema, Clone, Debug, PartialEq)]
struct AccWithExtra {
    count: i64,
    total: Option<f64>,
    last: String,
    extra: i32,
}
impl HeapSize for AccWithExtra {}

#[derive(Schema, Clone, Debug, PartialEq)]
struct AccRetyped {
    count: f64,
    total: Option<f64>,
    last: String,
}
impl HeapSize for AccRetyped {}

#[derive(Schema, Clone, Debug, PartialEq, Eq, Hash)]
struct KeyWithoutWindow {
    user: String,
}
impl HeapSize for KeyWithoutWindow {}

fn schema_error<K, V>(checkpoint: &Path) -> String
where
    K: crate::types::TypedRow + HeapSize + std::hash::Hash + Eq + Clone,
    V: crate::types::TypedRow + HeapSize + Clone,
{
    match StateStore::<K, V>::load(checkpoint, OP, 0, Some(2), StateStoreConf::default()) {
        Err(StreamError::StateSchemaMismatch {
            operator,
            path,
            message,
        }) => {
            assert_eq!(operator, OP);
            assert_eq!(path, checkpoint.join("state/agg/_metadata/schema"));
            message
        }
        Err(other) => panic!("expected a schema mismatch, got {other:?}"),
        Ok(_) => panic!("expected a schema mismatch, the state loaded"),
    }
}

#[test]
fn a_changed_key_or_value_schema_is_refused_naming_the_column() {
    let (checkpoint, _) = three_versions(100);
    assert_eq!(
        schema_error::<Key, AccWithExtra>(checkpoint.path()),
        "value column `extra` (Int32 not null) was added"
    );
    assert_eq!(
        schema_error::<Key, AccRetyped>(checkpoint.path()),
        "value column `count` changed type from Int64 to Float64"
    );
    let message = schema_error::<KeyWithoutWindow, Acc>(checkpoint.path());
    assert!(
        message.starts_with("key column `window` (Timestamp(")
            && message.ends_with(") was removed"),
        "{message}"
    );
    let shown = StateStore::<Key, AccRetyped>::load(
        checkpoint.path(),
        OP,
        0,
        Some(2),
        StateStoreConf::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(
        shown.starts_with("the state of operator `agg` in `")
            && shown.ends_with("use a new checkpoint location"),
        "{shown}"
    );
}

#[test]
fn metrics_match_hand_computed_numbers() {
    assert_eq!(
        (
            size_of::<Key>(),
            size_of::<Acc>(),
            size_of::<super::tracked::Slot<Acc>>()
        ),
        (32, 48, 56),
        "64-bit layout: a value and its change mark"
    );
    let slot = 32 + 56 + 1;
    let checkpoint = tempfile::tempdir().unwrap();
    let conf = conf(10, 1_000);
    let mut store = load(checkpoint.path(), None, &conf).unwrap();
    let k = |user: &str| Key {
        user: String::from(user),
        window: TimestampMs(0),
    };
    let a = |count: i64, last: &str| Acc {
        count,
        total: None,
        last: String::from(last),
    };

    // batch 0: three new groups, one updated twice more; a key added and removed again
    store.put(k("ann"), a(1, "a"));
    store.put(k("bob"), a(2, "bb"));
    store.put(k("cy"), a(3, ""));
    store.get_or_insert_with(k("ann"), || a(0, "")).count += 1;
    store.put(k("tmp"), a(9, "tmp"));
    assert!(store.remove(&k("tmp")).is_some());
    let m = store.commit(0).unwrap();
    assert_eq!(store.map.capacity(), 7, "hashbrown: 8 buckets after 4 keys");
    // heap: ann 3 + 1, bob 3 + 2, cy 2 + 0
    assert_eq!(
        (
            m.num_rows_total,
            m.num_rows_updated,
            m.num_rows_removed,
            m.memory_used_bytes
        ),
        (3, 3, 0, 7 * slot + 11)
    );
    assert_eq!(
        (m.num_shuffle_partitions, m.num_state_store_instances),
        (1, 1)
    );
    assert_eq!(
        (
            m.num_rows_dropped_by_watermark,
            m.all_updates_time_ms,
            m.all_removals_time_ms
        ),
        (0, 0, 0)
    );
    assert!(m.commit_time_ms < 60_000);

    // batch 1: bob's last grows to 10 bytes (heap 5 -> 13), cy goes (-2)
    store.get_mut(&k("bob")).unwrap().last = String::from("bbbbbbbbbb");
    assert!(store.get_mut(&k("nobody")).is_none());
    assert!(store.remove(&k("nobody")).is_none());
    store.remove(&k("cy"));
    let m = store.commit(1).unwrap();
    assert_eq!(
        (
            m.num_rows_total,
            m.num_rows_updated,
            m.num_rows_removed,
            m.memory_used_bytes
        ),
        (2, 1, 1, 7 * slot + 17)
    );

    // batch 2: ann evicted; batch 3: nothing
    assert_eq!(store.retain(|k, _| k.user != "ann"), 1);
    let m = store.commit(2).unwrap();
    assert_eq!(
        (m.num_rows_total, m.num_rows_updated, m.num_rows_removed),
        (1, 0, 1)
    );
    assert_eq!(m.memory_used_bytes, 7 * slot + 13);
    let m = store.commit(3).unwrap();
    assert_eq!(
        (m.num_rows_total, m.num_rows_updated, m.num_rows_removed),
        (1, 0, 0)
    );

    // a reloaded store counts the same heap bytes
    let reloaded = load(checkpoint.path(), Some(3), &conf).unwrap();
    assert_eq!(reloaded.map.heap_bytes, 13);

    // summed over two partitions, as the operator reports them
    let sum: StateOperatorMetrics = [m, m].into_iter().sum();
    assert_eq!((sum.num_rows_total, sum.num_shuffle_partitions), (2, 2));
}

#[test]
fn partitions_and_operators_keep_separate_state() {
    let checkpoint = tempfile::tempdir().unwrap();
    let mut stores: Vec<Store> = [("agg", 0), ("agg", 1), ("dedup", 0)]
        .iter()
        .map(|&(op, p)| {
            StateStore::load(checkpoint.path(), op, p, None, StateStoreConf::default()).unwrap()
        })
        .collect();
    for (i, store) in stores.iter_mut().enumerate() {
        store.put(key(i as u64), acc(i as i64));
        store.commit(0).unwrap();
    }
    for (i, &(op, p)) in [("agg", 0), ("agg", 1), ("dedup", 0)].iter().enumerate() {
        let store: Store =
            StateStore::load(checkpoint.path(), op, p, Some(0), StateStoreConf::default()).unwrap();
        assert_eq!(
            contents(&store),
            Model::from([(key(i as u64), acc(i as i64))])
        );
    }
    assert!(
        checkpoint
            .path()
            .join("state/dedup/_metadata/schema")
            .is_file()
    );
}

/// xorshift64*: a fixed pseudo-random sequence, so a failure is reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Random puts, in-place updates, removals, evictions and retains over a small key space,
/// mirrored in a plain map; restarts from the last version now and then. Returns the
/// model after each version. With `scan`, the store stops listing its changed keys
/// after the first few of a batch and its commit scans the table for them.
fn random_run(
    checkpoint: &Path,
    conf: &StateStoreConf,
    seed: u64,
    versions: u64,
    scan: bool,
) -> Vec<Model> {
    let mut rng = Rng(seed);
    let scanning = |mut store: StateStore<Key, Acc>| {
        if scan {
            store.map.list_at_most = 2;
        }
        store
    };
    let mut store = scanning(load(checkpoint, None, conf).unwrap());
    let mut model = Model::new();
    let mut models = Vec::new();
    for v in 0..versions {
        for _ in 0..rng.below(12) {
            let k = key(rng.below(40));
            match rng.below(10) {
                0..=3 => {
                    let a = acc(rng.below(100) as i64);
                    assert_eq!(store.put(k.clone(), a.clone()), model.insert(k, a));
                }
                4..=5 => {
                    let a = store.get_or_insert_with(k.clone(), || acc(0));
                    a.count += 1;
                    a.last.push('z');
                    let m = model.entry(k).or_insert_with(|| acc(0));
                    m.count += 1;
                    m.last.push('z');
                }
                6 => {
                    if let Some(a) = store.get_mut(&k) {
                        a.total = None;
                    }
                    if let Some(m) = model.get_mut(&k) {
                        m.total = None;
                    }
                }
                7..=8 => assert_eq!(store.remove(&k), model.remove(&k)),
                _ if rng.below(2) == 0 => {
                    let modulus = 2 + rng.below(5) as i64;
                    let went = store.retain(|k, _| k.window.0 % modulus != 0);
                    let before = model.len();
                    model.retain(|k, _| k.window.0 % modulus != 0);
                    assert_eq!(went, before - model.len());
                }
                _ => {
                    let modulus = 2 + rng.below(5);
                    let mut evicted = store.remove_where(|k, _| k.window.0 % modulus as i64 == 0);
                    let mut expected: Vec<(Key, Acc)> = model
                        .extract_if(|k, _| k.window.0 % modulus as i64 == 0)
                        .collect();
                    evicted.sort_by(|a, b| a.0.user.cmp(&b.0.user));
                    expected.sort_by(|a, b| a.0.user.cmp(&b.0.user));
                    assert_eq!(evicted, expected);
                }
            }
        }
        let metrics = store.commit(v).unwrap();
        assert_eq!(metrics.num_rows_total, model.len() as u64);
        assert_eq!(contents(&store), model, "seed {seed} version {v} in memory");
        let heap: usize = store
            .iter()
            .map(|(k, a)| k.heap_size() + a.heap_size())
            .sum();
        assert_eq!(
            store.map.heap_bytes, heap,
            "running heap total, version {v}"
        );
        models.push(model.clone());
        if rng.below(8) == 0 {
            store = scanning(load(checkpoint, Some(v), conf).unwrap());
        }
    }
    models
}

#[test]
fn property_load_equals_the_model_at_every_version() {
    for (seed, scan) in [1, 0x5EED, 0xDEAD_BEEF]
        .into_iter()
        .flat_map(|seed| [(seed, false), (seed, true)])
    {
        let checkpoint = tempfile::tempdir().unwrap();
        let conf = conf(1 + seed % 7, 1_000);
        let models = random_run(checkpoint.path(), &conf, seed, 60, scan);
        for (v, model) in models.iter().enumerate() {
            let store = load(checkpoint.path(), Some(v as u64), &conf).unwrap();
            assert_eq!(
                &contents(&store),
                model,
                "seed {seed}, scan {scan}, version {v}"
            );
        }
    }
}

#[test]
fn property_retained_versions_load_equal_to_the_model() {
    for (seed, interval, retain) in [(7, 3, 5), (11, 1, 1), (13, 10, 4)] {
        let checkpoint = tempfile::tempdir().unwrap();
        let conf = conf(interval, retain);
        let models = random_run(checkpoint.path(), &conf, seed, 50, interval % 2 == 1);
        for v in 50 - retain..50 {
            let store = load(checkpoint.path(), Some(v), &conf).unwrap();
            assert_eq!(
                &contents(&store),
                &models[v as usize],
                "seed {seed}, version {v}"
            );
        }
        // at most: one snapshot per interval since the base, plus the deltas after it
        let files = names(checkpoint.path()).len() as u64;
        assert!(
            files <= retain + interval + retain / interval + 2,
            "seed {seed}: {files} files kept: {:?}",
            names(checkpoint.path())
        );
    }
}

#[test]
fn a_new_keys_heap_is_its_stored_strings_not_the_listed_copys() {
    // the store lists a copy of each new key, whose capacity is only its length: the
    // commit counts the stored key's capacity, so the running total matches a recount
    let checkpoint = tempfile::tempdir().unwrap();
    let conf = conf(10, 1_000);
    let mut store = load(checkpoint.path(), None, &conf).unwrap();
    let mut user = String::with_capacity(64);
    user.push_str("ann");
    let key = Key {
        user,
        window: TimestampMs(0),
    };
    store.put(key, acc(1));
    store.commit(0).unwrap();
    let heap: usize = store
        .iter()
        .map(|(k, a)| k.heap_size() + a.heap_size())
        .sum();
    assert!(heap >= 64, "{heap}");
    assert_eq!(store.map.heap_bytes, heap);
}

#[test]
fn a_key_removed_and_written_again_in_one_batch_is_an_update_not_a_removal() {
    let checkpoint = tempfile::tempdir().unwrap();
    let conf = conf(10, 1_000);
    let mut store = load(checkpoint.path(), None, &conf).unwrap();
    store.put(key(1), acc(1));
    store.put(key(2), acc(2));
    store.put(key(3), acc(3));
    store.commit(0).unwrap();

    // removed by key and by eviction, then 1 and 2 written again; 3 stays removed
    assert!(store.remove(&key(1)).is_some());
    assert_eq!(store.retain(|k, _| k == &key(1)), 2);
    store.put(key(1), acc(10));
    store.get_or_insert_with(key(2), || acc(20));
    let m = store.commit(1).unwrap();
    assert_eq!(
        (m.num_rows_total, m.num_rows_updated, m.num_rows_removed),
        (2, 2, 1)
    );

    // removals after the writes: nothing written comes back
    store.put(key(4), acc(4));
    assert_eq!(store.retain(|k, _| k == &key(4)), 2);
    let m = store.commit(2).unwrap();
    assert_eq!(
        (m.num_rows_total, m.num_rows_updated, m.num_rows_removed),
        (1, 1, 2)
    );
    let reloaded = load(checkpoint.path(), Some(2), &conf).unwrap();
    assert_eq!(contents(&reloaded), Model::from([(key(4), acc(4))]));
}
