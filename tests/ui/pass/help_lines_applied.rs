// The help lines of `ui/functions/timestamp_of_a_number.rs` and
// `ui/stateful/aggregate_inside_aggregation.rs`, applied as written, compile.
use stream_core::stream;

fn main() {
    dedup_then_drop();
    union_reordered();
    foreach_two_arguments();
    expression_after_agg();
    let _hour = stream! {
        schema Reading { sensor: string, read_at: f64 }
        read(json, path = "landing/", schema = Reading)
            .select(sensor, hour(to_timestamp(read_at as i64)) as h)
            .write(console)
    };
    let _window = stream! {
        schema Reading { sensor: string, read_at: f64 }
        read(json, path = "landing/", schema = Reading)
            .group_by(window(to_timestamp(read_at as i64), "1 minute"), sensor)
            .agg(count() as n)
            .write(console)
            .output_mode(update)
    };
    let _minute_of_an_expression = stream! {
        schema Reading { sensor: string, read_at: f64 }
        read(json, path = "landing/", schema = Reading)
            .select(sensor, minute(to_timestamp((read_at * 1000.0) as i64)) as m)
            .write(console)
    };
    let _key_moved_to_agg = stream! {
        schema Order { ts: timestamp_ms, user: string, amount: f64 }
        read(json, path = "landing/", schema = Order)
            .group_by(user)
            .agg(count() as n, max(amount) as max_amount)
            .write(console)
            .output_mode(update)
    };
}

// the help of `ui/stateful/dedup_within_watermark_column_dropped.rs`
fn dedup_then_drop() {
    let _dropped_after = stream! {
        schema Event { ts: timestamp_ms, user: string, id: i64 }
        read(json, path = "landing/", schema = Event)
            .with_watermark(ts, "10 minutes")
            .drop_duplicates_within_watermark(id)
            .drop(ts)
            .write(console)
    };
}

// the help of `ui/schema/union_columns_in_another_order.rs`
fn union_reordered() {
    let _query = stream! {
        schema Order { user: string, amount: f64 }
        schema Refund { amount: f64, user: string }
        let refunds = read(json, path = "refunds/", schema = Refund).select(user, amount);
        read(json, path = "orders/", schema = Order)
            .union(refunds)
            .write(memory, name = "all")
    };
}

// the help of `ui/sinks_and_options/foreach_batch_wrong_arity.rs`
fn foreach_two_arguments() {
    let _query = stream! {
        schema Order { user: string, amount: f64 }
        read(json, path = "landing/", schema = Order)
            .write(foreach_batch, f = {|_batch_id: u64, batches: &[stream_core::__private::arrow_array::RecordBatch]| {
                println!("{}", batches.len());
                Ok::<(), String>(())
            }})
    };
}

// the help of the expression of aggregates in `ui/stateful/aggregate_inside_aggregation.rs`
fn expression_after_agg() {
    let _mean = stream! {
        schema Order { ts: timestamp_ms, user: string, amount: f64 }
        read(json, path = "landing/", schema = Order)
            .with_watermark(ts, "10 minutes")
            .group_by(window(ts, "1 minute"), user)
            .agg(sum(amount) as sum_amount, count() as n)
            .with_column(mean, sum_amount / n)
            .write(console)
    };
}
