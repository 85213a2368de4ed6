//! The logical plan: what a checked `stream!` block computes, as `check` builds it and
//! the passes and `codegen` read it.
//!
//! A [`Plan`] is the block's sources, the branches of typed operators ([`TypedOp`]) that
//! carry each source's rows to the one sink, the sink, the query's settings, the values
//! captured from Rust, and the row structs and `map` functions the expansion declares.
//! Everything in it has been checked: codegen reports no errors.
//!
//! - `prune.rs`, `fuse.rs`: the passes over a plan, run in that order between the check
//!   and codegen (only the columns read later are carried; adjacent projections fused).
//! - `fingerprint.rs`: the plan's fingerprint text, stored in the checkpoint.
//! - `explain.rs`: the plan's text for people, which the pipeline's `explain` returns.

pub(crate) mod explain;
pub(crate) mod fingerprint;
pub(crate) mod fuse;
pub(crate) mod prune;

use proc_macro2::Span;

use crate::check::{MapFn, RowDef, TExpr};
use crate::parse::OptionValue;
use crate::types::ColType;

/// Declares an enum of a closed set of names the block writes (`Append = "append"`):
/// `from_name` reads a name, `as_str` gives it back, exactly, for diagnostics and
/// generated code, and `Display` writes it.
macro_rules! named_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $($(#[$vmeta:meta])* $variant:ident = $text:literal,)*
        }
    ) => {
        $(#[$meta])*
        $vis enum $name {
            $($(#[$vmeta])* $variant,)*
        }

        // not every enum reads names, or lists its values
        #[allow(dead_code)]
        impl $name {
            /// Every value, in declaration order.
            pub(crate) const ALL: &'static [Self] = &[$(Self::$variant),*];

            /// The value of a name as the block writes it.
            pub(crate) fn from_name(name: &str) -> Option<Self> {
                match name {
                    $($text => Some(Self::$variant),)*
                    _ => None,
                }
            }

            /// The name as the block writes it.
            pub(crate) fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text,)*
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use named_enum;

/// Runs the passes over a checked plan, in the order codegen expects: column pruning,
/// then fusion of adjacent projections.
pub(crate) fn run_passes(plan: &mut Plan) {
    prune::prune(plan);
    fuse::fuse(plan);
}

/// A column of a stream's schema.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Column {
    pub(crate) name: String,
    pub(crate) ty: ColType,
}

/// A stream's columns, in order.
pub(crate) type Schema = Vec<Column>;

/// A Rust value captured with `{ .. }`, evaluated once when the query is built.
pub(crate) struct Capture {
    pub(crate) block: syn::ExprBlock,
    /// The type the checks gave it (from where it is used).
    pub(crate) ty: crate::types::DslType,
}

named_enum! {
    /// The DSL's functions a plan calls (`TKind::Call`), by the name the block writes:
    /// their type rules are in `check/functions.rs`, their code in
    /// `codegen/functions.rs`. A `when(..).otherwise(..)` chain is one `When` call.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub(crate) enum Function {
        IsNull = "is_null",
        IsNotNull = "is_not_null",
        Coalesce = "coalesce",
        When = "when",
        Lower = "lower",
        Upper = "upper",
        Length = "length",
        Trim = "trim",
        Substring = "substring",
        Concat = "concat",
        Contains = "contains",
        StartsWith = "starts_with",
        EndsWith = "ends_with",
        RegexpLike = "regexp_like",
        Abs = "abs",
        Round = "round",
        Floor = "floor",
        Ceil = "ceil",
        ToTimestamp = "to_timestamp",
        DateTrunc = "date_trunc",
        Hour = "hour",
        Minute = "minute",
        ToDate = "to_date",
        CurrentTimestamp = "current_timestamp",
    }
}

/// A typed operator, as codegen runs it on a batch.
#[derive(Clone, Debug)]
pub(crate) enum TypedOp {
    /// Keep the rows where the predicate is true.
    Filter { pred: TExpr },
    /// Compute the output columns (select, with_column, rename and drop all become one).
    Project {
        exprs: Vec<(String, TExpr)>,
        schema: Schema,
    },
    /// `map` / `flat_map`: `functions[function]` from rows of `input` to rows of
    /// `output`.
    Map {
        function: usize,
        input: Schema,
        output: Schema,
    },
    /// `join`: the rows of `plan.joins[join]`'s table matched to each row. The output is
    /// the input's columns `left_out`, then the table's columns `right_out` (at first
    /// every input column and every table column but the keys; column pruning leaves out
    /// the ones nothing after the join reads).
    Join {
        join: usize,
        input: Schema,
        output: Schema,
        /// The key columns in `input` (a row with a null one matches nothing).
        left_key: Vec<usize>,
        /// The columns of `input` in the output, in order.
        left_out: Vec<usize>,
        /// The columns of the table (`plan.joins[join].right`) in the output, in order.
        right_out: Vec<usize>,
    },
    /// `with_watermark`: reports the event times of `column` (in its unit, `unit_per_ms`
    /// per millisecond) as watermark operator `id`.
    Watermark {
        column: usize,
        delay_ms: i64,
        unit_per_ms: i64,
        id: usize,
    },
    /// `group_by(..).agg(..)`: the end of the branches' first stage.
    Aggregate(Box<crate::ops::aggregate::AggPlan>),
    /// `drop_duplicates(..)`: the end of the branches' first stage.
    Dedup(Box<crate::ops::dedup::DedupPlan>),
    /// `join(other, ..)` of two streams: the end of the branches' first stage; `side` is
    /// 0 on the branches of the stream joined, 1 on those of `other`.
    StreamJoin {
        plan: Box<crate::ops::stream_join::StreamJoinPlan>,
        side: usize,
    },
    /// `order_by(..)`: the rows in the order of their sort keys. It and what follows it
    /// run in the pipeline's last stage, on one task that gets every row.
    Sort(Box<crate::ops::sort::SortPlan>),
    /// `limit(n)`: the first `n` rows (append mode: of the stream in all, a count kept
    /// in state; complete mode: of each batch's result). Runs as `Sort` does.
    Limit(crate::ops::limit::LimitPlan),
}

/// The rows of one source on their way to the sink.
#[derive(Clone, Debug)]
pub(crate) struct Branch {
    /// The index of the source in `Plan::sources`.
    pub(crate) source: usize,
    /// The operators, in order.
    pub(crate) ops: Vec<TypedOp>,
}

/// A source of the query.
pub(crate) struct SourcePlan {
    /// What it reads, with its settings.
    pub(crate) kind: SourceKind,
    /// The columns it hands the pipeline (after pruning, only those read later).
    pub(crate) schema: Schema,
    /// The `read` token, where the source's generated code points.
    pub(crate) span: Span,
}

named_enum! {
    /// The file formats of `read(..)` and `write(..)`, by the name written there (also
    /// the `FileSource` constructor's name). `Text` is a source only (one `value` column
    /// per line); the file sinks write `Json`, `Csv` and `Parquet`.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub(crate) enum FileFormat {
        Json = "json",
        Csv = "csv",
        Parquet = "parquet",
        Text = "text",
    }
}

/// The kinds of source and their settings.
pub(crate) enum SourceKind {
    /// `read(json | csv | parquet | text, path = .., ..)`: a file source and the builder
    /// calls of its options.
    File {
        format: FileFormat,
        path: OptionValue,
        options: Vec<crate::ops::file_source::FileOption>,
    },
    /// `read(memory, stream = {input})`: the captured `MemoryStream`.
    Memory { stream: OptionValue },
    /// The rate source: `rows_per_second` (a `u64`) and `num_partitions` (a `usize`),
    /// literals or captured values.
    Rate {
        rows_per_second: proc_macro2::TokenStream,
        num_partitions: Option<proc_macro2::TokenStream>,
    },
    /// `read(kafka, ..)`: `KafkaSource` builder calls after `new(servers)`, then an
    /// `option` call per pair of the captured `kafka_options`.
    Kafka {
        kind: syn::Ident,
        servers: OptionValue,
        calls: Vec<proc_macro2::TokenStream>,
        options: Option<OptionValue>,
    },
}

/// The sink of the query.
pub(crate) enum SinkPlan {
    /// The console sink: `num_rows` (a `usize`) and `truncate` (a `bool`), literals or
    /// captured values, and `buffer`, a captured `ConsoleOutput` to print into.
    Console {
        num_rows: Option<proc_macro2::TokenStream>,
        truncate: Option<proc_macro2::TokenStream>,
        buffer: Option<proc_macro2::TokenStream>,
    },
    /// `write(memory, name = ..)`: the table's name.
    Memory { name: OptionValue },
    /// `write(foreach_batch, f = {..})`: the captured closure.
    ForeachBatch { f: OptionValue },
    /// `write(parquet | json | csv, ..)`: `FileSink` builder calls after `new(path)`;
    /// `kind` is the format's token, where a missing stream-core feature is reported.
    Files {
        format: FileFormat,
        kind: syn::Ident,
        path: OptionValue,
        calls: Vec<proc_macro2::TokenStream>,
    },
    /// `write(delta, ..)`: `DeltaSink` builder calls after `new(path)`.
    Delta {
        kind: syn::Ident,
        path: OptionValue,
        calls: Vec<proc_macro2::TokenStream>,
    },
    /// `write(kafka, ..)`: `KafkaSink` builder calls after `new(servers)`, then an
    /// `option` call per pair of the captured `kafka_options`.
    Kafka {
        kind: syn::Ident,
        servers: OptionValue,
        calls: Vec<proc_macro2::TokenStream>,
        options: Option<OptionValue>,
    },
}

named_enum! {
    /// A query's output mode (Spark's): which rows of the result table a batch writes.
    /// Its name is the one written in `.output_mode(..)` and shown in diagnostics.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
    pub(crate) enum OutputMode {
        /// Only new rows, each once: the default.
        #[default]
        Append = "append",
        /// The rows that changed in the batch.
        Update = "update",
        /// The whole result table, every batch.
        Complete = "complete",
    }
}

/// `.output_mode(..)` as given: the mode and its token, where errors about it point.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ModeSetting {
    pub(crate) mode: OutputMode,
    pub(crate) span: Span,
}

