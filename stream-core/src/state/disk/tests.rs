//! The disk store against a model on real folders: random batches of every operation,
//! restarts at the last and at earlier versions, the time index, and the checkpoint read
//! by the in-memory store.

use std::collections::HashMap;
use std::path::Path;

use super::*;
use crate::Schema;
use crate::state::{HeapSize, StateStore, StateStoreKind};
use crate::types::TimestampMs;

#[derive(Schema, Clone, Debug, PartialEq, Eq, Hash)]
struct Key {
    user: String,
    window: TimestampMs,
}

impl HeapSize for Key {}

#[derive(Schema, Clone, Debug, PartialEq)]
struct Acc {
    count: i64,
    total: Option<f64>,
}

impl HeapSize for Acc {}

type Model = HashMap<Key, Acc>;

fn window_time(k: &Key, _: &Acc) -> Option<i64> {
    Some(k.window.0)
}

fn conf(snapshot_interval: u64) -> StateStoreConf {
    StateStoreConf {
        snapshot_interval,
        min_versions_to_retain: 1_000,
        kind: StateStoreKind::Disk,
        memory_bytes: 32 << 20,
        ..StateStoreConf::default()
    }
}

fn at(checkpoint: &Path) -> StateLocation<'_> {
    StateLocation {
        checkpoint,
        operator: "agg",
        partition: 0,
    }
}

fn open(
    checkpoint: &Path,
    version: Option<u64>,
    conf: &StateStoreConf,
    indexed: bool,
) -> DiskStore<Key, Acc> {
    let time = indexed.then_some(window_time as EntryTime<Key, Acc>);
    DiskStore::open_with_time(at(checkpoint), version, conf.clone(), time).unwrap()
}

fn contents<S: KeyedState<Key, Acc>>(store: &S) -> Model {
    let mut all = Model::new();
    store
        .scan(|k, v| {
            assert!(all.insert(k.clone(), v.clone()).is_none(), "{k:?} twice");
        })
        .unwrap();
    all
}

fn key(i: u64) -> Key {
    Key {
        user: format!("user-{i}"),
        window: TimestampMs((i % 13) as i64 * 1_000),
    }
}

struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

fn sorted(mut rows: Vec<(Key, Acc)>) -> Vec<(Key, Acc)> {
    rows.sort_by(|a, b| a.0.user.cmp(&b.0.user));
    rows
}

