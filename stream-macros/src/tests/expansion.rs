use quote::quote;

use crate::expand::stream_inner;

/// The expansion, formatted, for a snapshot.
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
    }));
}

#[test]
fn sink_json_and_csv() {
    insta::assert_snapshot!(expand(quote! {
        schema Order { user: string, amount: f64 }
        read(json, path = "landing/", schema = Order)
            .write(json, path = {out_dir}, target_file_size = 1048576, compact_interval = 5)
    }));
    insta::assert_snapshot!(expand(quote! {
        schema Order { user: string, amount: f64 }
        read(json, path = "landing/", schema = Order)
            .write(csv, path = "out/orders")
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
            .output_mode(complete)
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
            .output_mode(append)
    });
    assert!(
        csv.contains("csv cannot hold the list column `tags` (a list<string>)"),
        "{csv}"
    );
}
