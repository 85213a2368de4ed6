//! The plan's fingerprint: a text of its shape, hashed, which the checkpoint stores and
//! checks when a query restarts, so that a checkpoint is never read by a plan that
//! would misread its state.
//!
//! The text is a checkpoint format: for a plan that did not change it must stay the
//! same byte for byte, or old checkpoints are refused. A new operator adds text only
//! where it appears; settings chosen at run time (captures, paths, the trigger) are not
//! in it.

use quote::quote;

use super::{Plan, Schema, TypedOp};
use crate::check::{TExpr, TKind};

/// The fingerprint the generated pipeline reports: `stream:` and the hash of
/// [`describe`] in 16 hex digits.
pub(crate) fn fingerprint(plan: &Plan) -> String {
    format!("stream:{:016x}", fnv1a(&describe(plan)))
}

/// A stable text of the plan's shape, hashed into the checkpoint fingerprint.
pub(crate) fn describe(plan: &Plan) -> String {
    fn expr(e: &TExpr) -> String {
        match &e.kind {
            TKind::Column { name, .. } => name.clone(),
            TKind::Lit(v) => format!("{v:?}"),
            TKind::Capture(i) => format!("capture{i}"),
            TKind::Binary { op, left, right } => {
                format!("({} {} {})", expr(left), op.symbol(), expr(right))
            }
            TKind::Unary { op, expr: e } => format!("({op:?} {})", expr(e)),
            TKind::Cast { expr: e, to } => format!("({} as {})", expr(e), to.name()),
            TKind::Call { function, args } => {
                format!(
                    "{function}({})",
                    args.iter().map(expr).collect::<Vec<_>>().join(", ")
                )
            }
        }
    }
    let mut out = String::new();
    for b in &plan.branches {
        out.push_str(&format!("branch from {}:", b.source));
        for op in &b.ops {
            match op {
                TypedOp::Filter { pred } => out.push_str(&format!(" filter {}", expr(pred))),
                TypedOp::Project { exprs, .. } => {
                    let items: Vec<String> = exprs
                        .iter()
                        .map(|(n, e)| format!("{} as {n}", expr(e)))
                        .collect();
                    out.push_str(&format!(" project [{}]", items.join(", ")));
                }
                TypedOp::Watermark {
                    column, delay_ms, ..
                } => {
                    out.push_str(&format!(" watermark(#{column}, {delay_ms} ms)"));
                }
                TypedOp::Join {
                    join,
                    output,
                    left_key,
                    ..
                } => {
                    if let Some(j) = plan.joins.get(*join) {
                        let columns: Vec<String> = output
                            .iter()
                            .map(|c| format!("{}: {}", c.name, c.ty))
                            .collect();
                        out.push_str(&format!(
                            " join#{join} on {:?} = {:?} left_outer {} -> [{}]",
                            left_key,
                            j.right_key,
                            j.left_outer,
                            columns.join(", ")
                        ));
                    }
                }
                TypedOp::Aggregate(a) => {
                    let keys: Vec<String> = a
                        .key_schema
                        .iter()
                        .map(|c| format!("{}: {}", c.name, c.ty))
                        .collect();
                    let aggs: Vec<String> = a
                        .aggs
                        .iter()
                        .map(|g| format!("{:?}({:?}) as {}", g.func, g.arg, g.name))
                        .collect();
                    // a session window adds its gap; other plans keep their text
                    let session = a
                        .session
                        .map(|s| format!(" session gap {}", s.gap))
                        .unwrap_or_default();
                    out.push_str(&format!(
                        " aggregate#{} window {:?}{session} keys [{}] aggs [{}] inputs [{}]",
                        a.id,
                        a.window.map(|w| (w.size, w.slide, w.start)),
                        keys.join(", "),
                        aggs.join(", "),
                        a.input
                            .iter()
                            .map(|(n, e)| format!("{} as {n}", expr(e)))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                }
                TypedOp::Dedup(d) => {
                    let keys: Vec<&str> = d.keys.iter().map(|(n, _)| n.as_str()).collect();
                    out.push_str(&format!(
                        " dedup#{} within {} [{}]",
                        d.id,
                        d.within,
                        keys.join(", ")
                    ));
                }
                TypedOp::StreamJoin { plan: j, side } => {
                    let keys: Vec<&str> = j
                        .left_key
                        .iter()
                        .map(|&i| j.left[i].name.as_str())
                        .collect();
                    let columns = |schema: &Schema| {
                        schema
                            .iter()
                            .map(|c| format!("{}: {}", c.name, c.ty))
                            .collect::<Vec<_>>()
                            .join(", ")
                    };
                    out.push_str(&format!(
                        " stream_join#{} side {side} on [{}] within {:?} left [{}] right [{}]",
                        j.id,
                        keys.join(", "),
                        j.within_ms,
                        columns(&j.left),
                        columns(&j.right)
                    ));
                }
                // new operators: text only where they appear
                TypedOp::Sort(p) => {
                    let keys: Vec<String> = p.keys.iter().map(|k| k.text()).collect();
                    out.push_str(&format!(" sort [{}]", keys.join(", ")));
                }
                TypedOp::Limit(l) => out.push_str(&format!(" limit#{} {}", l.id, l.n)),
                TypedOp::Map { function, .. } => {
                    if let Some(m) = plan.functions.get(*function) {
                        let f = &m.f;
                        let kind = if m.flat { "flat_map" } else { "map" };
                        let columns: Vec<&str> = plan
                            .rows
                            .get(m.output)
                            .map(|r| r.schema.iter().map(|c| c.name.as_str()).collect())
                            .unwrap_or_default();
                        out.push_str(&format!(
                            " {kind}([{}], {})",
                            columns.join(", "),
                            quote!(#f)
                        ));
                    }
                }
            }
        }
        out.push(';');
    }
    out
}

/// The 64-bit FNV-1a hash of `text`: small, and the same on every platform and Rust
/// version (std's hashers promise neither), as a checkpoint needs.
fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use proc_macro2::TokenStream;
    use quote::quote;

    use crate::plan::passed_plan as plan;

    fn text(input: TokenStream) -> String {
        super::describe(&plan(input))
    }

    // The expected texts were printed by the build before `describe` moved to this
    // file (commit 4abfaa8): checkpoints store their hash, so they must not change.

    #[test]
    fn filter_and_project() {
        assert_eq!(
            text(quote! {
                schema Event { user: string, amount: f64, country: Option<string> }
                read(json, path = "landing/", schema = Event)
                    .filter(amount > 50.0 && country == "DE")
                    .select(upper(user) as user, amount * 2 as doubled, amount as i64 as whole, {limit} as f64 as cap)
                    .write(console)
            }),
            "branch from 0: filter ((amount > Float(50.0)) && (country == Str(\"DE\"))) project [upper(user) as user, (amount * (Int(2) as f64)) as doubled, (amount as i64) as whole, capture0 as cap];"
        );
    }

    #[test]
    fn static_join() {
        assert_eq!(
            text(quote! {
                schema Order { user: string, country: string, amount: f64 }
                schema Region { country: string, region: string, zone: i64 }
                read(parquet, path = "orders/", schema = Order)
                    .join({regions}, schema = Region, on = country)
                    .select(region, amount)
                    .write(console)
            }),
            "branch from 0: join#0 on [0] = [0] left_outer false -> [amount: f64, region: string] project [region as region, amount as amount];"
        );
    }

    #[test]
    fn stream_join() {
        assert_eq!(
            text(quote! {
                schema Ad { ad: i64, at: timestamp_ms }
                schema Buy { ad: i64, bought_at: timestamp_ms, price: f64 }
                let buys = read(json, path = "buys/", schema = Buy)
                    .with_watermark(bought_at, "1 minute");
                read(json, path = "ads/", schema = Ad)
                    .with_watermark(at, "30 seconds")
                    .join(buys, on = ad, within = "30 minutes")
                    .select(ad, price)
                    .write(console)
            }),
            "branch from 1: watermark(#1, 30000 ms) stream_join#0 side 0 on [ad] within Some(1800000) left [ad: i64, at: timestamp_ms] right [ad: i64, bought_at: timestamp_ms, price: f64] project [ad as ad, price as price];\
             branch from 0: watermark(#1, 60000 ms) stream_join#0 side 1 on [ad] within Some(1800000) left [ad: i64, at: timestamp_ms] right [ad: i64, bought_at: timestamp_ms, price: f64] project [ad as ad, price as price];"
        );
    }

    #[test]
    fn sliding_window_aggregation() {
        assert_eq!(
            text(quote! {
                schema Reading { at: timestamp_us, sensor: string, celsius: Option<f64> }
                read(json, path = "readings/", schema = Reading)
                    .with_watermark(at, "5 minutes")
                    .group_by(window(at, "10 minutes", "5 minutes"), sensor)
                    .agg(avg(celsius) as mean, max(celsius) as top)
                    .write(console)
                    .output_mode(update)
            }),
            "branch from 0: watermark(#0, 300000 ms) aggregate#0 window Some((600000000, 300000000, 0)) keys [window_start: timestamp_us, window_end: timestamp_us, sensor: string] aggs [Avg(Some(2)) as mean, Max(Some(3)) as top] inputs [at as __t, sensor as __k1, celsius as __a2, celsius as __a3];"
        );
    }

    /// Spark's other spellings of the same intervals (any case, `interval`, compound)
    /// give the text of `sliding_window_aggregation`: the fingerprint holds numbers.
    #[test]
    fn interval_spellings_leave_the_text() {
        assert_eq!(
            text(quote! {
                schema Reading { at: timestamp_us, sensor: string, celsius: Option<f64> }
                read(json, path = "readings/", schema = Reading)
                    .with_watermark(at, "INTERVAL 4 Minutes 60 Seconds")
                    .group_by(window(at, "10 Minutes", "interval 300 seconds"), sensor)
                    .agg(avg(celsius) as mean, max(celsius) as top)
                    .write(console)
                    .output_mode(update)
            }),
            "branch from 0: watermark(#0, 300000 ms) aggregate#0 window Some((600000000, 300000000, 0)) keys [window_start: timestamp_us, window_end: timestamp_us, sensor: string] aggs [Avg(Some(2)) as mean, Max(Some(3)) as top] inputs [at as __t, sensor as __k1, celsius as __a2, celsius as __a3];"
        );
    }

    #[test]
    fn session_window_adds_its_gap() {
        assert_eq!(
            text(quote! {
                schema Event { ts: timestamp_ms, user: string, amount: Option<f64> }
                read(json, path = "landing/", schema = Event)
                    .with_watermark(ts, "10 minutes")
                    .group_by(session_window(ts, "5 minutes"), user)
                    .agg(count() as n)
                    .write(console)
                    .output_mode(complete)
            }),
            "branch from 0: watermark(#0, 600000 ms) aggregate#0 window None session gap 300000 keys [session_start: timestamp_ms, session_end: timestamp_ms, user: string] aggs [Count(None) as n] inputs [ts as __t, user as __k1];"
        );
    }

    #[test]
    fn dedup_leaves_the_trigger_out() {
        assert_eq!(
            text(quote! {
                schema Event { ts: timestamp_ms, user: string }
                read(json, path = "landing/", schema = Event)
                    .with_watermark(ts, "2 minutes")
                    .drop_duplicates_within_watermark(user)
                    .write(console)
                    .trigger(processing_time("10 seconds"))
            }),
            "branch from 0: watermark(#0, 120000 ms) dedup#0 within true [user];"
        );
    }

    #[test]
    fn map() {
        assert_eq!(
            text(quote! {
                schema Visit { page: string, ms: Option<i64> }
                schema Slow { page: string, seconds: f64 }
                read(memory, stream = {visits}, schema = Visit)
                    .map(Slow, |v| Slow { page: v.page, seconds: v.ms.unwrap_or(0) as f64 / 1000.0 })
                    .write(console)
            }),
            "branch from 0: map([page, seconds], | v | Slow { page : v . page , seconds : v . ms . unwrap_or (0) as f64 / 1000.0 });"
        );
    }

    #[test]
    fn sort_and_limit() {
        // new operators: their text appears only in plans that have them
        assert_eq!(
            text(quote! {
                schema Word { word: string }
                read(memory, stream = {words}, schema = Word)
                    .group_by(word)
                    .agg(count() as n)
                    .order_by(desc(n), asc_nulls_last(word))
                    .limit(3)
                    .write(console)
                    .output_mode(complete)
            }),
            "branch from 0: aggregate#0 window None keys [word: string] aggs [Count(None) as n] inputs [word as __k0] sort [desc(n), asc_nulls_last(word)] limit#1 3;"
        );
        assert_eq!(
            text(quote! {
                schema Num { v: i64 }
                read(memory, stream = {nums}, schema = Num)
                    .filter(v > 0)
                    .limit(10)
                    .write(console)
            }),
            "branch from 0: filter (v > Int(0)) limit#0 10;"
        );
    }

    #[test]
    fn fingerprint_is_the_hash_of_the_text() {
        // FNV-1a's published 64-bit test vectors
        assert_eq!(super::fnv1a(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(super::fnv1a("a"), 0xaf63_dc4c_8601_ec8c);
        // the fingerprint in the `op_filter` expansion snapshot
        let plan = plan(quote! {
            schema Order { user: string, amount: Option<f64> }
            read(json, path = "landing/", schema = Order)
                .filter(amount > 10.0 || amount.is_null())
                .write(console)
        });
        assert_eq!(super::fingerprint(&plan), "stream:bc37a6e7f429b475");
    }
}