named_enum! {
    /// `.watermark_policy(min | max)`: how the watermarks of several inputs make the
    /// query's.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub(crate) enum WatermarkPolicy {
        /// The slowest input decides (the default).
        Min = "min",
        /// The fastest input decides.
        Max = "max",
    }
}

/// `.trigger(..)`, checked: when the query runs its batches.
#[derive(Clone)]
pub(crate) enum Trigger {
    /// `default`: the next batch as soon as the last one is done.
    Default,
    /// `once`: one batch, then stop.
    Once,
    /// `available_now`: batches until the input available at the start is read.
    AvailableNow,
    /// `processing_time("10 seconds")`: a batch every so many milliseconds.
    ProcessingTime { ms: u64 },
    /// `processing_time({interval})`: the interval, a captured `Duration`.
    ProcessingTimeCaptured(syn::ExprBlock),
    /// `trigger({value})`: a captured `stream_core::Trigger`.
    Captured(syn::ExprBlock),
}

/// `output_mode`, `watermark_policy`, `trigger`, `checkpoint`, `query_name`,
/// `late_rows`: each `None` when the block leaves it out.
#[derive(Default)]
pub(crate) struct Settings {
    pub(crate) output_mode: Option<ModeSetting>,
    pub(crate) watermark_policy: Option<WatermarkPolicy>,
    pub(crate) trigger: Option<Trigger>,
    pub(crate) checkpoint: Option<OptionValue>,
    pub(crate) query_name: Option<OptionValue>,
    pub(crate) late_rows: Option<LateRowsPlan>,
}

