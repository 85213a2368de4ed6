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

pub(crate) mod fingerprint;
pub(crate) mod fuse;
pub(crate) mod prune;

use proc_macro2::Span;

use crate::check::{MapFn, RowDef, TExpr};
use crate::parse::{OptionValue, TriggerSpec};
use crate::types::ColType;

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
    pub(crate) ty: crate::types::DslType,
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
}

/// The rows of one source on their way to the sink.
#[derive(Clone, Debug)]
pub(crate) struct Branch {
    pub(crate) source: usize,
    pub(crate) ops: Vec<TypedOp>,
}

/// A source of the query.
pub(crate) struct SourcePlan {
    pub(crate) kind: SourceKind,
    pub(crate) schema: Schema,
    pub(crate) span: Span,
}

/// The kinds of source and their settings.
pub(crate) enum SourceKind {
    /// A file source: `format` is `json`, `csv`, `parquet` or `text`.
    File {
        format: &'static str,
        path: OptionValue,
        options: Vec<crate::ops::file_source::FileOption>,
    },
    Memory {
        stream: OptionValue,
    },
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
    Memory {
        name: OptionValue,
    },
    ForeachBatch {
        f: OptionValue,
    },
    /// `write(parquet | json | csv, ..)`: `FileSink` builder calls after `new(path)`.
    Files {
        format: syn::Ident,
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

/// `output_mode`, `trigger`, `checkpoint`, `query_name`.
#[derive(Default)]
pub(crate) struct Settings {
    pub(crate) output_mode: Option<syn::Ident>,
    pub(crate) watermark_policy: Option<syn::Ident>,
    pub(crate) trigger: Option<TriggerSpec>,
    pub(crate) checkpoint: Option<OptionValue>,
    pub(crate) query_name: Option<OptionValue>,
    pub(crate) late_rows: Option<LateRowsPlan>,
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

/// A checked pipeline, ready for codegen.
pub(crate) struct Plan {
    pub(crate) sources: Vec<SourcePlan>,
    pub(crate) branches: Vec<Branch>,
    pub(crate) output: Schema,
    pub(crate) sink: SinkPlan,
    pub(crate) settings: Settings,
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
