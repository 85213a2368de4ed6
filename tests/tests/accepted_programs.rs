//! Programs Spark accepts that `stream!` once refused (issue 22, item 1), run end to end on
//! a memory stream, each against the rows Spark gives, worked out by hand from Spark's
//! semantics in the comments.

use stream_core::types::{TimestampMs, TimestampUs};
use stream_core::{MemoryStream, Schema, StreamingQueryManager, stream};
use tests::runtime;

#[derive(Schema, Clone)]
struct Click {
    ts: TimestampMs,
    page: String,
}

const SECOND: i64 = 1_000;
const DAY: i64 = 86_400 * SECOND;

fn click(ms: i64, page: &str) -> Click {
    Click {
        ts: TimestampMs(ms),
        page: page.into(),
    }
}

/// Spark's interval strings in `window(..)` and `with_watermark(..)`: units in any case,
/// compound intervals, a leading `interval`. A 90 s window (`"1 Minute 30 Seconds"`) with
/// a 30 s delay (`"INTERVAL 30 seconds"`), in append mode.
#[test]
fn compound_and_capitalised_intervals_in_a_window_and_a_watermark() {
    let clicks = MemoryStream::of::<Click>();
    let checkpoint = tempfile::tempdir().unwrap();
    let query = stream! {
        schema Click = Click;
        read(memory, stream = {clicks.clone()}, schema = Click)
            .with_watermark(ts, "INTERVAL 30 seconds")
            .group_by(window(ts, "1 Minute 30 Seconds"), page)
            .agg(count() as views)
            .write(memory, name = "accepted_compound_intervals")
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
    // windows [0, 90 s), [90 s, 180 s), [180 s, 270 s); the watermark becomes 190 - 30 =
    // 160 s: [0, 90 s) closes (its end 90 s <= 160 s), written once
    step(&[
        click(10 * SECOND, "/a"),
        click(80 * SECOND, "/a"),
        click(100 * SECOND, "/a"),
        click(190 * SECOND, "/b"),
    ]);
    let rows = || {
        let mut rows: Vec<(i64, i64, String, i64)> = query
            .rows()
            .unwrap()
            .into_iter()
            .map(|r| {
                (
                    r.window_start.0 / SECOND,
                    r.window_end.0 / SECOND,
                    r.page,
                    r.views,
                )
            })
            .collect();
        rows.sort();
        rows
    };
    assert_eq!(rows(), [(0, 90, "/a".to_string(), 2)]);
    // 300 s moves it to 270 s: [90 s, 180 s) of /a and [180 s, 270 s) of /b close (their
    // ends are at or before it); 20 s is late (against 160 s) and dropped
    step(&[click(300 * SECOND, "/a"), click(20 * SECOND, "/a")]);
    rt.block_on(query.stop());
    assert_eq!(
        rows(),
        [
            (0, 90, "/a".to_string(), 2),
            (90, 180, "/a".to_string(), 1),
            (180, 270, "/b".to_string(), 1),
        ]
    );
    // the delay was read as 30 s: the watermark is 300 - 30
    let last = query.recent_progress().last().cloned().unwrap();
    assert_eq!(tests::watermark_seconds(&last.event_time["watermark"]), 270);
}

/// Weeks and days in `window(..)`: a week-long window sliding by `"7 DAYS"` and starting
/// `"interval 3 days"` after the epoch's (Spark's windows start at `start + k * slide`:
/// here on the Sundays, 1970-01-04 + 7k), in complete mode.
#[test]
fn weeks_and_days_in_a_window() {
    let clicks = MemoryStream::of::<Click>();
    clicks
        .add_rows(&[
            click(0, "/a"),
            click(3 * DAY, "/a"),
            click(8 * DAY + 5 * SECOND, "/a"),
            click(10 * DAY, "/a"),
        ])
        .unwrap();
    let checkpoint = tempfile::tempdir().unwrap();
    let query = stream! {
        schema Click = Click;
        read(memory, stream = {clicks.clone()}, schema = Click)
            .group_by(window(ts, "1 Week", "7 DAYS", "interval 3 days"))
            .agg(count() as views)
            .write(memory, name = "accepted_week_windows")
            .output_mode(complete)
    }
    .manager(&StreamingQueryManager::new())
    .checkpoint_location(checkpoint.path())
    .start()
    .unwrap();
    let rt = runtime();
    rt.block_on(query.process_all_available()).unwrap();
    rt.block_on(query.stop());
    let mut rows: Vec<(i64, i64, i64)> = query
        .rows()
        .unwrap()
        .into_iter()
        .map(|r| (r.window_start.0 / DAY, r.window_end.0 / DAY, r.views))
        .collect();
    rows.sort();
    // day 0 is in [-4, 3), days 3 and 8 in [3, 10), day 10 in [10, 17)
    assert_eq!(rows, [(-4, 3, 1), (3, 10, 2), (10, 17, 1)]);
}

#[derive(Schema, Clone)]
struct Reading {
    key: String,
    at: TimestampMs,
    seen: Option<TimestampMs>,
    text: String,
}

/// The readings of the timestamp tests: `at` in milliseconds, `text` parsed by
/// `to_timestamp` into microseconds.
fn readings() -> MemoryStream {
    let input = MemoryStream::of::<Reading>();
    let reading = |key: &str, at: i64, seen: Option<i64>, text: &str| Reading {
        key: key.into(),
        at: TimestampMs(at),
        seen: seen.map(TimestampMs),
        text: text.into(),
    };
    input
        .add_rows(&[
            // 2023-11-14T22:13:20.123Z against .123456: 456 µs earlier
            reading("a", 1_700_000_000_123, None, "2023-11-14T22:13:20.123456Z"),
            // the same instant in both units
            reading(
                "a",
                1_700_000_000_124,
                Some(1_600_000_000_000),
                "2023-11-14 22:13:20.124",
            ),
            // one millisecond before the midnight that `text` names
            reading("b", 1_699_919_999_999, None, "2023-11-14T00:00:00Z"),
            // `text` does not parse: null
            reading("b", 5, Some(7), "not a time"),
        ])
        .unwrap();
    input
}

/// Spark has one timestamp type: a `timestamp_ms` column compared with, coalesced with
/// or chosen beside `to_timestamp(..)`'s `timestamp_us` is widened to microseconds
/// (exactly: milliseconds times 1000), and a `date` beside a timestamp is its midnight.
#[test]
fn timestamps_of_two_units_compare_and_mix_in_microseconds() {
    let input = readings();
    let checkpoint = tempfile::tempdir().unwrap();
    let query = stream! {
        schema Reading = Reading;
        read(memory, stream = {input.clone()}, schema = Reading)
            .with_column(parsed, to_timestamp(text))
            .select(
                key,
                at < parsed as before,
                at == parsed as same,
                coalesce(seen, parsed) as first_known,
                when(at > parsed, at).otherwise(parsed) as later,
                to_date(text) <= at as after_midnight,
            )
            .write(memory, name = "accepted_timestamp_units")
    }
    .manager(&StreamingQueryManager::new())
    .checkpoint_location(checkpoint.path())
    .start()
    .unwrap();
    let rt = runtime();
    rt.block_on(query.process_all_available()).unwrap();
    rt.block_on(query.stop());
    let rows: Vec<_> = query
        .rows()
        .unwrap()
        .into_iter()
        .map(|r| {
            (
                r.key,
                r.before,
                r.same,
                r.first_known.map(|t: TimestampUs| t.0),
                r.later.map(|t: TimestampUs| t.0),
                r.after_midnight,
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            (
                "a".to_string(),
                Some(true),
                Some(false),
                Some(1_700_000_000_123_456),
                Some(1_700_000_000_123_456),
                Some(true),
            ),
            (
                "a".to_string(),
                Some(false),
                Some(true),
                Some(1_600_000_000_000_000),
                Some(1_700_000_000_124_000),
                Some(true),
            ),
            (
                "b".to_string(),
                Some(true),
                Some(false),
                Some(1_699_920_000_000_000),
                Some(1_699_920_000_000_000),
                Some(false),
            ),
            // a null condition counts as false in `when`: `otherwise` gives null
            ("b".to_string(), None, None, Some(7_000), None, None),
        ]
    );
}

/// `min` and `max` over timestamps of mixed units, grouped, in complete mode.
#[test]
fn min_and_max_over_timestamps_of_two_units() {
    let input = readings();
    let checkpoint = tempfile::tempdir().unwrap();
    let query = stream! {
        schema Reading = Reading;
        read(memory, stream = {input.clone()}, schema = Reading)
            .with_column(parsed, to_timestamp(text))
            .group_by(key)
            .agg(
                max(when(at > parsed, at).otherwise(parsed)) as latest,
                min(coalesce(seen, parsed)) as earliest,
            )
            .write(memory, name = "accepted_timestamp_units_agg")
            .output_mode(complete)
    }
    .manager(&StreamingQueryManager::new())
    .checkpoint_location(checkpoint.path())
    .start()
    .unwrap();
    let rt = runtime();
    rt.block_on(query.process_all_available()).unwrap();
    rt.block_on(query.stop());
    let mut rows: Vec<_> = query
        .rows()
        .unwrap()
        .into_iter()
        .map(|r| {
            (
                r.key,
                r.latest.map(|t: TimestampUs| t.0),
                r.earliest.map(|t: TimestampUs| t.0),
            )
        })
        .collect();
    rows.sort();
    assert_eq!(
        rows,
        [
            (
                "a".to_string(),
                Some(1_700_000_000_124_000),
                Some(1_600_000_000_000_000)
            ),
            // max skips the null of the unparsed row; min takes its `seen`, 7 ms
            ("b".to_string(), Some(1_699_920_000_000_000), Some(7_000)),
        ]
    );
}

#[derive(Schema, Clone)]
struct Signup {
    user: String,
    country: String,
}

#[derive(Schema, Clone)]
struct MaybeSignup {
    user: String,
    country: Option<String>,
}

/// A union whose columns differ only in nullability: the union's column is nullable (as
/// in Spark), and both sides' rows come through, the null among them; counted by country
/// in complete mode, the null country is a group of its own (Spark groups nulls together).
#[test]
fn a_union_of_a_column_nullable_on_one_side() {
    let sure = MemoryStream::of::<Signup>();
    let maybe = MemoryStream::of::<MaybeSignup>();
    sure.add_rows(&[
        Signup {
            user: "ann".into(),
            country: "fr".into(),
        },
        Signup {
            user: "bob".into(),
            country: "de".into(),
        },
    ])
    .unwrap();
    maybe
        .add_rows(&[
            MaybeSignup {
                user: "cid".into(),
                country: None,
            },
            MaybeSignup {
                user: "dan".into(),
                country: Some("fr".into()),
            },
            MaybeSignup {
                user: "eve".into(),
                country: None,
            },
        ])
        .unwrap();
    let rows_checkpoint = tempfile::tempdir().unwrap();
    let rows = stream! {
        schema Signup = Signup;
        schema MaybeSignup = MaybeSignup;
        let maybe = read(memory, stream = {maybe.clone()}, schema = MaybeSignup);
        read(memory, stream = {sure.clone()}, schema = Signup)
            .union(maybe)
            .write(memory, name = "accepted_union_nullable_rows")
    }
    .manager(&StreamingQueryManager::new())
    .checkpoint_location(rows_checkpoint.path())
    .start()
    .unwrap();
    let counts_checkpoint = tempfile::tempdir().unwrap();
    let counts = stream! {
        schema Signup = Signup;
        schema MaybeSignup = MaybeSignup;
        let sure = read(memory, stream = {sure.clone()}, schema = Signup);
        read(memory, stream = {maybe.clone()}, schema = MaybeSignup)
            .union(sure)
            .group_by(country)
            .agg(count() as signups)
            .write(memory, name = "accepted_union_nullable_counts")
            .output_mode(complete)
    }
    .manager(&StreamingQueryManager::new())
    .checkpoint_location(counts_checkpoint.path())
    .start()
    .unwrap();
    let rt = runtime();
    rt.block_on(rows.process_all_available()).unwrap();
    rt.block_on(counts.process_all_available()).unwrap();
    rt.block_on(rows.stop());
    rt.block_on(counts.stop());
    // the union's `country` is `Option<String>`, whichever side comes first
    let mut all: Vec<(String, Option<String>)> = rows
        .rows()
        .unwrap()
        .into_iter()
        .map(|r| (r.user, r.country))
        .collect();
    all.sort();
    let country = |c: &str| Some(c.to_string());
    assert_eq!(
        all,
        [
            ("ann".to_string(), country("fr")),
            ("bob".to_string(), country("de")),
            ("cid".to_string(), None),
            ("dan".to_string(), country("fr")),
            ("eve".to_string(), None),
        ]
    );
    let mut by_country: Vec<(Option<String>, i64)> = counts
        .rows()
        .unwrap()
        .into_iter()
        .map(|r| (r.country, r.signups))
        .collect();
    by_country.sort();
    assert_eq!(
        by_country,
        [(None, 2), (country("de"), 1), (country("fr"), 2)]
    );
}

#[derive(Schema, Clone)]
struct Narrow {
    id: i32,
    ts: TimestampMs,
}

#[derive(Schema, Clone)]
struct Wide {
    id: i64,
    ts: Option<TimestampUs>,
}

/// A union of columns whose types Spark widens to one (`i32` with `i64`, a millisecond
/// with a microsecond timestamp, which in Spark are one type): the union's columns are the
/// wider types, the narrow side's values converted exactly.
#[test]
fn a_union_widens_numbers_and_timestamps() {
    let narrow = MemoryStream::of::<Narrow>();
    let wide = MemoryStream::of::<Wide>();
    narrow
        .add_rows(&[Narrow {
            id: -7,
            ts: TimestampMs(1_700_000_000_123),
        }])
        .unwrap();
    wide.add_rows(&[
        Wide {
            id: 5_000_000_000,
            ts: Some(TimestampUs(1_700_000_000_123_456)),
        },
        Wide { id: 1, ts: None },
    ])
    .unwrap();
    let checkpoint = tempfile::tempdir().unwrap();
    let query = stream! {
        schema Narrow = Narrow;
        schema Wide = Wide;
        let wide = read(memory, stream = {wide.clone()}, schema = Wide);
        read(memory, stream = {narrow.clone()}, schema = Narrow)
            .union(wide)
            .filter(ts.is_null() || ts > to_timestamp("2023-11-14T22:13:20.123001Z"))
            .write(memory, name = "accepted_union_widened")
    }
    .manager(&StreamingQueryManager::new())
    .checkpoint_location(checkpoint.path())
    .start()
    .unwrap();
    let rt = runtime();
    rt.block_on(query.process_all_available()).unwrap();
    rt.block_on(query.stop());
    let mut rows: Vec<(i64, Option<i64>)> = query
        .rows()
        .unwrap()
        .into_iter()
        .map(|r| (r.id, r.ts.map(|t: TimestampUs| t.0)))
        .collect();
    rows.sort();
    // .123 ms is .123000, before .123001: filtered out; .123456 and the null stay
    assert_eq!(
        rows,
        [(1, None), (5_000_000_000, Some(1_700_000_000_123_456))]
    );
}

#[derive(Schema, Clone)]
struct Sale {
    page: String,
    amount: f64,
}

fn sale(page: &str, amount: f64) -> Sale {
    Sale {
        page: page.into(),
        amount,
    }
}

/// The three batches of the global-aggregation tests: one whose rows the filter drops
/// all, one with two sales, one whose rows are dropped again.
const SALES: [&[(&str, f64)]; 3] = [
    &[("/x", -1.0)],
    &[("/a", 2.5), ("/b", 1.5)],
    &[("/x", -3.0)],
];

/// A global aggregation (`agg(..)` without `group_by`), in complete mode, across a
/// restart. Spark's aggregate of no keys has one row whatever its input, so every batch
/// that runs writes it: with no rows yet, the aggregates of no rows (a count of 0, a null
/// sum and max); after the restart the state goes on from the checkpoint.
#[test]
fn a_global_aggregation_in_complete_mode() {
    let sales = MemoryStream::of::<Sale>();
    let checkpoint = tempfile::tempdir().unwrap();
    let table = "accepted_global_complete";
    let start = || {
        stream! {
            schema Sale = Sale;
            read(memory, stream = {sales.clone()}, schema = Sale)
                .filter(amount > 0.0)
                .agg(count() as n, sum(amount) as total, max(page) as top)
                .write(memory, name = {table})
                .output_mode(complete)
        }
        .manager(&StreamingQueryManager::new())
        .checkpoint_location(checkpoint.path())
        .start()
        .unwrap()
    };
    let rt = runtime();
    let mut query = start();
    // in complete mode the memory table holds the last batch's result table
    let mut written = Vec::new();
    for (i, rows) in SALES.iter().enumerate() {
        if i == 2 {
            rt.block_on(query.stop());
            query = start();
        }
        let rows: Vec<Sale> = rows.iter().map(|(p, a)| sale(p, *a)).collect();
        sales.add_rows(&rows).unwrap();
        rt.block_on(query.process_all_available()).unwrap();
        written.extend(tests::emitted(table));
    }
    rt.block_on(query.stop());
    assert_eq!(
        written,
        [
            r#"{"_batch":0,"n":0}"#,
            r#"{"_batch":1,"n":2,"top":"/b","total":4.0}"#,
            r#"{"_batch":2,"n":2,"top":"/b","total":4.0}"#,
        ]
    );
}

/// The same in update mode, written `group_by()`: Spark's aggregate of no keys sends its
/// one row to the state in every batch, so update mode writes it every batch too. The
/// state is one row, so no warning that it grows.
#[test]
fn a_global_aggregation_in_update_mode() {
    let sales = MemoryStream::of::<Sale>();
    let checkpoint = tempfile::tempdir().unwrap();
    let table = "accepted_global_update";
    let query = stream! {
        schema Sale = Sale;
        read(memory, stream = {sales.clone()}, schema = Sale)
            .filter(amount > 0.0)
            .group_by()
            .agg(count() as n, avg(amount) as mean)
            .with_column(big, mean > 1.0)
            .write(memory, name = {table})
            .output_mode(update)
    }
    .manager(&StreamingQueryManager::new())
    .checkpoint_location(checkpoint.path())
    .start()
    .unwrap();
    let rt = runtime();
    for rows in SALES {
        let rows: Vec<Sale> = rows.iter().map(|(p, a)| sale(p, *a)).collect();
        sales.add_rows(&rows).unwrap();
        rt.block_on(query.process_all_available()).unwrap();
    }
    rt.block_on(query.stop());
    assert_eq!(
        tests::emitted(table),
        [
            r#"{"_batch":0,"n":0}"#,
            r#"{"_batch":1,"big":true,"mean":2.0,"n":2}"#,
            r#"{"_batch":2,"big":true,"mean":2.0,"n":2}"#,
        ]
    );
    // one group in the state
    let last = query.recent_progress().last().cloned().unwrap();
    assert_eq!(last.state_operators[0].metrics.num_rows_total, 1);
}

/// An append-mode aggregation grouped by the watermarked column itself, as Spark runs
/// one: a row is late when its time is at or before the previous batch's watermark, and
/// the group of time `t` is written once, evicted, in the first batch whose watermark
/// has reached `t` (the key's time is compared with the watermark as a window's end is).
#[test]
fn append_mode_grouped_by_the_watermarked_column() {
    let clicks = MemoryStream::of::<Click>();
    let checkpoint = tempfile::tempdir().unwrap();
    let query = stream! {
        schema Click = Click;
        read(memory, stream = {clicks.clone()}, schema = Click)
            .with_watermark(ts, "10 seconds")
            .group_by(ts, page)
            .agg(count() as views)
            .write(memory, name = "accepted_group_by_event_time")
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
    // batch 0 at watermark 0: groups (5 s, /a) x2, (20 s, /a), (30 s, /b); the watermark
    // becomes 30 - 10 = 20 s, and the no-data batch 1 writes the groups at or before it:
    // 5 s and 20 s
    step(&[
        click(5 * SECOND, "/a"),
        click(5 * SECOND, "/a"),
        click(20 * SECOND, "/a"),
        click(30 * SECOND, "/b"),
    ]);
    // against 20 s: 20 s is late (at the watermark), 21 s is not; 45 s moves it to 35 s:
    // (21 s, /a) and (30 s, /b) close
    step(&[
        click(20 * SECOND, "/a"),
        click(21 * SECOND, "/a"),
        click(45 * SECOND, "/a"),
    ]);
    rt.block_on(query.stop());
    let mut rows: Vec<(i64, String, i64)> = query
        .rows()
        .unwrap()
        .into_iter()
        .map(|r| (r.ts.0 / SECOND, r.page, r.views))
        .collect();
    rows.sort();
    assert_eq!(
        rows,
        [
            (5, "/a".to_string(), 2),
            (20, "/a".to_string(), 1),
            (21, "/a".to_string(), 1),
            (30, "/b".to_string(), 1),
        ]
    );
    let facts = tests::batch_facts(&query.recent_progress());
    // (batch, input rows, watermark s, rows written, late rows dropped, rows in state)
    assert_eq!(
        facts,
        [
            (0, 4, 0, 0, 0, 3),
            (1, 0, 20, 2, 0, 1),
            (2, 3, 20, 0, 1, 3),
            (3, 0, 35, 2, 0, 1),
        ]
    );
}

/// A stream that has no row yet runs no batch (Spark constructs a batch only for new
/// data), so a global aggregation over it writes nothing, not a row of count 0; its
/// first rows are batch 0.
#[test]
fn a_global_aggregation_of_a_stream_without_rows_writes_nothing() {
    let sales = MemoryStream::of::<Sale>();
    let checkpoint = tempfile::tempdir().unwrap();
    let table = "accepted_global_no_rows";
    let query = stream! {
        schema Sale = Sale;
        read(memory, stream = {sales.clone()}, schema = Sale)
            .agg(count() as n)
            .write(memory, name = {table})
            .output_mode(complete)
    }
    .manager(&StreamingQueryManager::new())
    .checkpoint_location(checkpoint.path())
    .start()
    .unwrap();
    let rt = runtime();
    rt.block_on(query.process_all_available()).unwrap();
    assert!(query.recent_progress().is_empty());
    assert!(tests::emitted(table).is_empty());
    // then rows: `count()` reads no column, and counts them
    sales
        .add_rows(&[sale("/a", 1.0), sale("/b", -2.0)])
        .unwrap();
    rt.block_on(query.process_all_available()).unwrap();
    rt.block_on(query.stop());
    assert_eq!(tests::emitted(table), [r#"{"_batch":0,"n":2}"#]);
}