/// One random batch of operations on `store`, mirrored in `model`.
fn random_batch(store: &mut DiskStore<Key, Acc>, model: &mut Model, rng: &mut Rng) {
    for _ in 0..rng.below(30) {
        let k = key(rng.below(60));
        match rng.below(12) {
            0..=2 => {
                let a = Acc {
                    count: rng.below(100) as i64,
                    total: Some(1.5),
                };
                store.put(k.clone(), a.clone()).unwrap();
                model.insert(k, a);
            }
            3..=4 => {
                store
                    .update(
                        k.clone(),
                        || Acc {
                            count: 0,
                            total: None,
                        },
                        |a| a.count += 1,
                    )
                    .unwrap();
                model
                    .entry(k)
                    .or_insert(Acc {
                        count: 0,
                        total: None,
                    })
                    .count += 1;
            }
            5 => {
                let a = Acc {
                    count: -1,
                    total: None,
                };
                let inserted = store.insert_if_absent(k.clone(), a.clone()).unwrap();
                assert_eq!(inserted, !model.contains_key(&k));
                model.entry(k).or_insert(a);
            }
            6..=7 => assert_eq!(store.remove(&k).unwrap(), model.remove(&k)),
            8 if rng.below(2) == 0 => assert_eq!(store.get(&k).unwrap(), model.get(&k).cloned()),
            8 => {
                // several keys at once, some repeated: each as one insert_if_absent
                let entries: Vec<(Key, Acc)> = (0..rng.below(8))
                    .map(|n| {
                        (
                            key(rng.below(60)),
                            Acc {
                                count: n as i64,
                                total: None,
                            },
                        )
                    })
                    .collect();
                let inserted = store.insert_all_if_absent(entries.clone()).unwrap();
                let expected: Vec<bool> = entries
                    .into_iter()
                    .map(|(k, a)| match model.entry(k) {
                        std::collections::hash_map::Entry::Occupied(_) => false,
                        std::collections::hash_map::Entry::Vacant(e) => {
                            e.insert(a);
                            true
                        }
                    })
                    .collect();
                assert_eq!(inserted, expected);
            }
            9 => {
                let until = rng.below(13) as i64 * 1_000;
                let gone = sorted(store.remove_expired(window_time, until).unwrap());
                let expected = sorted(model.extract_if(|k, _| k.window.0 <= until).collect());
                assert_eq!(gone, expected);
            }
            10 => {
                let until = rng.below(13) as i64 * 1_000;
                let went = store.drop_expired(window_time, until).unwrap();
                let before = model.len();
                model.retain(|k, _| k.window.0 > until);
                assert_eq!(went, before - model.len());
            }
            _ => {
                let m = 2 + rng.below(4);
                let gone = sorted(
                    store
                        .remove_where(|_, a| (a.count as u64).is_multiple_of(m))
                        .unwrap(),
                );
                let expected = sorted(
                    model
                        .extract_if(|_, a| (a.count as u64).is_multiple_of(m))
                        .collect(),
                );
                assert_eq!(gone, expected);
            }
        }
        assert_eq!(store.len(), model.len());
    }
}

#[test]
fn property_every_version_equals_the_model_in_both_stores() {
    for (seed, interval, indexed) in [(1, 3, true), (0x5EED, 1, false), (0xDEAD_BEEF, 7, true)] {
        let checkpoint = tempfile::tempdir().unwrap();
        let conf = conf(interval);
        let mut rng = Rng(seed);
        let mut store = open(checkpoint.path(), None, &conf, indexed);
        let mut model = Model::new();
        let mut models: Vec<Model> = Vec::new();
        for v in 0..50u64 {
            random_batch(&mut store, &mut model, &mut rng);
            let metrics = store.commit(v).unwrap();
            assert_eq!(
                metrics.num_rows_total,
                model.len() as u64,
                "seed {seed} v {v}"
            );
            assert_eq!(contents(&store), model, "seed {seed} version {v}");
            models.push(model.clone());
            match rng.below(6) {
                // the next batch starts: the version reaches the database
                0..=2 => store.prepare().unwrap(),
                // a restart at the last version
                3 => {
                    drop(store);
                    store = open(checkpoint.path(), Some(v), &conf, indexed);
                }
                // the last batch is run again (its commit was not recorded): from v - 1
                4 if v > 0 => {
                    store.prepare().unwrap();
                    drop(store);
                    store = open(checkpoint.path(), Some(v - 1), &conf, indexed);
                    model = models[v as usize - 1].clone();
                    models.pop();
                    assert_eq!(contents(&store), model, "seed {seed} back to {}", v - 1);
                    random_batch(&mut store, &mut model, &mut rng);
                    store.commit(v).unwrap();
                    models.push(model.clone());
                }
                _ => {}
            }
            assert_eq!(contents(&store), model, "seed {seed} after version {v}");
        }
        drop(store);
        // the checkpoint is the in-memory store's too, at every version
        for (v, model) in models.iter().enumerate() {
            let memory = <StateStore<Key, Acc> as KeyedState<_, _>>::open(
                at(checkpoint.path()),
                Some(v as u64),
                StateStoreConf {
                    kind: StateStoreKind::Memory,
                    ..conf.clone()
                },
            )
            .unwrap();
            assert_eq!(&contents(&memory), model, "seed {seed} memory store at {v}");
        }
        // and the disk store rebuilds any of them from it
        for v in [0, 17, 49] {
            let store = open(checkpoint.path(), Some(v), &conf, indexed);
            assert_eq!(
                contents(&store),
                models[v as usize],
                "seed {seed} rebuilt {v}"
            );
        }
    }
}

