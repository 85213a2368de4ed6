//! `drop_duplicates_within_watermark(user)`, batch by batch: a key passes once while the
//! watermark has not passed its first event time plus the delay; then it is forgotten and
//! passes again. Input at or below the previous batch's watermark is dropped as late.

use stream_core::types::TimestampMs;
use stream_core::{MemoryStream, Schema, StreamingQueryManager, stream};
use tests::{batch_facts, runtime};

#[derive(Schema, Clone)]
struct Login {
    user: String,
    ts: TimestampMs,
}

fn login(user: &str, seconds: i64) -> Login {
    Login {
        user: user.into(),
        ts: TimestampMs(seconds * 1_000),
    }
}

#[test]
fn a_key_passes_once_until_the_watermark_passes_its_first_time_plus_the_delay() {
    let logins = MemoryStream::of::<Login>();
    let checkpoint = tempfile::tempdir().unwrap();
    let query = stream! {
        schema Login = Login;
        read(memory, stream = {logins.clone()}, schema = Login)
            .with_watermark(ts, "1 minute")
            .drop_duplicates_within_watermark(user)
            .write(memory, name = "dedup_within_watermark")
            .output_mode(append)
    }
    .manager(&StreamingQueryManager::new())
    .checkpoint_location(checkpoint.path())
    .start()
    .unwrap();
    let rt = runtime();
    let step = |rows: &[Login]| {
        logins.add_rows(rows).unwrap();
        rt.block_on(query.process_all_available()).unwrap();
    };
    // the watermark stays 0 (00:30 minus a minute is before it): no batch without input
    step(&[login("ann", 10), login("ann", 20), login("bob", 30)]);
    // ann again (kept until 00:10 + 1 minute): dropped; the watermark moves to 01:00
    step(&[login("ann", 60), login("carl", 120)]);
    // ann's 01:10 is still ahead of the watermark 01:00: dropped; then the watermark
    // moves to 02:00
    step(&[login("ann", 90), login("dave", 180)]);
    // ann (01:10) and bob (01:30) were forgotten at 02:00: ann passes again; bob's
    // 01:59 is late against 02:00; carl (until 03:00) is still a duplicate
    step(&[login("ann", 150), login("bob", 119), login("carl", 130)]);
    rt.block_on(query.stop());

    assert_eq!(
        batch_facts(&query.recent_progress()),
        [
            // (batch, input rows, watermark s, rows written, dropped as late, keys kept)
            (0, 3, 0, 2, 0, 2),
            (1, 2, 0, 1, 0, 3),
            // the watermark moved to 01:00: nothing expires by then (ann 01:10)
            (2, 0, 60, 0, 0, 3),
            (3, 2, 60, 1, 0, 4),
            // 02:00: ann (01:10) and bob (01:30) expire
            (4, 0, 120, 0, 0, 2),
            (5, 3, 120, 1, 1, 3),
        ]
    );
    let rows: Vec<(String, i64)> = query
        .rows()
        .unwrap()
        .into_iter()
        .map(|r| (r.user, r.ts.0 / 1_000))
        .collect();
    let mut sorted = rows.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        [
            ("ann".to_string(), 10),
            ("ann".to_string(), 150),
            ("bob".to_string(), 30),
            ("carl".to_string(), 120),
            ("dave".to_string(), 180),
        ]
    );
}
