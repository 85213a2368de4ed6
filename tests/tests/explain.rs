//! `StreamingQuery::explain()` of `stream!` queries: the compiled plan's tree, from the
//! sink down to the sources, with the operators in the order the block wrote them and
//! the inputs of a join of two streams and of a union as branches.

use stream_core::types::TimestampMs;
use stream_core::{MemoryStream, Schema, stream};
use tests::run_to_end;

#[derive(Schema, Clone)]
struct Payment {
    ts: TimestampMs,
    country: String,
    amount: f64,
}

fn payment(second: i64, country: &str, amount: f64) -> Payment {
    Payment {
        ts: TimestampMs(second * 1_000),
        country: country.into(),
        amount,
    }
}

/// The line of `text` that starts, after the tree's prefix (`+- `, `:- `, `:  `), with
/// `operator`, and how deep it is (the prefix's length).
fn line_of(text: &str, operator: &str) -> (usize, usize) {
    text.lines()
        .enumerate()
        .find_map(|(i, line)| {
            let body = line.trim_start_matches([' ', ':', '+', '-']);
            body.starts_with(operator)
                .then(|| (i, line.len() - body.len()))
        })
        .unwrap_or_else(|| panic!("no `{operator}` line in\n{text}"))
}

/// The index of the line of `text` that starts, after its indentation, with `start`
/// (a branch's mark included: `:- ` before an input that is not the last).
fn marked_line(text: &str, start: &str) -> usize {
    text.lines()
        .position(|line| line.trim_start().starts_with(start))
        .unwrap_or_else(|| panic!("no line `{start}` in\n{text}"))
}

/// Each operator on a line after the one before, one level deeper.
fn assert_chain(text: &str, operators: &[&str]) {
    let lines: Vec<(usize, usize)> = operators.iter().map(|op| line_of(text, op)).collect();
    for (pair, ops) in lines.windows(2).zip(operators.windows(2)) {
        assert_eq!(
            pair[1].0,
            pair[0].0 + 1,
            "`{}` right under `{}` in\n{text}",
            ops[1],
            ops[0]
        );
        assert!(
            pair[1].1 > pair[0].1,
            "`{}` deeper than `{}` in\n{text}",
            ops[1],
            ops[0]
        );
    }
}

#[test]
fn a_windowed_aggregation_explains_its_operators_in_order() {
    let payments = MemoryStream::of::<Payment>();
    payments
        .add_rows(&[
            payment(1, "DE", 20.0),
            payment(2, "DE", 5.0),
            payment(3, "FR", 30.0),
        ])
        .unwrap();
    let query = run_to_end(stream! {
        schema Payment = Payment;
        read(memory, stream = {payments.clone()}, schema = Payment)
            .filter(amount > 10.0)
            .with_watermark(ts, "5 seconds")
            .group_by(window(ts, "10 seconds"), country)
            .agg(count() as n, sum(amount) as total)
            .filter(n >= 1)
            .write(memory, name = "explain_windowed")
            .output_mode(update)
            .trigger(available_now)
    });
    let text = query.explain();
    assert_eq!(text.lines().next(), Some("== Compiled plan =="), "{text}");
    assert_chain(
        text,
        &[
            "Write memory \"explain_windowed\"",
            "Filter n >= 1",
            "Aggregate [window(ts, \"10 seconds\"), country] [count() as n, sum(amount) as total]",
            "Exchange hash [window_start, window_end, country], end of stage 0",
            "Watermark ts, delay \"5 seconds\"",
            "Filter amount > 10.0",
            "Read memory {payments.clone()} (ts: timestamp_ms, country: string, amount: f64)",
        ],
    );
    assert!(
        text.contains("output mode update, trigger available_now"),
        "{text}"
    );
    // the plan that ran: two rows passed the filter, one group each
    assert_eq!(query.rows().unwrap().len(), 2);
}

#[test]
fn joins_and_unions_explain_both_inputs_as_branches() {
    let left = MemoryStream::of::<Payment>();
    let right = MemoryStream::of::<Payment>();
    let query = run_to_end(stream! {
        schema Payment = Payment;
        let refunds = read(memory, stream = {right.clone()}, schema = Payment)
            .select(ts as refunded_at, country, amount as refunded)
            .with_watermark(refunded_at, "1 minute");
        read(memory, stream = {left.clone()}, schema = Payment)
            .with_watermark(ts, "1 minute")
            .join(refunds, on = country, within = "1 hour")
            .select(country, amount - refunded as net)
            .write(memory, name = "explain_join")
            .trigger(available_now)
    });
    let text = query.explain();
    let join = line_of(text, "StreamJoin inner on [country], within \"1 hour\"").0;
    // the two sides under the join: `:-` before the first, `+-` before the last
    let first = marked_line(text, ":- Exchange hash [country], end of stage 0");
    let second = marked_line(text, "+- Exchange hash [country], end of stage 0");
    assert!(join < first && first < second, "{text}");
    assert_chain(
        text,
        &[
            "Project [country, (amount - refunded) as net]",
            "StreamJoin",
        ],
    );
    // each side's own operators, down to its source, under its Exchange
    assert_chain(
        text,
        &[
            "Exchange hash [country], end of stage 0",
            "Watermark ts, delay \"1 minute\"",
            "Read memory {left.clone()}",
        ],
    );
    let right_side = [
        "Watermark refunded_at, delay \"1 minute\"",
        "Project [ts as refunded_at, country, amount as refunded]",
        "Read memory {right.clone()}",
    ];
    assert_chain(text, &right_side);
    assert_eq!(line_of(text, right_side[0]).0, second + 1, "{text}");

    let eu = MemoryStream::of::<Payment>();
    let us = MemoryStream::of::<Payment>();
    let query = run_to_end(stream! {
        schema Payment = Payment;
        let big_us = read(memory, stream = {us.clone()}, schema = Payment).filter(amount > 100.0);
        read(memory, stream = {eu.clone()}, schema = Payment)
            .union(big_us)
            .select(country)
            .write(memory, name = "explain_union")
            .trigger(available_now)
    });
    let text = query.explain();
    assert_chain(
        text,
        &[
            "Write memory",
            "Project [country]",
            "Union",
            "Read memory {eu.clone()}",
        ],
    );
    // the union's inputs: the stream it was called on, then `big_us`, the last
    let eu_read = marked_line(text, ":- Read memory {eu.clone()}");
    assert_eq!(
        marked_line(text, "+- Filter amount > 100.0"),
        eu_read + 1,
        "{text}"
    );
    // column pruning: the branch carries only what it reads from the memory stream
    assert_chain(
        text,
        &[
            "Filter amount > 100.0",
            "Project [country, amount]",
            "Read memory {us.clone()}",
        ],
    );
}
