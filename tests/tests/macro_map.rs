//! `map` / `flat_map` with Rust closures and fns over typed rows, and query results read
//! back as the generated row struct (`TypedQuery::rows`).

use stream_core::types::TimestampMs;
use stream_core::{MemoryStream, Schema, StreamError, StreamingQueryManager, stream};
use tests::{run_to_end, runtime};

/// A click, as the source holds it.
#[derive(Schema, Clone, Debug, PartialEq)]
struct Click {
    ts: TimestampMs,
    user: String,
    amount: Option<f64>,
    tags: Option<String>,
}

/// What `enrich` makes of a click.
#[derive(Schema, Clone, Debug, PartialEq)]
struct Enriched {
    user: String,
    cents: Option<i64>,
    big: bool,
}

fn enrich(click: Click) -> Enriched {
    let cents = click.amount.map(|a| (a * 100.0).round() as i64);
    Enriched {
        user: click.user.to_uppercase(),
        cents,
        big: cents.is_some_and(|c| c >= 5_000),
    }
}

fn clicks() -> MemoryStream {
    let input = MemoryStream::of::<Click>();
    input
        .add_rows(&[
            Click {
                ts: TimestampMs(1_000),
                user: "ann".into(),
                amount: Some(12.5),
                tags: Some("new mobile".into()),
            },
            Click {
                ts: TimestampMs(2_000),
                user: "bob".into(),
                amount: None,
                tags: None,
            },
            Click {
                ts: TimestampMs(3_000),
                user: "cy".into(),
                amount: Some(80.0),
                tags: Some("vip".into()),
            },
        ])
        .unwrap();
    input
}

#[test]
fn a_fn_maps_derived_rows_and_the_result_comes_back_as_the_users_struct() {
    let input = clicks();
    let query = run_to_end(stream! {
        schema Click = Click;
        schema Enriched = Enriched;
        read(memory, stream = {input}, schema = Click)
            .map(Enriched, enrich)
            .write(memory, name = "map_fn_enriched")
            .trigger(available_now)
    });
    // the output has exactly `Enriched`'s columns: the rows are `Enriched` values
    let rows: Vec<Enriched> = query.rows().unwrap();
    assert_eq!(
        rows,
        vec![
            Enriched {
                user: "ANN".into(),
                cents: Some(1_250),
                big: false
            },
            Enriched {
                user: "BOB".into(),
                cents: None,
                big: false
            },
            Enriched {
                user: "CY".into(),
                cents: Some(8_000),
                big: true
            },
        ]
    );
}

#[test]
fn a_closure_over_an_inline_schema_builds_the_inline_struct_and_columns_follow_it() {
    let input = clicks();
    let threshold = 10.0;
    let query = run_to_end(stream! {
        schema Click { ts: timestamp_ms, user: string, amount: Option<f64>, tags: Option<string> }
        schema Scored { user: string, score: f64, seconds: i64 }
        read(memory, stream = {input}, schema = Click)
            .map(Scored, move |c| Scored {
                user: c.user,
                score: c.amount.unwrap_or(0.0) - threshold,
                seconds: c.ts.0 / 1_000,
            })
            // the DSL goes on over the function's columns
            .filter(score > 0.0)
            .select(user, score * 2.0 as doubled, seconds)
            .write(memory, name = "map_closure_scored")
            .trigger(available_now)
    });
    // no block schema has (user, doubled, seconds): the rows are a generated struct
    let rows = query.rows().unwrap();
    let got: Vec<(String, f64, i64)> = rows
        .into_iter()
        .map(|r| (r.user, r.doubled, r.seconds))
        .collect();
    assert_eq!(got, vec![("ann".into(), 5.0, 1), ("cy".into(), 140.0, 3)]);
}

