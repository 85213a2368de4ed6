//! Spark's watermark rules, batch by batch: late input is dropped against the previous
//! batch's watermark, windows are emitted and evicted against the current one, and a
//! batch without input follows a batch that moved the watermark.

use stream_core::types::TimestampMs;
use stream_core::{MemoryStream, Schema, StreamingQueryManager, stream};
use tests::{batch_facts, runtime, watermark_seconds};

#[derive(Schema, Clone)]
struct Click {
    ts: TimestampMs,
    page: String,
}

fn at(minute: i64, second: i64) -> TimestampMs {
    TimestampMs((minute * 60 + second) * 1_000)
}

fn click(ts: TimestampMs, page: &str) -> Click {
    Click {
        ts,
        page: page.into(),
    }
}

#[test]
fn late_rows_meet_the_previous_watermark_and_windows_close_on_the_current_one() {
    let clicks = MemoryStream::of::<Click>();
    let checkpoint = tempfile::tempdir().unwrap();
    let query = stream! {
        schema Click = Click;
        read(memory, stream = {clicks.clone()}, schema = Click)
            .with_watermark(ts, "1 minute")
            .group_by(window(ts, "1 minute"), page)
            .agg(count() as views)
            .write(memory, name = "watermark_rules_append")
            .output_mode(append)
    }
    .manager(&StreamingQueryManager::new())
    .checkpoint_location(checkpoint.path())
    .start()
    .unwrap();
    let rt = runtime();
    let step = |rows: &[Click]| {
        clicks.add_rows(rows).unwrap();
        rt.block_on(query.process_all_available()).unwrap();
    };
    step(&[
        click(at(0, 10), "/a"),
        click(at(0, 50), "/a"),
        click(at(1, 5), "/b"),
    ]);
    step(&[click(at(2, 30), "/a")]);
    // 00:20 belongs to [00:00, 01:00), which ended before the previous watermark (01:30)
    step(&[click(at(0, 20), "/a"), click(at(3, 45), "/c")]);
    // 01:50 is in [01:00, 02:00), which ended before the previous watermark (02:45)
    step(&[click(at(1, 50), "/b"), click(at(2, 50), "/a")]);
    rt.block_on(query.stop());

    assert_eq!(
        batch_facts(&query.recent_progress()),
        [
            // batch 0 runs at watermark 0; its max event time 01:05 makes the next 00:05
            (0, 3, 0, 0, 0, 2),
            // the watermark moved: a batch without input; nothing ends by 00:05
            (1, 0, 5, 0, 0, 2),
            (2, 1, 5, 0, 0, 3),
            // 02:30 moved it to 01:30: [00:00, 01:00) of /a closes, once
            (3, 0, 90, 1, 0, 2),
            // late against 01:30 (the previous batch's): 00:20; the rest is kept
            (4, 2, 90, 0, 1, 3),
            // 03:45 moved it to 02:45: [01:00, 02:00) of /b closes
            (5, 0, 165, 1, 0, 2),
            // late against 02:45: 01:50 of /b; 02:50 of /a joins [02:00, 03:00)
            (6, 2, 165, 0, 1, 2),
        ]
    );
    let mut rows: Vec<(i64, String, i64)> = query
        .rows()
        .unwrap()
        .into_iter()
        .map(|r| (r.window_start.0 / 1_000, r.page, r.views))
        .collect();
    rows.sort();
    assert_eq!(rows, [(0, "/a".to_string(), 2), (60, "/b".to_string(), 1)]);
}

/// The watermark after one batch in which input `a` reached 10:00 and input `b` 05:00.
fn watermark_of_two_inputs(max_policy: bool) -> i64 {
    let (a, b) = (MemoryStream::of::<Click>(), MemoryStream::of::<Click>());
    let checkpoint = tempfile::tempdir().unwrap();
    let builder = if max_policy {
        stream! {
            schema Click = Click;
            let b = read(memory, stream = {b.clone()}, schema = Click).with_watermark(ts, "0 seconds");
            read(memory, stream = {a.clone()}, schema = Click)
                .with_watermark(ts, "0 seconds")
                .union(b)
                .group_by(window(ts, "1 minute"), page)
                .agg(count() as views)
                .write(memory, name = "watermark_policy_max")
                .watermark_policy(max)
        }
        .untyped()
    } else {
        stream! {
            schema Click = Click;
            let b = read(memory, stream = {b.clone()}, schema = Click).with_watermark(ts, "0 seconds");
            read(memory, stream = {a.clone()}, schema = Click)
                .with_watermark(ts, "0 seconds")
                .union(b)
                .group_by(window(ts, "1 minute"), page)
                .agg(count() as views)
                .write(memory, name = "watermark_policy_min")
        }
        .untyped()
    };
    // both inputs' rows before the start, so that one batch sees both (a watermark
    // operator that has seen no rows yet does not count)
    a.add_rows(&[click(at(10, 0), "/a")]).unwrap();
    b.add_rows(&[click(at(5, 0), "/b")]).unwrap();
    let query = builder
        .manager(&StreamingQueryManager::new())
        .checkpoint_location(checkpoint.path())
        .start()
        .unwrap();
    let rt = runtime();
    rt.block_on(query.process_all_available()).unwrap();
    rt.block_on(query.stop());
    let last = query.last_progress().unwrap();
    watermark_seconds(&last.event_time["watermark"])
}

#[test]
fn several_watermarks_take_the_slowest_input_or_by_option_the_fastest() {
    assert_eq!(watermark_of_two_inputs(false), 5 * 60);
    assert_eq!(watermark_of_two_inputs(true), 10 * 60);
}