impl Settings {
    /// The query's output mode: the one given, or append.
    pub(crate) fn mode(&self) -> OutputMode {
        self.output_mode.map(|m| m.mode).unwrap_or_default()
    }
}

/// `.late_rows(kind, ..)`: the second sink, for the rows dropped as late.
pub(crate) struct LateRowsPlan {
    pub(crate) sink: SinkPlan,
    /// The `late_rows` token, where errors about the setting point.
    pub(crate) span: Span,
    /// The schema of the late rows (the stateful operator's input); set once the
    /// written stream is known.
    pub(crate) schema: Option<Schema>,
}

/// A checked pipeline, ready for the passes and codegen.
pub(crate) struct Plan {
    /// The sources the written stream reads, in the order of `Branch::source`.
    pub(crate) sources: Vec<SourcePlan>,
    /// The operators from each source to the sink.
    pub(crate) branches: Vec<Branch>,
    /// The columns the sink gets.
    pub(crate) output: Schema,
    pub(crate) sink: SinkPlan,
    pub(crate) settings: Settings,
    /// The `{ .. }` values, in the order of `TKind::Capture`'s index.
    pub(crate) captures: Vec<Capture>,
    /// The row structs: map inputs and outputs, and the output row.
    pub(crate) rows: Vec<RowDef>,
    /// The `map` / `flat_map` functions.
    pub(crate) functions: Vec<MapFn>,
    /// The stream–static joins.
    pub(crate) joins: Vec<crate::ops::join::JoinPlan>,
    /// The schema files the block read: the expansion includes them, so that cargo
    /// rebuilds the crate when one changes.
    pub(crate) schema_files: Vec<std::path::PathBuf>,
    /// Warnings (the span and the text): state that can only grow.
    pub(crate) warnings: Vec<(Span, String)>,
    /// The struct the output rows are read back as (`rows[output_row]`): only for a
    /// memory sink, the one sink whose rows a query hands back.
    pub(crate) output_row: Option<usize>,
}

/// For tests: the plan of a block that checks, after the passes, as codegen gets it.
#[cfg(test)]
pub(crate) fn passed_plan(input: proc_macro2::TokenStream) -> Plan {
    let block = crate::parse::parse_block(input).expect("parses");
    let (plan, cx) = crate::check::check_block(&block, crate::diag::Ctxt::default());
    assert!(!cx.has_errors(), "{}", cx.into_compile_errors());
    let mut plan = plan.expect("checks");
    run_passes(&mut plan);
    plan
}

#[cfg(test)]
mod tests {
    use proc_macro2::TokenStream;
    use quote::quote;