#[test]
fn flat_map_emits_zero_or_more_rows_per_input_row() {
    let input = clicks();
    let query = run_to_end(stream! {
        schema Click = Click;
        schema Tag { user: string, tag: string }
        read(memory, stream = {input}, schema = Click)
            .flat_map(Tag, |c| {
                let user = c.user;
                c.tags
                    .unwrap_or_default()
                    .split_whitespace()
                    .map(|t| Tag { user: user.clone(), tag: t.to_string() })
                    .collect::<Vec<_>>()
            })
            .write(memory, name = "flat_map_tags")
            .trigger(available_now)
    });
    let rows = query.rows().unwrap();
    let got: Vec<(String, String)> = rows.into_iter().map(|t| (t.user, t.tag)).collect();
    assert_eq!(
        got,
        vec![
            ("ann".into(), "new".into()),
            ("ann".into(), "mobile".into()),
            ("cy".into(), "vip".into()),
        ]
    );
}

#[test]
fn a_map_after_a_projection_takes_a_generated_row_of_the_projected_columns() {
    let input = clicks();
    let query = run_to_end(stream! {
        schema Click = Click;
        schema Out { label: string }
        read(memory, stream = {input}, schema = Click)
            .filter(amount.is_not_null())
            .select(user, amount * 2.0 as doubled)
            // `r` is the generated row of (user, doubled): its types come from the DSL
            .map(Out, |r| Out { label: format!("{}={:.1}", r.user, r.doubled.unwrap_or(-1.0)) })
            .write(memory, name = "map_after_select")
            .trigger(available_now)
    });
    let labels: Vec<String> = query.rows().unwrap().into_iter().map(|o| o.label).collect();
    assert_eq!(labels, ["ann=25.0", "cy=160.0"]);
}

#[test]
fn a_map_runs_on_every_branch_of_a_union() {
    let first = clicks();
    let second = MemoryStream::of::<Click>();
    second
        .add_rows(&[Click {
            ts: TimestampMs(9_000),
            user: "dee".into(),
            amount: Some(50.0),
            tags: None,
        }])
        .unwrap();
    let query = run_to_end(stream! {
        schema Click = Click;
        schema Enriched = Enriched;
        let a = read(memory, stream = {first}, schema = Click);
        let b = read(memory, stream = {second}, schema = Click);
        a.union(b)
            .map(Enriched, enrich)
            .filter(big)
            .write(memory, name = "map_union")
            .trigger(available_now)
    });
    let mut users: Vec<String> = query.rows().unwrap().into_iter().map(|e| e.user).collect();
    users.sort();
    assert_eq!(users, ["CY", "DEE"]);
}

#[test]
fn a_panicking_function_fails_the_query_with_an_error_and_does_not_take_the_process_down() {
    let input = clicks();
    let checkpoint = tempfile::tempdir().unwrap();
    let query = stream! {
        schema Click = Click;
        schema Enriched = Enriched;
        read(memory, stream = {input}, schema = Click)
            .map(Enriched, |c| {
                if c.amount.is_none() {
                    panic!("no amount for {}", c.user);
                }
                enrich(c)
            })
            .write(memory, name = "map_panics")
            .trigger(available_now)
    }
    .manager(&StreamingQueryManager::new())
    .checkpoint_location(checkpoint.path())
    .start()
    .unwrap();
    let err = runtime().block_on(query.await_termination()).unwrap_err();
    assert!(
        matches!(
            &*err,
            StreamError::TaskPanicked { .. } | StreamError::QueryPanicked { .. }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("no amount for bob"), "{err}");
    // nothing of the failed batch reached the sink
    assert!(query.rows().unwrap().is_empty());
}

#[test]
fn rows_of_a_query_that_writes_elsewhere_is_an_error_that_says_so() {
    // a block writing elsewhere has no output row (`rows()` would not compile); given
    // one by hand, `rows()` says where rows can be read from
    let input = clicks();
    let query = run_to_end(
        stream! {
            schema Click = Click;
            read(memory, stream = {input}, schema = Click)
                .write(foreach_batch, f = {|_: u64, _: &[arrow_array::RecordBatch]| {
                    Ok::<(), std::convert::Infallible>(())
                }})
                .trigger(available_now)
        }
        .output_row::<Click>(),
    );
    let err = query.rows().unwrap_err().to_string();
    assert!(err.contains("memory sink"), "{err}");
}