#[test]
fn a_memory_store_checkpoint_is_taken_over_by_the_disk_store_and_back() {
    let checkpoint = tempfile::tempdir().unwrap();
    let memory_conf = StateStoreConf {
        kind: StateStoreKind::Memory,
        ..conf(3)
    };
    let mut memory = <StateStore<Key, Acc> as KeyedState<_, _>>::open(
        at(checkpoint.path()),
        None,
        memory_conf.clone(),
    )
    .unwrap();
    for i in 0..20 {
        KeyedState::put(
            &mut memory,
            key(i),
            Acc {
                count: i as i64,
                total: None,
            },
        )
        .unwrap();
    }
    KeyedState::commit(&mut memory, 0).unwrap();
    let mut disk = open(checkpoint.path(), Some(0), &conf(3), true);
    assert_eq!(disk.len(), 20);
    disk.remove(&key(3)).unwrap();
    disk.commit(1).unwrap();
    drop(disk);
    let memory = <StateStore<Key, Acc> as KeyedState<_, _>>::open(
        at(checkpoint.path()),
        Some(1),
        memory_conf,
    )
    .unwrap();
    assert_eq!(KeyedState::len(&memory), 19);
    assert_eq!(KeyedState::get(&memory, &key(3)).unwrap(), None);
}

#[test]
fn a_working_copy_that_is_not_the_checkpoints_version_is_rebuilt() {
    let checkpoint = tempfile::tempdir().unwrap();
    let conf = conf(100);
    let mut store = open(checkpoint.path(), None, &conf, false);
    store
        .put(
            key(1),
            Acc {
                count: 1,
                total: None,
            },
        )
        .unwrap();
    store.commit(0).unwrap();
    store.prepare().unwrap();
    drop(store);
    // an earlier run's delta of version 0 replaced by another (as a restored checkpoint)
    let mut other = <StateStore<Key, Acc> as KeyedState<_, _>>::open(
        at(checkpoint.path()),
        None,
        StateStoreConf {
            kind: StateStoreKind::Memory,
            ..conf.clone()
        },
    )
    .unwrap();
    KeyedState::put(
        &mut other,
        key(2),
        Acc {
            count: 2,
            total: None,
        },
    )
    .unwrap();
    KeyedState::commit(&mut other, 0).unwrap();
    let store = open(checkpoint.path(), Some(0), &conf, false);
    assert_eq!(
        contents(&store),
        Model::from([(
            key(2),
            Acc {
                count: 2,
                total: None
            }
        )])
    );
}

#[test]
fn eviction_by_time_reads_only_the_expired_entries_through_the_index() {
    let checkpoint = tempfile::tempdir().unwrap();
    let conf = conf(10);
    let mut store = open(checkpoint.path(), None, &conf, true);
    for i in 0..1_000 {
        store
            .put(
                key(i),
                Acc {
                    count: 1,
                    total: None,
                },
            )
            .unwrap();
    }
    store.commit(0).unwrap();
    store.prepare().unwrap();
    // the index holds one entry per row, in time order
    let indexed = store.space().prefix([TIME]).count();
    assert_eq!(indexed, 1_000);
    let first = store.space().prefix([TIME]).next().unwrap().key().unwrap();
    let key_of_first: Key = decode(&first[9..]).unwrap();
    assert_eq!(key_of_first.window, TimestampMs(0));
    let gone = store.remove_expired(window_time, 0).unwrap();
    assert_eq!(gone.len(), 1_000 / 13 + 1, "the keys of window 0");
    store.commit(1).unwrap();
    store.prepare().unwrap();
    assert_eq!(store.space().prefix([TIME]).count(), 1_000 - gone.len());
    assert_eq!(store.len(), 1_000 - gone.len());
}