    use super::WatermarkPolicy;
    use super::{FileFormat, Function, OutputMode, Plan, SinkPlan, SourceKind, Trigger};
    use crate::diag::Ctxt;

    fn plan(input: TokenStream) -> Plan {
        let block = crate::parse::parse_block(input).expect("parses");
        let (plan, cx) = crate::check::check_block(&block, Ctxt::default());
        assert!(!cx.has_errors(), "{}", cx.into_compile_errors());
        plan.expect("checks")
    }

    /// The settings written after `write(console)` of a rate source.
    fn settings(settings: TokenStream) -> Plan {
        plan(quote!(read(rate, rows_per_second = 1).write(console) #settings))
    }

    #[test]
    fn output_modes_read_and_give_back_their_names() {
        assert_eq!(OutputMode::ALL.len(), 3);
        for (mode, name) in OutputMode::ALL.iter().zip(["append", "update", "complete"]) {
            assert_eq!(mode.as_str(), name);
            assert_eq!(mode.to_string(), name);
            assert_eq!(OutputMode::from_name(name), Some(*mode));
        }
        for other in ["Append", "APPEND", "complete ", "overwrite", ""] {
            assert_eq!(OutputMode::from_name(other), None, "{other:?}");
        }
        assert_eq!(OutputMode::default(), OutputMode::Append);
    }

    #[test]
    fn every_named_enum_round_trips() {
        fn round_trip<T: Copy + PartialEq + std::fmt::Debug + std::fmt::Display>(
            all: &[T],
            name: fn(T) -> &'static str,
            from: fn(&str) -> Option<T>,
        ) {
            for &v in all {
                assert_eq!(from(name(v)), Some(v));
                assert_eq!(v.to_string(), name(v));
            }
        }
        round_trip(FileFormat::ALL, FileFormat::as_str, FileFormat::from_name);
        round_trip(
            WatermarkPolicy::ALL,
            WatermarkPolicy::as_str,
            WatermarkPolicy::from_name,
        );
        round_trip(Function::ALL, Function::as_str, Function::from_name);
        round_trip(
            crate::check::StatefulKind::ALL,
            crate::check::StatefulKind::as_str,
            crate::check::StatefulKind::from_name,
        );
    }

    #[test]
    fn named_enum_keeps_attributes_and_order() {
        named_enum! {
            #[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
            enum Probe {
                One = "one",
                #[default]
                Two = "two",
            }
        }
        assert_eq!(Probe::ALL, &[Probe::One, Probe::Two]);
        assert_eq!(Probe::default(), Probe::Two);
    }

    #[test]
    fn the_output_mode_in_the_plan_is_the_one_written() {
        assert_eq!(
            settings(quote!()).settings.output_mode.map(|m| m.mode),
            None
        );
        assert_eq!(settings(quote!()).settings.mode(), OutputMode::Append);
        for (written, mode) in [
            (quote!(append), OutputMode::Append),
            (quote!(update), OutputMode::Update),
        ] {
            let plan = settings(quote!(.output_mode(#written)));
            assert_eq!(plan.settings.output_mode.map(|m| m.mode), Some(mode));
            assert_eq!(plan.settings.mode(), mode);
        }
    }

    #[test]
    fn triggers_are_checked_into_the_plan() {
        let trigger = |t: TokenStream| settings(quote!(.trigger(#t))).settings.trigger;
        assert!(matches!(trigger(quote!(default)), Some(Trigger::Default)));
        assert!(matches!(trigger(quote!(once)), Some(Trigger::Once)));
        assert!(matches!(
            trigger(quote!(available_now)),
            Some(Trigger::AvailableNow)
        ));
        assert!(matches!(
            trigger(quote!(processing_time("2 minutes"))),
            Some(Trigger::ProcessingTime { ms: 120_000 })
        ));
        assert!(matches!(
            trigger(quote!(processing_time({ interval }))),
            Some(Trigger::ProcessingTimeCaptured(_))
        ));
        assert!(matches!(trigger(quote!({ t })), Some(Trigger::Captured(_))));
        assert!(settings(quote!()).settings.trigger.is_none());
    }

    #[test]
    fn policy_and_formats_are_enums_in_the_plan() {
        let policy = settings(quote!(.watermark_policy(max)))
            .settings
            .watermark_policy;
        assert_eq!(policy, Some(WatermarkPolicy::Max));
        let files = plan(quote!(
            read(text, path = "logs/")
                .write(csv, path = "out/")
                .checkpoint("ck")
        ));
        assert!(matches!(
            files.sources[0].kind,
            SourceKind::File {
                format: FileFormat::Text,
                ..
            }
        ));
        assert!(matches!(
            files.sink,
            SinkPlan::Files {
                format: FileFormat::Csv,
                ..
            }
        ));
    }
}
