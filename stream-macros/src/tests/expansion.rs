use quote::quote;

use crate::expand::stream_inner;

/// The expansion, formatted, for a snapshot.
#[test]
fn a_float_literal_beyond_f64_is_an_error_not_a_panic() {
    let block = quote::quote! {
        schema S { x: f64, y: f32 }
        read(memory, stream = {input}, schema = S)
            .filter(x < 1e400)
            .write(memory, name = "big")
    };
    let errors = crate::tests::compile_errors(stream_inner(block));
    assert!(
        errors
            .iter()
            .any(|e| e.contains("`1e400` is too large for f64")),
        "{errors:?}"
    );
    // an f32 literal finite in f64 but not in f32: the cast is left to rustc (quoting
    // the infinite f32 panicked)
    let block = quote::quote! {
        schema S { x: f64, y: f32 }
        read(memory, stream = {input}, schema = S)
            .filter(y < 1e39f32)
            .write(memory, name = "big_f32")
    };
    let out = stream_inner(block);
    assert!(crate::tests::compile_errors(out.clone()).is_empty());
    assert!(out.to_string().contains("as f32"), "{out}");
}

fn expand(input: proc_macro2::TokenStream) -> String {
    let tokens = stream_inner(input);
    let file: syn::File =
        syn::parse2(quote!(fn __expansion() { let _ = #tokens; })).expect("expansion parses");
    prettyplease::unparse(&file)
}

#[test]
fn filter_and_select() {
    insta::assert_snapshot!(expand(quote! {
        schema Event { user: string, amount: f64, country: Option<string> }
        read(json, path = "landing/", schema = Event)
            .filter(amount > 50.0 && country == "DE")
            .select(user, amount * 2 as doubled)
            .write(console)
    }));
}

#[test]
fn pruned_json_pipeline() {
    // `id`, `country` and `note` are never read: the source decodes `user`, `amount` and
    // `qty` only (renumbered 0, 1, 2), and `with_column` computes only what `select` keeps
    insta::assert_snapshot!(expand(quote! {
        schema Order { id: i64, user: string, country: string, amount: f64, qty: i64, note: Option<string> }
        read(json, path = "landing/", schema = Order)
            .filter(amount > 50.0)
            .with_column(total, amount * qty)
            .select(user, total)
            .write(console)
    }));
}

#[test]
fn pruned_join_pipeline() {
    // the source reads `user`, `amount` and the key `country` only (`ts` and `page` are
    // never read); the join takes `user` and `amount` of the stream and `region` of the
    // table into its output (not the key, nothing reads it after the join), and the
    // table is still checked against the whole of `Region`, `zone` included
    insta::assert_snapshot!(expand(quote! {
        schema Event { ts: timestamp_ms, user: string, page: string, amount: f64, country: string }
        schema Region { country: string, region: string, zone: i64 }
        read(parquet, path = "landing/", schema = Event)
            .join({regions}, schema = Region, on = country)
            .select(user, amount, region)
            .write(console)
    }));
}

// ---- one snapshot per operator, source, sink and setting ----------------------------

#[test]
fn op_filter() {
    insta::assert_snapshot!(expand(quote! {
        schema Order { user: string, amount: Option<f64> }
        read(json, path = "landing/", schema = Order)
            .filter(amount > 10.0 || amount.is_null())
            .write(console)
    }));
}

#[test]
fn op_where() {
    insta::assert_snapshot!(expand(quote! {
        schema Order { user: string, qty: i64 }
        read(json, path = "landing/", schema = Order)
            .where_(!(qty < 2))
            .write(console)
    }));
}

#[test]
fn op_select_with_alias() {
    insta::assert_snapshot!(expand(quote! {
        schema Order { user: string, amount: f64, qty: i64 }
        read(json, path = "landing/", schema = Order)
            .select(qty, amount * qty as total, lower(user) as low)
            .write(console)
    }));
}

#[test]
fn op_with_column_new() {
    insta::assert_snapshot!(expand(quote! {
        schema Order { user: string, amount: f64, qty: i64 }
        read(json, path = "landing/", schema = Order)
            .with_column(total, amount * qty)
            .write(console)
    }));
}

#[test]
fn op_with_column_replace() {
    insta::assert_snapshot!(expand(quote! {
        schema Order { user: string, qty: i64 }
        read(json, path = "landing/", schema = Order)
            .with_column(qty, qty + 1)
            .write(console)
    }));
}

#[test]
fn op_with_column_renamed() {
    insta::assert_snapshot!(expand(quote! {
        schema Order { user: string, amount: f64 }
        read(json, path = "landing/", schema = Order)
            .with_column_renamed(amount, price)
            .write(console)
    }));
}

#[test]
fn op_drop() {
    insta::assert_snapshot!(expand(quote! {
        schema Order { user: string, amount: f64, country: string }
        read(json, path = "landing/", schema = Order)
            .drop(country)
            .write(console)
    }));
}

#[test]
fn op_union() {
    insta::assert_snapshot!(expand(quote! {
        schema Order { user: string, amount: f64 }
        let eu = read(json, path = "eu/", schema = Order);
        let us = read(json, path = "us/", schema = Order).filter(amount > 0.0);
        eu.union(us).write(console)
    }));
}

#[test]
fn op_join() {
    insta::assert_snapshot!(expand(quote! {
        schema Order { user: string, country: Option<string>, amount: f64 }
        schema Region { country: string, region: string }
        read(json, path = "landing/", schema = Order)
            .join({regions}, schema = Region, on = country, how = left)
            .select(user, region, amount)
            .write(console)
    }));
}

#[test]
fn op_stream_join() {
    insta::assert_snapshot!(expand(quote! {
        schema Impression { ad: i64, shown_at: timestamp_ms }
        schema Click { ad: Option<i64>, clicked_at: timestamp_us, user: string }
        let clicks = read(json, path = "clicks/", schema = Click)
            .with_watermark(clicked_at, "10 seconds");
        read(json, path = "impressions/", schema = Impression)
            .with_watermark(shown_at, "10 seconds")
            .join(clicks, on = ad, how = inner, within = "1 hour")
            .select(ad, user)
            .write(console)
    }));
}

#[test]
fn op_chained_aggregation() {
    insta::assert_snapshot!(expand(quote! {
        schema Bid { auction: i64, ts: timestamp_ms }
        read(memory, stream = {bids}, schema = Bid)
            .with_watermark(ts, "1 second")
            .group_by(window(ts, "10 seconds", "2 seconds"), auction)
            .agg(count() as num)
            .group_by(window_start, window_end)
            .agg(max_by(auction, num) as auction, max(num) as num)
            .write(console)
    }));
}

#[test]
fn op_global_aggregation() {
    insta::assert_snapshot!(expand(quote! {
        schema Sale { page: string, amount: f64 }
        read(memory, stream = {sales}, schema = Sale)
            .agg(count() as n, sum(amount) as total)
            .write(console)
            .output_mode(complete)
    }));
}

#[test]
fn op_aggregation_by_the_event_time() {
    insta::assert_snapshot!(expand(quote! {
        schema Click { ts: Option<timestamp_us>, page: string }
        read(memory, stream = {clicks}, schema = Click)
            .with_watermark(ts, "10 seconds")
            .group_by(ts, page)
            .agg(count() as views)
            .write(console)
    }));
}

#[test]
fn op_union_widened() {
    insta::assert_snapshot!(expand(quote! {
        schema Narrow { id: i32, ts: timestamp_ms, name: string }
        schema Wide { id: i64, ts: timestamp_us, name: Option<string> }
        let wide = read(json, path = "wide/", schema = Wide);
        read(json, path = "narrow/", schema = Narrow).union(wide).write(console)
    }));
}

#[test]
fn source_json() {
    insta::assert_snapshot!(expand(quote! {
        schema Order { user: string, amount: Option<f64> }
        read(json, path = "landing/", schema = Order, max_files_per_trigger = 2)
            .write(console)
    }));
}

#[test]
fn source_memory() {
    insta::assert_snapshot!(expand(quote! {
        schema Order { user: string, amount: Option<f64> }
        read(memory, stream = {input}, schema = Order)
            .write(console)
    }));
}

#[test]
fn source_rate() {
    insta::assert_snapshot!(expand(quote! {
        read(rate, rows_per_second = 10, num_partitions = 2)
            .write(console)
    }));
}

#[test]
fn source_kafka() {
    // the value decoded into `Event`'s columns, which come first; `headers` is kept by
    // name; the captured librdkafka settings fold into `option` calls
    insta::assert_snapshot!(expand(quote! {
        schema Event { user: Option<string>, amount: Option<f64>, _corrupt_record: Option<string> }
        read(kafka, bootstrap_servers = "127.0.0.1:9092", subscribe = "orders, payments",
             starting_offsets = r#"{"orders":{"0":23,"1":-2},"payments":{"0":-1}}"#,
             max_offsets_per_trigger = 1000, min_partitions = 4, fail_on_data_loss = false,
             include_headers = true, value_schema = Event, mode = permissive,
             kafka_options = {[("security.protocol", "SSL")]})
            .filter(amount > 50.0)
            .select(user, amount, key as string as user_key, headers)
            .write(console)
    }));
}

#[test]
fn sink_console() {
    insta::assert_snapshot!(expand(quote! {
        read(rate, rows_per_second = 1)
            .write(console, num_rows = 5, truncate = false)
    }));
}

#[test]
fn sink_parquet() {
    insta::assert_snapshot!(expand(quote! {
        schema Order { user: string, amount: f64, country: string }
        read(json, path = "landing/", schema = Order)
            .write(parquet, path = "out/orders", partition_by = [country],
                   compression = zstd, max_rows_per_file = 1000, retention = "7 days")
            .checkpoint("checkpoints/q")
    }));
}

#[test]
fn sink_json_and_csv() {
    insta::assert_snapshot!(expand(quote! {
        schema Order { user: string, amount: f64 }
        read(json, path = "landing/", schema = Order)
            .write(json, path = {out_dir}, target_file_size = 1048576, compact_interval = 5)
            .checkpoint("checkpoints/q")
    }));
    insta::assert_snapshot!(expand(quote! {
        schema Order { user: string, amount: f64 }
        read(json, path = "landing/", schema = Order)
            .write(csv, path = "out/orders")
            .checkpoint("checkpoints/q")
    }));
}

#[test]
fn sink_delta() {
    insta::assert_snapshot!(expand(quote! {
        schema Order { user: string, amount: f64, country: string }
        read(json, path = "landing/", schema = Order)
            .group_by(country)
            .agg(sum(amount) as total)
            .write(delta, path = "tables/totals", partition_by = country, app_id = "totals")
            .checkpoint("checkpoints/q")
            .output_mode(complete)
    }));
}

#[test]
fn sink_kafka() {
    // Spark's `CAST(value AS STRING)`; the servers and settings captured
    insta::assert_snapshot!(expand(quote! {
        read(kafka, bootstrap_servers = "127.0.0.1:9092", assign = r#"{"orders":[0,1]}"#,
             starting_offsets = earliest, include_headers = true)
            .select(key, cast(value as string) as value, headers)
            .write(kafka, bootstrap_servers = {servers}, topic = "alerts", exactly_once = true,
                   transactional_id = "orders-to-alerts", kafka_options = {settings.clone()})
            .checkpoint("checkpoints/q")
            .output_mode(update)
    }));
}

#[test]
fn sink_memory() {
    insta::assert_snapshot!(expand(quote! {
        read(rate, rows_per_second = 1)
            .write(memory, name = "ticks")
    }));
}

#[test]
fn sink_foreach_batch() {
    insta::assert_snapshot!(expand(quote! {
        read(rate, rows_per_second = 1)
            .write(foreach_batch, f = {|id, batches| { println!("{id}: {}", batches.len()); Ok::<(), String>(()) }})
    }));
}

#[test]
fn trigger_default() {
    insta::assert_snapshot!(expand(quote! {
        read(rate, rows_per_second = 1).write(console).trigger(default)
    }));
}

#[test]
fn trigger_once() {
    insta::assert_snapshot!(expand(quote! {
        read(rate, rows_per_second = 1).write(console).trigger(once)
    }));
}

#[test]
fn trigger_available_now() {
    insta::assert_snapshot!(expand(quote! {
        read(rate, rows_per_second = 1).write(console).trigger(available_now)
    }));
}

#[test]
fn trigger_processing_time() {
    insta::assert_snapshot!(expand(quote! {
        read(rate, rows_per_second = 1).write(console).trigger(processing_time("10 seconds"))
    }));
}

#[test]
fn trigger_processing_time_captured() {
    insta::assert_snapshot!(expand(quote! {
        read(rate, rows_per_second = 1).write(console).trigger(processing_time({interval}))
    }));
}

#[test]
fn output_mode_update() {
    insta::assert_snapshot!(expand(quote! {
        read(rate, rows_per_second = 1).write(console).output_mode(update)
    }));
}

#[test]
fn output_mode_complete() {
    insta::assert_snapshot!(expand(quote! {
        read(rate, rows_per_second = 1)
            .with_column(parity, value % 2)
            .group_by(parity)
            .agg(count() as n)
            .write(console)
            .output_mode(complete)
    }));
}

#[test]
fn op_window_aggregation() {
    // two stages: the map side folds each task's rows into partial aggregates per key
    // and routes them by the key's stable hash; the reduce side merges them into the
    // partition's state store and emits the windows the watermark closed
    insta::assert_snapshot!(expand(quote! {
        schema Event { ts: timestamp_ms, country: Option<string>, amount: Option<f64> }
        read(json, path = "landing/", schema = Event)
            .with_watermark(ts, "2 minutes")
            .group_by(window(ts, "1 minute"), country)
            .agg(count() as n, sum(amount) as total, avg(amount) as mean, max(amount) as top)
            .write(console)
            .output_mode(append)
    }));
}

#[test]
fn late_rows() {
    // `.late_rows(json, ..)`: the map side numbers the rows it reads, keeps the ones it
    // drops as late (once per late window), takes them out of the batch and reports
    // them with `add_late_rows`; the builder gets a second sink (the same expression
    // `write(json, ..)` makes) with the schema of the aggregation's input
    insta::assert_snapshot!(expand(quote! {
        schema Event { ts: timestamp_ms, country: Option<string>, amount: Option<f64> }
        read(json, path = "landing/", schema = Event)
            .with_watermark(ts, "2 minutes")
            .group_by(window(ts, "1 minute"), country)
            .agg(count() as n)
            .write(memory, name = "counts")
            .late_rows(json, path = "late/")
    }));
}

#[test]
fn op_session_window() {
    // the map side folds each row into the session it opens, [ts, ts + gap), merges each
    // user's sessions and routes them by the user alone; the reduce side merges them with
    // the user's stored sessions (a bridging session replaces the ones it joins) and
    // emits, then evicts, the sessions whose end the watermark passed
    insta::assert_snapshot!(expand(quote! {
        schema Event { ts: timestamp_ms, user: string, amount: Option<f64> }
        read(json, path = "landing/", schema = Event)
            .with_watermark(ts, "10 minutes")
            .group_by(session_window(ts, "5 minutes"), user)
            .agg(count() as n, sum(amount) as total)
            .write(console)
            .output_mode(append)
    }));
}

#[test]
fn op_max_by() {
    // the accumulator holds the value and its ordering (`__acc<i>` and `__acc<i>_ord`,
    // both nullable): the map side skips rows whose ordering is null and replaces the
    // pair when the ordering is strictly beyond the one held; the reduce side merges the
    // newer partials into the stored pair the same way, so the first of tied rows stays
    insta::assert_snapshot!(expand(quote! {
        schema Bid { ts: timestamp_ms, auction: i64, bidder: Option<string>, price: Option<i64> }
        read(json, path = "landing/", schema = Bid)
            .with_watermark(ts, "10 seconds")
            .group_by(window(ts, "10 seconds"))
            .agg(max(price) as price, max_by(auction, price) as auction, min_by(bidder, ts) as first_bidder)
            .write(console)
            .output_mode(append)
    }));
}

#[test]
fn op_collect_list() {
    // the accumulator holds a `Vec` per collect: the map side pushes each non-null value
    // (`collect_list`) or inserts it in order (`collect_set`); the reduce side appends the
    // newer values to the stored ones, or merges the sorted sets; the output row's field
    // is the `Vec` itself, an arrow `List` column
    insta::assert_snapshot!(expand(quote! {
        schema Event { ts: timestamp_ms, user: string, tag: Option<string>, score: i64 }
        read(json, path = "landing/", schema = Event)
            .with_watermark(ts, "10 minutes")
            .group_by(window(ts, "5 minutes"), user)
            .agg(collect_list(tag) as tags, collect_set(score) as scores)
            .write(console)
            .output_mode(append)
    }));
}

#[test]
fn op_drop_duplicates() {
    insta::assert_snapshot!(expand(quote! {
        schema Event { ts: timestamp_ms, user: string }
        read(json, path = "landing/", schema = Event)
            .with_watermark(ts, "2 minutes")
            .drop_duplicates(user, ts)
            .write(console)
    }));
}

#[test]
fn checkpoint_and_query_name() {
    insta::assert_snapshot!(expand(quote! {
        read(rate, rows_per_second = 1)
            .write(console)
            .output_mode(append)
            .checkpoint("checkpoints/ticks")
            .query_name("ticks")
    }));
}

#[test]
fn captures() {
    insta::assert_snapshot!(expand(quote! {
        schema Order { user: string, amount: f64, country: string }
        read(json, path = {dir}, schema = Order)
            .filter(amount > {min} && country == {country})
            .write(console)
    }));
}

#[test]
fn captured_options() {
    // settings chosen at run time: each captured value goes to the builder call of its
    // option as it is; the fingerprint is the literal pipeline's (see below)
    insta::assert_snapshot!(expand(quote! {
        schema Order { user: string, amount: f64, country: string }
        read(json, path = {landing}, schema = Order, max_files_per_trigger = {files},
             latest_first = {newest}, max_file_age = {age}, clean_source = {clean},
             mode = {mode})
            .filter(amount > 10.0)
            .write(parquet, path = {out}, compression = {compression},
                   max_rows_per_file = {rows}, retention = {retention})
            .trigger({trigger})
            .checkpoint({checkpoint})
    }));
}

#[test]
fn captured_rate_console_and_kafka_options() {
    insta::assert_snapshot!(expand(quote! {
        read(rate, rows_per_second = {rate}, num_partitions = {partitions})
            .write(console, num_rows = {rows}, truncate = {truncate})
    }));
    insta::assert_snapshot!(expand(quote! {
        read(kafka, bootstrap_servers = {servers}, subscribe = "a",
             starting_timestamp = {since}, max_offsets_per_trigger = {per_batch},
             min_partitions = {partitions}, fail_on_data_loss = {strict},
             request_timeout = {timeout})
            .select(value)
            .write(kafka, bootstrap_servers = {servers}, topic = {topic},
                   exactly_once = {exactly_once}, request_timeout = {timeout})
            .checkpoint("checkpoints/q")
    }));
}

#[test]
fn captured_settings_leave_the_fingerprint_as_the_literals_do() {
    let fingerprint = |input: proc_macro2::TokenStream| {
        let out = stream_inner(input).to_string();
        let at = out.find("\"stream:").expect("a fingerprint");
        out[at..at + 24].to_string()
    };
    let literal = fingerprint(quote! {
        schema Order { user: string, amount: f64 }
        read(json, path = "landing/", schema = Order, max_files_per_trigger = 1,
             max_file_age = "7 days")
            .filter(amount > 10.0)
            .write(console, num_rows = 5)
            .trigger(available_now)
            .checkpoint("checkpoints/orders")
    });
    let captured = fingerprint(quote! {
        schema Order { user: string, amount: f64 }
        read(json, path = {landing}, schema = Order, max_files_per_trigger = {files},
             max_file_age = {age})
            .filter(amount > 10.0)
            .write(console, num_rows = {rows})
            .trigger({trigger})
            .checkpoint({checkpoint})
    });
    assert_eq!(literal, captured);
    // and the fingerprint does see the plan: another filter is another plan
    let other = fingerprint(quote! {
        schema Order { user: string, amount: f64 }
        read(json, path = {landing}, schema = Order, max_files_per_trigger = {files})
            .filter(amount > 20.0)
            .write(console)
    });
    assert_ne!(literal, other);
}

#[test]
fn compile_time_values_refuse_a_capture_and_say_why() {
    let errors = |input: proc_macro2::TokenStream| stream_inner(input).to_string();
    let cases: &[(proc_macro2::TokenStream, &str)] = &[
        (
            quote!(
                read(rate, rows_per_second = 1)
                    .write(console)
                    .output_mode({ mode })
            ),
            "the output mode cannot be captured: it must be known when the crate compiles",
        ),
        (
            quote!(
                read(rate, rows_per_second = 1)
                    .write(console)
                    .output_mode("update")
            ),
            "`output_mode` takes the name of a mode",
        ),
        (
            quote!(
                read(rate, rows_per_second = 1)
                    .write(console)
                    .watermark_policy({ p })
            ),
            "the watermark policy cannot be captured",
        ),
        (
            quote!(
                read(rate, rows_per_second = 1)
                    .with_watermark(timestamp, { delay })
                    .write(console)
            ),
            "the watermark delay cannot be captured",
        ),
        (
            quote!(
                read(rate, rows_per_second = 1)
                    .with_watermark(timestamp, "1 minute")
                    .group_by(window(timestamp, "1 minute", { slide }))
                    .agg(count() as n)
                    .write(console)
            ),
            "a window duration cannot be captured",
        ),
        (
            quote!(
                read(rate, rows_per_second = 1)
                    .with_watermark(timestamp, "1 minute")
                    .group_by(session_window(timestamp, { gap }), value)
                    .agg(count() as n)
                    .write(console)
            ),
            "a session gap cannot be captured",
        ),
        (
            quote!(
                let other = read(rate, rows_per_second = 1).with_watermark(timestamp, "1 minute");
                read(rate, rows_per_second = 1)
                    .with_watermark(timestamp, "1 minute")
                    .join(other, on = value, within = { bound })
                    .write(console)
            ),
            "`within` cannot be captured",
        ),
        (
            quote!(read(json, path = "in/", schema = { s }).write(console)),
            "`schema` cannot be captured",
        ),
        (
            quote!(
                schema S { a: string, b: i64 }
                read(json, path = "in/", schema = S).write(json, path = "out/", partition_by = { p })
            ),
            "`partition_by` cannot be captured",
        ),
        (
            quote!(
                schema S { a: string, b: i64 }
                read(json, path = "in/", schema = S, clean_source = { c }, source_archive_dir = "a/")
                    .write(console)
            ),
            "`source_archive_dir` is only for `clean_source = archive`",
        ),
    ];
    for (input, expected) in cases {
        let out = errors(input.clone());
        assert!(out.contains(expected), "{input}: {out}");
    }
}

#[test]
fn fused_pipeline() {
    // filter, with_column and select of one branch run one after the other in one
    // function over the batch, with no row-by-row interpretation
    insta::assert_snapshot!(expand(quote! {
        schema Order { user: string, amount: Option<f64>, qty: i64, country: Option<string> }
        read(json, path = "landing/", schema = Order)
            .filter(amount > 50.0 || country == "DE")
            .with_column(total, amount * qty)
            .select(user, total, qty + 1 as next_qty, country.is_null() as no_country)
            .write(memory, name = "orders")
    }));
}

#[test]
fn error_placeholder() {
    // every error as a `compile_error!`, then a builder of the right type for the code
    // around the macro
    insta::assert_snapshot!(expand(quote! {
        schema Order { user: string, amount: f64 }
        read(json, path = "landing/", schema = Order)
            .filter(amout > 10.0)
            .select(usr)
            .write(console)
    }));
}

#[test]
fn derive_schema_and_callback() {
    // the derive: a callback macro carrying the fields as DSL tokens, made
    // path-addressable, and `TypedRow` (rows ⇄ record batches)
    let derived = crate::derive::derive_schema(quote! {
        struct Event {
            ts: stream_core::types::TimestampMs,
            user: String,
            amount: Option<f64>,
            payload: Vec<u8>,
            r#type: Option<String>,
        }
    });
    let file: syn::File = syn::parse2(derived).expect("derive output parses");
    insta::assert_snapshot!("derive_schema", prettyplease::unparse(&file));
    // a block naming the struct, before its fields are in: a call of the callback with
    // the whole block, next to a check that the struct has the derive
    insta::assert_snapshot!(
        "derive_schema_callback",
        expand(quote! {
            schema Event = crate::model::Event;
            read(json, path = "landing/", schema = Event).write(console)
        })
    );
}

#[test]
fn op_map() {
    // the closure goes through a helper whose `Fn` bound types its row; the pipeline
    // struct holds it as a type parameter, and the branch maps rows of the inline
    // schema's struct to rows of the output schema's struct
    insta::assert_snapshot!(expand(quote! {
        schema Click { user: string, amount: Option<f64> }
        schema Doubled { user: string, doubled: f64 }
        read(memory, stream = {input}, schema = Click)
            .map(Doubled, |c| Doubled { user: c.user, doubled: c.amount.unwrap_or(0.0) * 2.0 })
            .write(memory, name = "doubled")
    }));
}

#[test]
fn op_flat_map() {
    // after a projection no block schema fits: the input row is a generated struct
    insta::assert_snapshot!(expand(quote! {
        schema Line { id: i64, text: Option<string> }
        schema Word { word: string }
        read(memory, stream = {input}, schema = Line)
            .select(text)
            .flat_map(Word, |l| l.text.into_iter().map(|t| Word { word: t }))
            .write(console)
    }));
}

/// The errors about lists (the UI cases `collect_list_two_arguments`, `list_in_filter`,
/// `list_in_arithmetic`, `collect_set_of_binary`, `csv_list_column`), by their text.
#[test]
fn list_errors_name_the_list_and_its_type() {
    let errors = |input: proc_macro2::TokenStream| stream_inner(input).to_string();
    let two = errors(quote! {
        schema Event { user: string, tag: Option<string>, score: i64 }
        read(json, path = "landing/", schema = Event)
            .group_by(user)
            .agg(collect_list(lower(tag), score) as tags)
            .write(console)
            .output_mode(complete)
    });
    assert!(two.contains("`collect_list` takes one argument"), "{two}");
    let filter = errors(quote! {
        schema Event { user: string, tag: Option<string> }
        read(json, path = "landing/", schema = Event)
            .group_by(user)
            .agg(collect_list(tag) as tags)
            .filter(tags == "sale")
            .write(console)
            .output_mode(complete)
    });
    assert!(
        filter.contains("`tags` is a list<string>; expressions do not take lists"),
        "{filter}"
    );
    let arithmetic = errors(quote! {
        schema Event { user: string, score: Option<i64> }
        read(json, path = "landing/", schema = Event)
            .group_by(user)
            .agg(collect_set(score) as scores, count() as n)
            .with_column(bumped, scores + 1)
            .write(console)
            .output_mode(complete)
    });
    assert!(
        arithmetic.contains("`scores` is a list<i64>; expressions do not take lists"),
        "{arithmetic}"
    );
    let binary = errors(quote! {
        schema Event { user: string, payload: binary }
        read(json, path = "landing/", schema = Event)
            .group_by(user)
            .agg(collect_set(payload) as payloads)
            .write(console)
            .output_mode(complete)
    });
    assert!(
        binary.contains("`collect_set` cannot take `binary`"),
        "{binary}"
    );
    let csv = errors(quote! {
        schema Event { ts: timestamp_ms, user: string, tag: Option<string> }
        read(json, path = "landing/", schema = Event)
            .with_watermark(ts, "1 minute")
            .group_by(window(ts, "5 minutes"), user)
            .agg(collect_list(tag) as tags)
            .write(csv, path = "out/tags")
            .checkpoint("checkpoints/q")
            .output_mode(append)
    });
    assert!(
        csv.contains("csv cannot hold the list column `tags` (a list<string>)"),
        "{csv}"
    );
}

/// The errors of `read(kafka, ..)` and `write(kafka, ..)` that have no UI case, by their
/// text.
#[test]
fn kafka_errors_name_the_option_and_the_fix() {
    let errors = |input: proc_macro2::TokenStream| stream_inner(input).to_string();
    let source = |options: proc_macro2::TokenStream| {
        errors(quote! {
            schema Event { user: string, amount: Option<f64>, timestamp: Option<i64> }
            schema Loose { user: Option<string>, _corrupt_record: string }
            read(kafka, bootstrap_servers = "b:9092", #options)
                .write(console)
        })
    };
    let cases: &[(proc_macro2::TokenStream, &str)] = &[
        (quote!(subscribe = " , "), "`subscribe` names no topic"),
        (
            quote!(subscribe_pattern = "ev(ents"),
            "invalid regular expression: unclosed group",
        ),
        (
            quote!(assign = r#"{"t":[0,0]}"#),
            "`assign`: partition 0 of `t` is named twice",
        ),
        (quote!(assign = r#"{}"#), "`assign` names no partition"),
        (
            quote!(assign = "t-0"),
            "`assign` is not a JSON object of topics to partition lists",
        ),
        (
            quote!(assign = t),
            "`assign` takes Spark's JSON object of topics and partitions, as a string",
        ),
        (
            quote!(subscribe = "a,b", starting_offsets = r#"{"a":{"0":5}}"#),
            "`starting_offsets` gives no offset for `b`: every partition read needs one",
        ),
        (
            quote!(subscribe = "a", starting_offsets = r#"{"c":{"0":5}}"#),
            "`starting_offsets` names `c`, a topic the source does not subscribe to",
        ),
        (
            quote!(
                assign = r#"{"a":[0,1]}"#,
                starting_offsets = r#"{"a":{"0":5}}"#
            ),
            "`starting_offsets` gives no offset for `a` partition 1",
        ),
        (
            quote!(
                assign = r#"{"a":[0]}"#,
                starting_offsets_by_timestamp = r#"{"a":{"1":5}}"#
            ),
            "`starting_offsets_by_timestamp` names `a` partition 1, which `assign` does not",
        ),
        (
            quote!(subscribe = "a", starting_offsets = r#"{"a":{"0":-3}}"#),
            "offset -3 of `a` partition 0 is negative and neither -2 (earliest) nor -1 (latest)",
        ),
        (
            quote!(subscribe = "a", starting_offsets = "first"),
            "`starting_offsets` is `earliest`, `latest` or Spark's JSON object of offsets",
        ),
        (
            quote!(subscribe = "a", starting_offsets_by_timestamp = times),
            "`starting_offsets_by_timestamp` takes Spark's JSON object of times, as a string",
        ),
        (
            quote!(subscribe = "a", include_headers = { headers }),
            "`include_headers` cannot be captured: it must be known when the crate compiles",
        ),
        (
            quote!(subscribe = "a", value_schema = { schema }),
            "`value_schema` cannot be captured",
        ),
        (
            quote!(subscribe = "a", value_schema = Event, mode = { mode }),
            "`mode` cannot be captured",
        ),
        (
            quote!(subscribe = "a", value_schema = Event),
            "`timestamp` of the value schema is also a column of the Kafka source",
        ),
        (
            quote!(subscribe = "a", value_schema = Loose),
            "`_corrupt_record` of the value schema is a string",
        ),
        (
            quote!(subscribe = "a", value_schema = Loose, mode = permissive),
            "permissive mode makes every column of a malformed record null, but `_corrupt_record` is not nullable",
        ),
        (
            quote!(subscribe = "a", value_schema = Evnt),
            "no schema `Evnt`",
        ),
        (
            quote!(subscribe = "a", kafka_options = "acks=all"),
            "`kafka_options` takes librdkafka settings from outside the block",
        ),
        (
            quote!(subscribe = "a", include_headers = yes),
            "`include_headers` takes `true` or `false`",
        ),
        (
            quote!(subscribe = "a", bootstrap_servers = ""),
            "is given twice",
        ),
    ];
    for (options, expected) in cases {
        let out = source(options.clone());
        assert!(out.contains(expected), "{options}: {out}");
    }
    let empty = errors(quote! {
        read(kafka, bootstrap_servers = "", subscribe = "a").write(console)
    });
    assert!(empty.contains("`bootstrap_servers` is empty"), "{empty}");

    let sink = |select: proc_macro2::TokenStream, options: proc_macro2::TokenStream| {
        errors(quote! {
            schema Order { user: string, amount: f64, shard: i64 }
            read(json, path = "landing/", schema = Order)
                .select(#select)
                .write(kafka, bootstrap_servers = "b:9092", #options)
                .checkpoint("checkpoints/q")
        })
    };
    let cases: &[(proc_macro2::TokenStream, proc_macro2::TokenStream, &str)] = &[
        (
            quote!(amount as key, user as value),
            quote!(topic = "t"),
            "column `key` is a f64, but a Kafka record's key takes `string` or `binary`",
        ),
        (
            quote!(user as value, shard as partition),
            quote!(topic = "t"),
            "column `partition` is a i64, but a Kafka record's partition takes `i32`",
        ),
        (
            quote!(user as value, amount as topic),
            quote!(),
            "column `topic` is a f64, but a Kafka record's topic takes `string`",
        ),
        (
            quote!(user as value, user as headers),
            quote!(topic = "t"),
            "column `headers` is a string, but a Kafka record's headers come from a Kafka source's `headers` column",
        ),
        (
            quote!(user as value),
            quote!(topic = "t", transactional_id = "x"),
            "`transactional_id` is only for `exactly_once = true`",
        ),
        (
            quote!(user as value),
            quote!(topic = "t", exactly_once = 1),
            "`exactly_once` takes `true` or `false`",
        ),
        (
            quote!(user as value),
            quote!(topic = "t", topics = "u"),
            "did you mean `topic`?",
        ),
        (
            quote!(user, amount),
            quote!(topic = "t", value_json = { json }),
            "`value_json` cannot be captured: it must be known when the crate compiles",
        ),
    ];
    for (select, options, expected) in cases {
        let out = sink(select.clone(), options.clone());
        assert!(out.contains(expected), "{options}: {out}");
    }
    // with `value_json`, the row is the value: no `value` column needed
    let json = sink(quote!(user, amount), quote!(topic = "t", value_json = true));
    assert!(!json.contains("compile_error"), "{json}");
    // a captured `exactly_once` may be on: a transactional id beside it is no error
    let captured = sink(
        quote!(user as value),
        quote!(topic = "t", exactly_once = { on }, transactional_id = "x"),
    );
    assert!(!captured.contains("compile_error"), "{captured}");
    assert!(captured.contains(". exactly_once (on)"), "{captured}");

    let map = errors(quote! {
        schema Out { n: i64 }
        read(kafka, bootstrap_servers = "b:9092", subscribe = "a", include_headers = true)
            .map(Out, |r| Out { n: r.offset })
            .write(console)
    });
    assert!(
        map.contains("`map` takes rows as Rust structs, and the Kafka headers column `headers` has no Rust type yet"),
        "{map}"
    );
    let cast = errors(quote! {
        read(kafka, bootstrap_servers = "b:9092", subscribe = "a")
            .select(cast(value) as v)
            .write(console)
    });
    assert!(
        cast.contains("`cast` takes one cast: `cast(x as string)`"),
        "{cast}"
    );
}

#[test]
fn binary_cast_to_string_is_nullable() {
    // bytes that are not UTF-8 become null: a non-null binary cast to string is nullable
    let block = crate::parse::parse_block(quote! {
        schema Blob { id: i64, payload: binary }
        read(parquet, path = "landing/", schema = Blob)
            .select(id, cast(payload as string) as text, payload as string as same)
            .write(console)
    })
    .expect("parses");
    let (plan, _) = crate::check::check_block(&block, crate::diag::Ctxt::default());
    let output = plan.expect("checks").output;
    let text: Vec<String> = output
        .iter()
        .map(|c| format!("{}: {}", c.name, c.ty))
        .collect();
    assert_eq!(
        text,
        ["id: i64", "text: Option<string>", "same: Option<string>"]
    );
}

#[test]
fn kafka_headers_pass_through() {
    // no expression takes the headers, but every operator that passes columns on does
    let out = stream_inner(quote! {
        let a = read(kafka, bootstrap_servers = "b:9092", subscribe = "a", include_headers = true);
        let b = read(kafka, bootstrap_servers = "b:9092", subscribe = "b", include_headers = true);
        a.union(b)
            .filter(partition == 0)
            .with_column(text, value as string)
            .with_column_renamed(headers, h)
            .drop(offset)
            .select(key, text as value, h as headers, topic)
            .write(kafka, bootstrap_servers = "b:9092")
            .checkpoint("checkpoints/q")
    })
    .to_string();
    assert!(!out.contains("compile_error"), "{out}");
}

/// The errors of `max_by` / `min_by` (the UI cases `max_by_one_argument` and
/// `min_by_of_binary`), by their text.
#[test]
fn max_by_errors_name_the_arguments_and_the_ordering() {
    let errors = |input: proc_macro2::TokenStream| stream_inner(input).to_string();
    let one = errors(quote! {
        schema Bid { auction: i64, price: i64 }
        read(json, path = "landing/", schema = Bid)
            .group_by(auction)
            .agg(max_by(price) as top)
            .write(console)
            .output_mode(complete)
    });
    assert!(one.contains("`max_by` takes two arguments"), "{one}");
    assert!(one.contains("write `max_by(value, ordering)`"), "{one}");
    let binary = errors(quote! {
        schema Bid { auction: i64, price: i64, payload: binary }
        read(json, path = "landing/", schema = Bid)
            .group_by(auction)
            .agg(min_by(price, payload) as low)
            .write(console)
            .output_mode(complete)
    });
    assert!(
        binary.contains("`min_by` cannot order by `binary`"),
        "{binary}"
    );
    // any value type, a binary one too
    let fine = errors(quote! {
        schema Bid { auction: i64, price: i64, payload: binary }
        read(json, path = "landing/", schema = Bid)
            .group_by(auction)
            .agg(min_by(payload, price) as low)
            .write(console)
            .output_mode(complete)
    });
    assert!(!fine.contains("compile_error"), "{fine}");
}

#[test]
fn sort_and_limit_of_a_complete_aggregation() {
    // the key struct of the sort and its comparison; the last stage gets every row
    insta::assert_snapshot!(expand(quote! {
        schema Word { word: string, lang: Option<string> }
        read(memory, stream = {words}, schema = Word)
            .group_by(lang, word)
            .agg(count() as n)
            .order_by(desc(n), lang)
            .limit(3)
            .write(memory, name = "top")
            .output_mode(complete)
    }));
}

#[test]
fn streaming_limit_in_append_mode() {
    // the runtime's LimitExec, its count kept in the state; a local limit before the
    // exchange
    insta::assert_snapshot!(expand(quote! {
        schema Num { v: i64 }
        read(memory, stream = {nums}, schema = Num)
            .filter(v > 0)
            .limit(10)
            .write(memory, name = "first")
    }));
}

#[test]
fn static_join_read_from_a_file() {
    // the table's files read by the runtime's file source, when the query starts
    // (`check_state` loads them), with the source's option calls
    insta::assert_snapshot!(expand(quote! {
        schema Order { user: string, country: string, amount: f64 }
        schema Region { country: string, region: string }
        read(memory, stream = {orders}, schema = Order)
            .join(read(csv, path = "regions.csv", schema = Region, header = true), on = country, how = left)
            .select(user, region)
            .write(memory, name = "enriched")
    }));
}

#[test]
fn static_read_errors_name_the_option_and_the_fix() {
    let errors = |block| crate::tests::compile_errors(stream_inner(block));
    let e = errors(quote! {
        schema Order { country: string }
        schema Region { country: string, region: string }
        read(memory, stream = {orders}, schema = Order)
            .join(read(parquet, path = "r/", schema = Region, max_files_per_trigger = 1), on = country)
            .write(console)
    });
    assert!(
        e.iter()
            .any(|e| e.contains("unknown static table option `max_files_per_trigger`")),
        "{e:?}"
    );
    let e = errors(quote! {
        schema Order { country: string }
        schema Region { country: string, region: string }
        read(memory, stream = {orders}, schema = Order)
            .join(read(text, path = "r/"), on = country)
            .write(console)
    });
    assert!(
        e.iter()
            .any(|e| e.contains("a static table is not read from `text`")),
        "{e:?}"
    );
}
