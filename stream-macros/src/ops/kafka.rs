//! `read(kafka, ..)` and `write(kafka, ..)`: Kafka topics (stream-core's `kafka`
//! feature), checked here and emitted as the `KafkaSource` / `KafkaSink` builder calls
//! they stand for. The options are Spark's, in snake case.
//!
//! - `read(kafka, bootstrap_servers = "host:9092", subscribe = "orders,payments")`, or
//!   in place of `subscribe` (exactly one of the three) `subscribe_pattern = "orders-.*"`
//!   (a regular expression over whole topic names) or `assign = r#"{"orders":[0,1]}"#`
//!   (or a captured `IntoIterator` of `TopicPartition`s)
//! - where the first start reads from, at most one of (a restart resumes from the
//!   checkpoint): `starting_offsets = earliest | latest | r#"{"orders":{"0":23,"1":-2}}"#`
//!   (or a captured `StartingOffsets`; default latest), `starting_timestamp = 1700000000000`
//!   (ms since the epoch) and `starting_offsets_by_timestamp = r#"{"orders":{"0":1700000000000}}"#`
//! - `max_offsets_per_trigger = n`, `min_partitions = n`, `fail_on_data_loss = false`,
//!   `include_headers = true` (a `headers` column, passed on as it is)
//! - `value_schema = Event` decodes each value, a JSON object, into `Event`'s columns,
//!   which take the place of `value`, with `mode = permissive | drop_malformed |
//!   fail_fast` (default `fail_fast`, as the file sources)
//! - `kafka_options = {[("security.protocol", "SSL")]}`: librdkafka settings (Spark's
//!   `kafka.`-prefixed options), any `IntoIterator` of pairs of `Into<String>`
//! - `request_timeout = "10 seconds"`: how soon a broker that went away is reported
//!   (source and sink; default 30 s)
//!
//! The source's columns: `key: Option<binary>`, `value: Option<binary>`, `topic: string`,
//! `partition: i32`, `offset: i64`, `timestamp: timestamp_us`, `timestamp_type: i32`, and
//! with `include_headers` `headers: Option<kafka_headers>`; with `value_schema`, the
//! schema's columns, then `key` and the rest (no `value`).
//!
//! - `write(kafka, bootstrap_servers = "host:9092", topic = "alerts")`, with
//!   `exactly_once = true` (one Kafka transaction per batch), `transactional_id = ".."`
//!   (with `exactly_once`), `value_json = true` (each row but its `key`, `topic`,
//!   `partition` and `headers` as one JSON object) and `kafka_options = {..}`. The rows
//!   give the record's `value` (a string or binary column; not with `value_json`) and
//!   optionally its `key` (string or binary), `topic` (string; needed without the `topic`
//!   option), `partition` (i32) and `headers`. Every output mode.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};

use crate::check::{Checker, option_u64};
use crate::parse::{OptionArg, OptionValue};
use crate::plan::{Column, Schema, SinkPlan, SourceKind};
use crate::types::{ColType, DslType};

/// The options of `read(kafka, ..)`.
pub(crate) const SOURCE_OPTIONS: &[&str] = &[
    "bootstrap_servers",
    "subscribe",
    "subscribe_pattern",
    "assign",
    "starting_offsets",
    "starting_timestamp",
    "starting_offsets_by_timestamp",
    "max_offsets_per_trigger",
    "min_partitions",
    "fail_on_data_loss",
    "include_headers",
    "value_schema",
    "mode",
    "request_timeout",
    "kafka_options",
];

/// The options of `write(kafka, ..)`.
pub(crate) const SINK_OPTIONS: &[&str] = &[
    "bootstrap_servers",
    "topic",
    "exactly_once",
    "transactional_id",
    "value_json",
    "request_timeout",
    "kafka_options",
];

/// A source example, for errors.
pub(crate) const SOURCE_EXAMPLE: &str =
    "read(kafka, bootstrap_servers = \"127.0.0.1:9092\", subscribe = \"events\")";

const SUBSCRIPTIONS: [&str; 3] = ["subscribe", "subscribe_pattern", "assign"];
const STARTS: [&str; 3] = [
    "starting_offsets",
    "starting_timestamp",
    "starting_offsets_by_timestamp",
];

/// The column names the source adds to a value schema's.
const METADATA: [&str; 7] = [
    "key",
    "topic",
    "partition",
    "offset",
    "timestamp",
    "timestamp_type",
    "headers",
];

fn column(name: &str, ty: DslType, nullable: bool) -> Column {
    Column {
        name: name.into(),
        ty: ColType { ty, nullable },
    }
}

/// The source's columns, as `KafkaSource::output_schema` makes them.
fn source_schema(value: Option<Schema>, include_headers: bool) -> Schema {
    let mut schema = match value {
        Some(mut value) => {
            value.push(column("key", DslType::Binary, true));
            value
        }
        None => vec![
            column("key", DslType::Binary, true),
            column("value", DslType::Binary, true),
        ],
    };
    schema.extend([
        column("topic", DslType::String, false),
        column("partition", DslType::I32, false),
        column("offset", DslType::I64, false),
        column("timestamp", DslType::TimestampUs, false),
        column("timestamp_type", DslType::I32, false),
    ]);
    if include_headers {
        schema.push(column("headers", DslType::Headers, true));
    }
    schema
}

/// What the subscription reads, where the block spells it out: starting offsets are
/// checked against it.
enum Reads {
    Topics(Vec<String>),
    Partitions(Vec<(String, i32)>),
    /// A pattern, or a captured value.
    Unknown,
}

/// The text of a string or a bare name; `None` for a capture (or another literal).
fn literal_text(v: &OptionValue) -> Option<String> {
    match v {
        OptionValue::Lit(syn::Lit::Str(s)) => Some(s.value()),
        OptionValue::Name(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A text option as a `String` argument: the literal, or the captured value's
/// `to_string()` (borrowed, so the caller keeps it).
fn text_arg(v: &OptionValue) -> TokenStream {
    match v {
        OptionValue::Capture(_) => {
            let inner = crate::codegen::capture_inner(v);
            quote_spanned!(v.span()=> ::std::string::ToString::to_string(&#inner))
        }
        other => crate::codegen::option_text(other),
    }
}

/// A text option (`options::text`), not empty when written in the block.
fn text(cx: &mut Checker, o: &OptionArg, example: &str) -> bool {
    if !super::options::text(cx, o, example) {
        return false;
    }
    if literal_text(&o.value).is_some_and(|t| t.trim().is_empty()) {
        cx.cx.error(
            o.value.span(),
            format!("`{}` is empty", o.name),
            format!("write `{example}`"),
        );
        return false;
    }
    true
}

/// Checks `read(kafka, ..)`: its builder calls and its columns. `given` is the option
/// list in the order written (for errors on the second of two exclusive options).
pub(crate) fn check_source(
    cx: &mut Checker,
    kind: &syn::Ident,
    options: &HashMap<String, &OptionArg>,
    given: &[OptionArg],
) -> Option<(SourceKind, Schema)> {
    let mut ok = true;
    let servers = super::options::require(cx, kind, options, "bootstrap_servers", SOURCE_EXAMPLE)
        .filter(|o| text(cx, o, "bootstrap_servers = \"127.0.0.1:9092\""));
    let mut calls = Vec::new();

    // exactly one subscription
    let subscriptions: Vec<&OptionArg> = given
        .iter()
        .filter(|o| SUBSCRIPTIONS.contains(&o.name.to_string().as_str()))
        .collect();
    if subscriptions.is_empty() {
        cx.cx.error(
            kind.span(),
            "`kafka` needs a subscription: `subscribe`, `subscribe_pattern` or `assign`",
            "add one: `subscribe = \"events\"` (topics, comma-separated), `subscribe_pattern = \"events-.*\"` or `assign = r#\"{\"events\":[0,1]}\"#`",
        );
        ok = false;
    }
    exclusive(cx, &subscriptions, "a Kafka source reads one subscription");
    ok &= subscriptions.len() <= 1;
    let mut reads = Reads::Unknown;
    if let Some(o) = subscriptions.first() {
        match subscription(cx, o) {
            Some((call, r)) => {
                calls.push(call);
                reads = r;
            }
            None => ok = false,
        }
    }

    // at most one starting position
    let starts: Vec<&OptionArg> = given
        .iter()
        .filter(|o| STARTS.contains(&o.name.to_string().as_str()))
        .collect();
    exclusive(cx, &starts, "a query starts from one place");
    ok &= starts.len() <= 1;
    if let Some(o) = starts.first() {
        match starting(cx, o, &reads) {
            Some(call) => calls.push(call),
            None => ok = false,
        }
    }

    let mut names: Vec<&String> = options.keys().collect();
    names.sort();
    for name in names {
        let o = options[name];
        let span = o.value.span();
        // a captured value goes to the builder call as it is: rustc checks its type, and
        // `KafkaSource` its value when the query starts, as it does a literal's
        if let Some(value) = super::options::capture(o)
            && matches!(
                name.as_str(),
                "max_offsets_per_trigger" | "min_partitions" | "fail_on_data_loss"
            )
        {
            let method = syn::Ident::new(name, span);
            calls.push(quote_spanned!(span=> .#method(#value)));
            continue;
        }
        // `None`: the option's error is reported
        let call = match name.as_str() {
            "max_offsets_per_trigger" => super::source::at_least_one(cx, o)
                .map(|n| quote_spanned!(span=> .max_offsets_per_trigger(#n))),
            "min_partitions" => super::source::at_least_one(cx, o).map(|n| {
                let n = n as usize;
                quote_spanned!(span=> .min_partitions(#n))
            }),
            "request_timeout" => request_timeout(cx, o),
            "fail_on_data_loss" | "include_headers" => {
                super::file_source::boolean(cx, o).map(|b| {
                    let method = syn::Ident::new(name, span);
                    quote_spanned!(span=> .#method(#b))
                })
            }
            _ => continue,
        };
        match call {
            Some(call) => calls.push(call),
            None => ok = false,
        }
    }

    let include_headers = matches!(
        options.get("include_headers").map(|o| &o.value),
        Some(OptionValue::Lit(syn::Lit::Bool(b))) if b.value
    );
    let value = match value_schema(cx, options) {
        Some((schema, call)) => {
            calls.extend(call);
            schema
        }
        None => {
            ok = false;
            None
        }
    };
    let kafka_options = kafka_options(cx, options, &mut ok);
    let servers = servers?.value.clone();
    if !ok {
        return None;
    }
    Some((
        SourceKind::Kafka {
            kind: kind.clone(),
            servers,
            calls,
            options: kafka_options,
        },
        source_schema(value, include_headers),
    ))
}

/// Options of which at most one may be given (`given` in the order written): an error on
/// each after the first.
fn exclusive(cx: &mut Checker, given: &[&OptionArg], why: &str) {
    if let Some((first, rest)) = given.split_first() {
        for o in rest {
            cx.cx.error(
                o.name.span(),
                format!("`{}` and `{}` cannot be used together", first.name, o.name),
                format!("{why}: keep one of them"),
            );
        }
    }
}

/// `subscribe`, `subscribe_pattern` or `assign`: the builder call, and what it reads.
fn subscription(cx: &mut Checker, o: &OptionArg) -> Option<(TokenStream, Reads)> {
    let span = o.value.span();
    match o.name.to_string().as_str() {
        "subscribe" => {
            if !super::options::text(cx, o, "subscribe = \"orders,payments\"") {
                return None;
            }
            match literal_text(&o.value) {
                // Spark's reading of the list: split at commas, trimmed, empty names left out
                Some(text) => {
                    let topics: Vec<String> = text
                        .split(',')
                        .map(str::trim)
                        .filter(|t| !t.is_empty())
                        .map(str::to_string)
                        .collect();
                    if topics.is_empty() {
                        cx.cx.error(
                            span,
                            "`subscribe` names no topic",
                            "list the topics, separated by commas: `subscribe = \"orders,payments\"`",
                        );
                        return None;
                    }
                    let call = quote_spanned!(span=> .subscribe([#(#topics),*]));
                    Some((call, Reads::Topics(topics)))
                }
                None => {
                    let text = text_arg(&o.value);
                    let call = quote_spanned! {span=>
                        .subscribe(
                            #text
                                .split(',')
                                .map(::core::primitive::str::trim)
                                .filter(|__topic| !__topic.is_empty())
                                .map(::std::string::ToString::to_string)
                                .collect::<::std::vec::Vec<_>>(),
                        )
                    };
                    Some((call, Reads::Unknown))
                }
            }
        }
        "subscribe_pattern" => {
            if !text(cx, o, "subscribe_pattern = \"events-.*\"") {
                return None;
            }
            if let Some(pattern) = literal_text(&o.value)
                && let Err(e) = regex_syntax::Parser::new().parse(&pattern)
            {
                let why = match &e {
                    regex_syntax::Error::Parse(e) => e.kind().to_string(),
                    regex_syntax::Error::Translate(e) => e.kind().to_string(),
                    other => other.to_string(),
                };
                cx.cx.error(
                    span,
                    format!("invalid regular expression: {why}"),
                    "the pattern is Rust `regex` syntax, matched against whole topic names: `subscribe_pattern = \"events-.*\"`",
                );
                return None;
            }
            let text = text_arg(&o.value);
            Some((
                quote_spanned!(span=> .subscribe_pattern(#text)),
                Reads::Unknown,
            ))
        }
        _ => match &o.value {
            OptionValue::Capture(_) => {
                let inner = crate::codegen::capture_inner(&o.value);
                Some((quote_spanned!(span=> .assign(#inner)), Reads::Unknown))
            }
            OptionValue::Lit(syn::Lit::Str(s)) => {
                let partitions = assign_json(cx, s)?;
                let tps = partitions.iter().map(|(t, p)| topic_partition(t, *p));
                let call = quote_spanned!(span=> .assign([#(#tps),*]));
                Some((call, Reads::Partitions(partitions)))
            }
            other => {
                cx.cx.error(
                    other.span(),
                    "`assign` takes Spark's JSON object of topics and partitions, as a string",
                    "write `assign = r#\"{\"events\":[0,1]}\"#`, or capture an iterator of `stream_core::kafka::TopicPartition`s: `assign = {partitions}`",
                );
                None
            }
        },
    }
}

/// `TopicPartition::new(topic, partition)`.
fn topic_partition(topic: &str, partition: i32) -> TokenStream {
    quote!(::stream_core::kafka::TopicPartition::new(#topic, #partition))
}

/// Spark's `assign` JSON, `{"events":[0,1]}`: its topic-partitions, in order.
fn assign_json(cx: &mut Checker, s: &syn::LitStr) -> Option<Vec<(String, i32)>> {
    let parsed: BTreeMap<String, Vec<i32>> = match serde_json::from_str(&s.value()) {
        Ok(p) => p,
        Err(e) => {
            cx.cx.error(
                s.span(),
                format!("`assign` is not a JSON object of topics to partition lists: {e}"),
                "write `assign = r#\"{\"events\":[0,1]}\"#`",
            );
            return None;
        }
    };
    let mut out = Vec::new();
    for (topic, partitions) in parsed {
        let mut seen = BTreeSet::new();
        for p in partitions {
            let problem = if topic.trim().is_empty() {
                Some("a topic name is empty".to_string())
            } else if p < 0 {
                Some(format!("partition {p} of `{topic}` is negative"))
            } else if !seen.insert(p) {
                Some(format!("partition {p} of `{topic}` is named twice"))
            } else {
                None
            };
            if let Some(problem) = problem {
                cx.cx.error(
                    s.span(),
                    format!("`assign`: {problem}"),
                    "name each partition once, by its number from 0: `assign = r#\"{\"events\":[0,1]}\"#`",
                );
                return None;
            }
            out.push((topic.clone(), p));
        }
    }
    if out.is_empty() {
        cx.cx.error(
            s.span(),
            "`assign` names no partition",
            "write `assign = r#\"{\"events\":[0,1]}\"#`",
        );
        return None;
    }
    Some(out)
}

/// `starting_offsets`, `starting_timestamp` or `starting_offsets_by_timestamp`: the
/// `.starting_offsets(..)` call.
fn starting(cx: &mut Checker, o: &OptionArg, reads: &Reads) -> Option<TokenStream> {
    let span = o.value.span();
    let starting = quote!(::stream_core::kafka::StartingOffsets);
    let value = match o.name.to_string().as_str() {
        "starting_offsets" => match &o.value {
            OptionValue::Capture(_) => crate::codegen::capture_inner(&o.value),
            OptionValue::Name(n) if n == "earliest" => quote!(#starting::Earliest),
            OptionValue::Name(n) if n == "latest" => quote!(#starting::Latest),
            OptionValue::Lit(syn::Lit::Str(s)) if s.value().trim() == "earliest" => {
                quote!(#starting::Earliest)
            }
            OptionValue::Lit(syn::Lit::Str(s)) if s.value().trim() == "latest" => {
                quote!(#starting::Latest)
            }
            OptionValue::Lit(syn::Lit::Str(s)) if s.value().trim_start().starts_with('{') => {
                let offsets = offsets_json(cx, o, s, reads)?;
                quote!(#starting::Offsets(#offsets))
            }
            other => {
                cx.cx.error(
                    other.span(),
                    "`starting_offsets` is `earliest`, `latest` or Spark's JSON object of offsets",
                    "write `starting_offsets = earliest`, or `starting_offsets = r#\"{\"events\":{\"0\":23,\"1\":-2}}\"#` (-2 is the earliest offset, -1 the latest)",
                );
                return None;
            }
        },
        "starting_timestamp" if matches!(o.value, OptionValue::Capture(_)) => {
            let ms = crate::codegen::capture_inner(&o.value);
            quote!(#starting::Timestamp(#ms))
        }
        "starting_timestamp" => {
            // at most i64::MAX: the cast is exact
            let ms = option_u64(&mut cx.cx, o, 0, i64::MAX as u64)? as i64;
            quote!(#starting::Timestamp(#ms))
        }
        _ => match &o.value {
            OptionValue::Lit(syn::Lit::Str(s)) => {
                let times = offsets_json(cx, o, s, reads)?;
                quote!(#starting::Timestamps(#times))
            }
            OptionValue::Capture(_) => {
                let times = crate::codegen::capture_inner(&o.value);
                quote!(#starting::Timestamps(#times))
            }
            other => {
                cx.cx.error(
                    other.span(),
                    "`starting_offsets_by_timestamp` takes Spark's JSON object of times, as a string",
                    "write `starting_offsets_by_timestamp = r#\"{\"events\":{\"0\":1700000000000}}\"#` (ms since the epoch), or capture a `stream_core::kafka::PartitionOffsets`",
                );
                return None;
            }
        },
    };
    Some(quote_spanned!(span=> .starting_offsets(#value)))
}

/// The JSON of `starting_offsets` (offsets, -2 earliest and -1 latest) or
/// `starting_offsets_by_timestamp` (ms since the epoch), `{"events":{"0":23}}`, checked
/// against what the source reads: a `PartitionOffsets` expression.
fn offsets_json(
    cx: &mut Checker,
    o: &OptionArg,
    s: &syn::LitStr,
    reads: &Reads,
) -> Option<TokenStream> {
    let by_time = o.name != "starting_offsets";
    let (example, what) = if by_time {
        (
            "r#\"{\"events\":{\"0\":1700000000000}}\"#",
            "times (ms since the epoch)",
        )
    } else {
        ("r#\"{\"events\":{\"0\":23,\"1\":-2}}\"#", "offsets")
    };
    let name = &o.name;
    let fail = |cx: &mut Checker, message: String| {
        cx.cx
            .error(s.span(), message, format!("write `{name} = {example}`"));
        None
    };
    let parsed: BTreeMap<String, BTreeMap<i32, i64>> = match serde_json::from_str(&s.value()) {
        Ok(p) => p,
        Err(e) => {
            return fail(
                cx,
                format!("`{name}` is not a JSON object of topics to partitions to {what}: {e}"),
            );
        }
    };
    let mut entries = Vec::new();
    for (topic, partitions) in &parsed {
        for (&p, &at) in partitions {
            if p < 0 {
                return fail(
                    cx,
                    format!("`{name}`: partition {p} of `{topic}` is negative"),
                );
            }
            if by_time && at < 0 {
                return fail(
                    cx,
                    format!("`{name}`: the time {at} of `{topic}` partition {p} is negative"),
                );
            }
            if !by_time && at < -2 {
                return fail(
                    cx,
                    format!(
                        "`{name}`: offset {at} of `{topic}` partition {p} is negative and neither -2 (earliest) nor -1 (latest)"
                    ),
                );
            }
            match reads {
                Reads::Topics(topics) if !topics.contains(topic) => {
                    return fail(
                        cx,
                        format!(
                            "`{name}` names `{topic}`, a topic the source does not subscribe to"
                        ),
                    );
                }
                Reads::Partitions(assigned) if !assigned.contains(&(topic.clone(), p)) => {
                    return fail(
                        cx,
                        format!("`{name}` names `{topic}` partition {p}, which `assign` does not"),
                    );
                }
                _ => {}
            }
            entries.push((topic.clone(), p, at));
        }
    }
    if entries.is_empty() {
        return fail(cx, format!("`{name}` names no partition"));
    }
    // starting offsets name every partition read (times may leave some out)
    if !by_time {
        let missing: Vec<String> = match reads {
            Reads::Topics(topics) => topics
                .iter()
                .filter(|t| !parsed.contains_key(*t))
                .map(|t| format!("`{t}`"))
                .collect(),
            Reads::Partitions(assigned) => assigned
                .iter()
                .filter(|(t, p)| !parsed.get(t).is_some_and(|ps| ps.contains_key(p)))
                .map(|(t, p)| format!("`{t}` partition {p}"))
                .collect(),
            Reads::Unknown => Vec::new(),
        };
        if !missing.is_empty() {
            return fail(
                cx,
                format!(
                    "`{name}` gives no offset for {}: every partition read needs one",
                    missing.join(", ")
                ),
            );
        }
    }
    let inserts = entries.iter().map(|(topic, p, at)| {
        let tp = topic_partition(topic, *p);
        quote!(__offsets.insert(&#tp, #at);)
    });
    Some(quote!({
        let mut __offsets = ::stream_core::kafka::PartitionOffsets::default();
        #(#inserts)*
        __offsets
    }))
}

/// `value_schema = Event` with its `mode`: the columns decoded from the value (`None`
/// without the option) and the `.value_json(..)` call. `None` after an error.
fn value_schema(
    cx: &mut Checker,
    options: &HashMap<String, &OptionArg>,
) -> Option<(Option<Schema>, Option<TokenStream>)> {
    let mode = options.get("mode");
    let Some(o) = options.get("value_schema") else {
        if let Some(mode) = mode {
            cx.cx.error(
                mode.name.span(),
                "`mode` is for values decoded with `value_schema`",
                "add `value_schema = Event` (a schema of the block) to decode each value as a JSON object, or remove `mode`",
            );
            return None;
        }
        return Some((None, None));
    };
    let schema = match &o.value {
        OptionValue::Name(name) => cx.named_schema(name),
        other => {
            cx.cx.error(
                other.span(),
                "`value_schema` names a schema of the block",
                "write `value_schema = Event`",
            );
            None
        }
    };
    let mode = match mode {
        None => Some(("fail_fast", o.value.span())),
        Some(m) => match &m.value {
            OptionValue::Name(n)
                if matches!(
                    n.to_string().as_str(),
                    "permissive" | "drop_malformed" | "fail_fast"
                ) =>
            {
                Some((
                    match n.to_string().as_str() {
                        "permissive" => "permissive",
                        "drop_malformed" => "drop_malformed",
                        _ => "fail_fast",
                    },
                    n.span(),
                ))
            }
            other => {
                cx.cx.error(
                    other.span(),
                    "`mode` is `permissive`, `drop_malformed` or `fail_fast`",
                    "write `mode = drop_malformed`",
                );
                None
            }
        },
    };
    let (schema, (mode, mode_span)) = (schema?, mode?);
    let mut ok = true;
    for c in &schema {
        if METADATA.contains(&c.name.as_str()) || c.name == "value" {
            cx.cx.error(
                o.value.span(),
                format!(
                    "`{}` of the value schema is also a column of the Kafka source",
                    c.name
                ),
                "the source's columns are key, topic, partition, offset, timestamp, timestamp_type and headers: give the value's column another name (a JSON field of the same name cannot be decoded yet)",
            );
            ok = false;
        } else if c.name == "_corrupt_record"
            && c.ty
                != (ColType {
                    ty: DslType::String,
                    nullable: true,
                })
        {
            cx.cx.error(
                o.value.span(),
                format!("`_corrupt_record` of the value schema is a {}", c.ty),
                "declare it `_corrupt_record: Option<string>`: it holds the raw value of a record that does not decode, null otherwise",
            );
            ok = false;
        }
    }
    if mode == "permissive"
        && let Some(c) = schema.iter().find(|c| !c.ty.nullable)
    {
        cx.cx.error(
            mode_span,
            format!(
                "permissive mode makes every column of a malformed record null, but `{}` is not nullable",
                c.name
            ),
            format!(
                "declare it `{}: Option<{}>`, or use `mode = drop_malformed` or `fail_fast`",
                c.name,
                c.ty.ty.name()
            ),
        );
        ok = false;
    }
    if !ok {
        return None;
    }
    let variant = match mode {
        "permissive" => quote!(Permissive),
        "drop_malformed" => quote!(DropMalformed),
        _ => quote!(FailFast),
    };
    let value = crate::codegen::schema_ref(&schema);
    let span = o.value.span();
    let call = quote_spanned!(span=> .value_json(#value, ::stream_core::ParseMode::#variant));
    Some((Some(schema), Some(call)))
}

/// `request_timeout = "30 seconds"` (or a captured `Duration`): the builder call.
fn request_timeout(cx: &mut Checker, o: &OptionArg) -> Option<TokenStream> {
    let timeout = super::options::duration(cx, o, "the timeout", "10 seconds")?;
    let span = o.value.span();
    Some(quote_spanned!(span=> .request_timeout(#timeout)))
}

/// `kafka_options = {pairs}`, if given: the captured value. Anything else is an error
/// (and clears `ok`).
fn kafka_options(
    cx: &mut Checker,
    options: &HashMap<String, &OptionArg>,
    ok: &mut bool,
) -> Option<OptionValue> {
    let o = options.get("kafka_options")?;
    if matches!(o.value, OptionValue::Capture(_)) {
        return Some(o.value.clone());
    }
    *ok = false;
    cx.cx.error(
        o.value.span(),
        "`kafka_options` takes librdkafka settings from outside the block",
        "capture them, any iterator of (name, value) pairs: `kafka_options = {[(\"security.protocol\", \"SSL\")]}`",
    );
    None
}

/// Checks `write(kafka, ..)` against the stream it writes (`schema`; `None` when the
/// stream had errors: the columns are then not checked).
pub(crate) fn check_sink(
    cx: &mut Checker,
    kind: &syn::Ident,
    options: &HashMap<String, &OptionArg>,
    schema: Option<&Schema>,
) -> Option<SinkPlan> {
    let mut ok = true;
    let servers = super::options::require(
        cx,
        kind,
        options,
        "bootstrap_servers",
        "write(kafka, bootstrap_servers = \"127.0.0.1:9092\", topic = \"out\")",
    )
    .filter(|o| text(cx, o, "bootstrap_servers = \"127.0.0.1:9092\""));
    let flag = |cx: &mut Checker, name: &str| -> Option<bool> {
        match options.get(name) {
            Some(o) => super::file_source::boolean(cx, o),
            None => Some(false),
        }
    };
    // `exactly_once`: the argument of its builder call, a literal or a captured `bool`
    // (`None` after an error), and whether it is surely off (left out or `false`)
    let (exactly_once, surely_off) = match options.get("exactly_once") {
        None => (None, true),
        Some(o) => match super::options::capture(o) {
            Some(value) => (Some(value), false),
            None => match super::file_source::boolean(cx, o) {
                Some(b) => (Some(quote!(#b)), !b),
                None => (None, false),
            },
        },
    };
    let value_json = flag(cx, "value_json");
    ok &= value_json.is_some();
    let mut calls = Vec::new();
    let mut names: Vec<&String> = options.keys().collect();
    names.sort();
    for name in names {
        let o = options[name];
        let span = o.value.span();
        // `None`: the option's error is reported
        let call = match name.as_str() {
            "topic" => text(cx, o, "topic = \"out\"").then(|| {
                let topic = text_arg(&o.value);
                quote_spanned!(span=> .topic(#topic))
            }),
            "transactional_id" => {
                if surely_off {
                    cx.cx.error(
                        o.name.span(),
                        "`transactional_id` is only for `exactly_once = true`",
                        "add `exactly_once = true`, or remove it",
                    );
                    None
                } else {
                    text(cx, o, "transactional_id = \"orders-to-alerts\"").then(|| {
                        let id = text_arg(&o.value);
                        quote_spanned!(span=> .transactional_id(#id))
                    })
                }
            }
            "request_timeout" => request_timeout(cx, o),
            "exactly_once" => exactly_once
                .as_ref()
                .map(|value| quote_spanned!(span=> .exactly_once(#value))),
            "value_json" => value_json.map(|b| quote_spanned!(span=> .value_json(#b))),
            _ => continue,
        };
        match call {
            Some(call) => calls.push(call),
            None => ok = false,
        }
    }
    if let Some(schema) = schema {
        ok &= sink_columns(
            cx,
            kind.span(),
            schema,
            value_json.unwrap_or(false),
            options.contains_key("topic"),
        );
    }
    let kafka_options = kafka_options(cx, options, &mut ok);
    let servers = servers?.value.clone();
    if !ok {
        return None;
    }
    Some(SinkPlan::Kafka {
        kind: kind.clone(),
        servers,
        calls,
        options: kafka_options,
    })
}

/// The columns a record is made of, checked as `KafkaSink` reads them; errors on the
/// sink's name. `false` after an error.
fn sink_columns(
    cx: &mut Checker,
    span: Span,
    schema: &Schema,
    value_json: bool,
    topic_option: bool,
) -> bool {
    let mut ok = true;
    let find = |name: &str| schema.iter().find(|c| c.name == name);
    let bytes = [DslType::String, DslType::Binary];
    let mut expect = |cx: &mut Checker, name: &str, types: &[DslType], fix: &str| {
        if let Some(c) = find(name)
            && !types.contains(&c.ty.ty)
        {
            let names: Vec<String> = types.iter().map(|t| format!("`{}`", t.name())).collect();
            cx.cx.error(
                span,
                format!(
                    "column `{name}` is a {}, but a Kafka record's {name} takes {}",
                    c.ty,
                    names.join(" or ")
                ),
                fix,
            );
            ok = false;
        }
    };
    if !value_json {
        expect(
            cx,
            "value",
            &bytes,
            "cast it before `write`: `.with_column(value, value as string)`",
        );
    }
    expect(
        cx,
        "key",
        &bytes,
        "cast it before `write`: `.with_column(key, key as string)`",
    );
    expect(
        cx,
        "topic",
        &[DslType::String],
        "cast it before `write`: `.with_column(topic, topic as string)`",
    );
    expect(
        cx,
        "partition",
        &[DslType::I32],
        "cast it before `write`: `.with_column(partition, partition as i32)`",
    );
    if let Some(c) = find("headers")
        && c.ty.ty != DslType::Headers
    {
        cx.cx.error(
            span,
            format!(
                "column `headers` is a {}, but a Kafka record's headers come from a Kafka source's `headers` column",
                c.ty
            ),
            "rename it before `write` (`.with_column_renamed(headers, ..)`), or drop it",
        );
        ok = false;
    }
    if !value_json && find("value").is_none() {
        cx.cx.error(
            span,
            "the rows written to Kafka have no `value` column",
            "make one, a string or binary: `.select(user as key, amount as string as value)`; or write each row as a JSON object with `value_json = true`",
        );
        ok = false;
    }
    if !topic_option && find("topic").is_none() {
        cx.cx.error(
            span,
            "the Kafka sink has no topic: no `topic` option and no `topic` column",
            "add `topic = \"out\"`, or a string column `topic` that names each row's topic",
        );
        ok = false;
    }
    ok
}

/// The source expression of a checked `read(kafka, ..)`; without stream-core's `kafka`
/// feature, an error on `kafka` that names it.
pub(crate) fn emit_source(
    kind: &syn::Ident,
    servers: &OptionValue,
    calls: &[TokenStream],
    options: Option<&OptionValue>,
) -> TokenStream {
    let servers = text_arg(servers);
    let mut source = quote!(::stream_core::kafka::KafkaSource::new(#servers) #(#calls)*);
    if let Some(options) = options {
        source = with_options(source, options);
    }
    quote_spanned!(kind.span()=> ::stream_core::__private::__kafka_source!(#source))
}

/// The sink expression of a checked `write(kafka, ..)` (see [`emit_source`]).
pub(crate) fn emit_sink(sink: &SinkPlan) -> TokenStream {
    let SinkPlan::Kafka {
        kind,
        servers,
        calls,
        options,
    } = sink
    else {
        return TokenStream::new();
    };
    let servers = text_arg(servers);
    let mut sink = quote!(::stream_core::kafka::KafkaSink::new(#servers) #(#calls)*);
    if let Some(options) = options {
        sink = with_options(sink, options);
    }
    quote_spanned!(kind.span()=> ::stream_core::__private::__kafka_sink!(#sink))
}

/// `builder.option(k, v)` for each pair of the captured `kafka_options`.
fn with_options(builder: TokenStream, options: &OptionValue) -> TokenStream {
    let pairs = crate::codegen::capture_inner(options);
    quote_spanned! {options.span()=>
        ::core::iter::Iterator::fold(
            ::core::iter::IntoIterator::into_iter(#pairs),
            #builder,
            |__builder, (__key, __value)| __builder.option(__key, __value),
        )
    }
}
