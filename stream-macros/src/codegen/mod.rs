//! From a checked plan (`plan::Plan`, after the passes) to Rust: a pipeline struct
//! implementing `stream_core::Pipeline` with one function per branch, and the query
//! builder that runs it. It reads the plan and reports no errors; the fingerprint it
//! puts in the pipeline's info is `plan::fingerprint`'s.

pub(crate) mod expr;
pub(crate) mod functions;
pub(crate) mod key_columns;
pub(crate) mod rows;
pub(crate) mod stateful;

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};

use crate::parse::OptionValue;
use crate::plan::{
    Branch, FileFormat, Plan, Schema, SinkPlan, SourceKind, Trigger, TypedOp, WatermarkPolicy,
};
use crate::types::DslType;

/// An expression building an arrow `SchemaRef` for `schema`.
pub(crate) fn schema_ref(schema: &Schema) -> TokenStream {
    // no columns (the input of a global `count()`): `vec![]` would leave the field type
    // to inference, which `Schema::new` cannot give
    if schema.is_empty() {
        return quote!(::std::sync::Arc::new(
            ::stream_core::__private::arrow_schema::Schema::empty()
        ));
    }
    let fields = schema.iter().map(|c| {
        let name = &c.name;
        let dt = c.ty.ty.data_type();
        let nullable = c.ty.nullable;
        quote!(::stream_core::__private::arrow_schema::Field::new(#name, #dt, #nullable))
    });
    quote!(::std::sync::Arc::new(
        ::stream_core::__private::arrow_schema::Schema::new(::std::vec![#(#fields),*])
    ))
}

/// The Rust expression an option value stands for.
fn option_value(v: &OptionValue) -> TokenStream {
    match v {
        OptionValue::Lit(l) => quote!(#l),
        OptionValue::Name(n) => {
            let s = n.to_string();
            quote!(#s)
        }
        OptionValue::List(_, names) => {
            let names = names.iter().map(ToString::to_string);
            quote!([#(#names),*])
        }
        OptionValue::Capture(b) => capture_expr(b),
    }
}

/// A `{ .. }` capture as an expression: the single expression inside it, or the block
/// (`{x}` as a call argument would warn, `unused_braces`, on the user's code).
fn capture_expr(b: &syn::ExprBlock) -> TokenStream {
    match (b.block.stmts.len(), b.block.stmts.first()) {
        (1, Some(syn::Stmt::Expr(e, None))) => quote!(#e),
        _ => quote!(#b),
    }
}

/// A text option's value (a string, a bare name as its text, or a capture, borrowed).
pub(crate) fn option_text(v: &OptionValue) -> TokenStream {
    capture_inner(v)
}

/// The single expression inside a `{ .. }` capture, to borrow instead of move.
pub(crate) fn capture_inner(v: &OptionValue) -> TokenStream {
    option_value(v)
}

/// The whole expansion for a checked plan.
pub(crate) fn expand(plan: &Plan) -> TokenStream {
    let fingerprint = crate::plan::fingerprint::fingerprint(plan);
    let explain = crate::plan::explain::explain(plan);
    let pipeline_name = match &plan.settings.query_name {
        Some(OptionValue::Lit(syn::Lit::Str(s))) => s.value(),
        _ => "stream".to_string(),
    };

    let chain = stateful::split_all(plan);
    let stateful = chain.first();
    let arms: Vec<TokenStream> = (0..plan.sources.len())
        .map(|s| {
            let calls = plan
            .branches
            .iter()
            .enumerate()
            .filter(|(_, b)| b.source == s)
            .map(|(i, b)| {
                let f = format_ident!("__branch_{}", i);
                let rows = quote!(self.#f(__ctx, ::core::clone::Clone::clone(&__chunk.batch))?);
                // a join of two streams: the map side needs to know each batch's side
                match stateful.and_then(|s| s.join_side(b)) {
                    Some(side) => quote!(__out.push(::stream_core::InputChunk { input: #side, batch: #rows });),
                    None => quote!(__out.push(#rows);),
                }
            });
            quote!(#s => { #(#calls)* })
        })
        .collect();

    // schemas: one per projection, then the inputs, then the output
    let mut schemas: Vec<TokenStream> = Vec::new();
    let mut branch_fns = Vec::new();
    let late_sink = plan.settings.late_rows.is_some();
    for (i, branch) in plan.branches.iter().enumerate() {
        let mut prefix = branch.clone();
        if let Some(at) = branch.ops.iter().position(crate::ops::sort::is_gather) {
            prefix.ops.truncate(at);
        }
        if let Some(s) = stateful {
            prefix.ops = s.prefix(branch, late_sink);
        }
        branch_fns.push(branch_fn(
            &format_ident!("__branch_{}", i),
            &prefix,
            plan,
            &mut schemas,
        ));
    }
    let mut stateful_fields = Vec::new();
    let mut stateful_inits = Vec::new();
    let mut stateful_items = Vec::new();
    let mut stateful_checks = Vec::new();
    for (i, j) in plan.joins.iter().enumerate() {
        let key = plan
            .rows
            .get(j.key_row)
            .map_or_else(|| quote!(()), rows::row_type);
        let (field, init) = crate::ops::join::field_and_init(i, j, &key, schema_ref(&j.right));
        stateful_fields.push(field);
        stateful_inits.push(init);
        stateful_checks.extend(crate::ops::join::start_check(i, j));
    }
    // a sort or limit: it and what follows run in a last stage of one task
    let gather = crate::ops::sort::Gather::of(plan);
    let finish = |rows: TokenStream| match &gather {
        Some(g) => {
            let local = match g.local {
                Some(n) => quote!(::core::option::Option::Some(#n)),
                None => quote!(::core::option::Option::None),
            };
            quote!(::stream_core::__private::gather_exchange(__ctx, #rows, #local))
        }
        None => quote!(::core::result::Result::Ok(::stream_core::TaskOutput::Rows(#rows))),
    };
    let mut stages = 1usize;
    let finish_out = finish(quote!(__out));
    let mut run_task = quote! {
        let mut __out = ::std::vec::Vec::with_capacity(input.len());
        for __chunk in input {
            match __chunk.input {
                #(#arms)*
                _ => {}
            }
        }
        #finish_out
    };
    if stateful.is_some() {
        stages = 1 + chain.len();
        // operator `k` (after the first, whose names have no number): its map side ends
        // stage `k`, its reduce side and the operators after it start stage `k + 1`
        let suffixed = |name: &str, k: usize| match k {
            0 => format_ident!("{}", name),
            k => format_ident!("{}{}", name, k),
        };
        let mut stage_arms = Vec::new();
        for (k, op) in chain.iter().enumerate() {
            let (map, reduce, post) = (
                suffixed("__stateful_map", k),
                suffixed("__stateful_reduce", k),
                suffixed("__post", k),
            );
            let post_branch = Branch {
                source: 0,
                ops: op.post.clone(),
            };
            branch_fns.push(branch_fn(&post, &post_branch, plan, &mut schemas));
            if k == 0
                && late_sink
                && let Some(project) = op.input_projection()
            {
                let input = Branch {
                    source: 0,
                    ops: vec![project],
                };
                branch_fns.push(branch_fn(
                    &format_ident!("__agg_input"),
                    &input,
                    plan,
                    &mut schemas,
                ));
            }
            let code = op.emit(plan);
            let map_input = if k == 0 && plan.branches.iter().any(|b| op.join_side(b).is_some()) {
                quote!(::stream_core::InputChunk)
            } else {
                quote!(::stream_core::__private::arrow_array::RecordBatch)
            };
            stateful_fields.push(code.field);
            stateful_inits.push(code.init);
            stateful_items.push(code.items);
            stateful_checks.push(code.check);
            let (map_call, reduce_call) = (code.map, code.reduce);
            branch_fns.push(quote! {
                fn #map(
                    &self,
                    __ctx: &::stream_core::TaskContext,
                    __batches: ::std::vec::Vec<#map_input>,
                ) -> ::stream_core::Result<::stream_core::TaskOutput> {
                    #map_call
                }

                fn #reduce(
                    &self,
                    __ctx: &::stream_core::TaskContext,
                    input: ::std::vec::Vec<::stream_core::InputChunk>,
                ) -> ::stream_core::Result<::std::vec::Vec<::stream_core::__private::arrow_array::RecordBatch>> {
                    #reduce_call
                }
            });
            let rows = quote! {
                let mut __rows = ::std::vec::Vec::new();
                for __batch in self.#reduce(__ctx, input)? {
                    __rows.push(self.#post(__ctx, __batch)?);
                }
            };
            if k + 1 < chain.len() {
                let next_map = suffixed("__stateful_map", k + 1);
                let stage = k + 1;
                stage_arms.push(quote! {
                    if __ctx.stage == #stage {
                        #rows
                        return self.#next_map(__ctx, __rows);
                    }
                });
            } else {
                let finish_rows = finish(quote!(__rows));
                stage_arms.push(quote! {
                    #rows
                    #finish_rows
                });
            }
        }
        run_task = quote! {
            if __ctx.stage == 0 {
                let mut __out = ::std::vec::Vec::with_capacity(input.len());
                for __chunk in input {
                    match __chunk.input {
                        #(#arms)*
                        _ => {}
                    }
                }
                return self.__stateful_map(__ctx, __out);
            }
            #(#stage_arms)*
        };
    }
    if let Some(g) = &gather {
        stages += 1;
        let last = stages - 1;
        schemas.push(schema_ref(&g.schema));
        let input_schema = schemas.len() - 1;
        let ops = Branch {
            source: 0,
            ops: g.ops.clone(),
        };
        branch_fns.push(branch_fn(
            &format_ident!("__gather"),
            &ops,
            plan,
            &mut schemas,
        ));
        let code = g.code(plan);
        stateful_fields.extend(code.fields);
        stateful_inits.extend(code.inits);
        stateful_items.push(code.items);
        stateful_checks.extend(code.checks);
        run_task = quote! {
            if __ctx.stage == #last {
                // every row came to partition 0
                if __ctx.partition != 0 {
                    return ::core::result::Result::Ok(::stream_core::TaskOutput::Rows(::std::vec::Vec::new()));
                }
                let __batch = ::stream_core::__private::gather_input(&self.__schemas[#input_schema], input)?;
                return ::core::result::Result::Ok(::stream_core::TaskOutput::Rows(::std::vec![self.__gather(__ctx, __batch)?]));
            }
            #run_task
        };
    }
    let is_stateful = stateful.is_some();
    let mut watermark_ids: Vec<usize> = plan
        .branches
        .iter()
        .flat_map(|b| &b.ops)
        .filter_map(|op| match op {
            TypedOp::Watermark { id, .. } => Some(*id),
            _ => None,
        })
        .collect();
    watermark_ids.sort_unstable();
    watermark_ids.dedup();
    let policy = match plan.settings.watermark_policy {
        Some(WatermarkPolicy::Max) => quote!(::stream_core::WatermarkPolicy::Max),
        Some(WatermarkPolicy::Min) | None => quote!(::stream_core::WatermarkPolicy::Min),
    };
    let schema_count = schemas.len();
    let inputs: Vec<TokenStream> = plan.sources.iter().map(|s| schema_ref(&s.schema)).collect();
    let output = schema_ref(&plan.output);

    let cap_fields: Vec<_> = (0..plan.captures.len())
        .map(|i| format_ident!("__cap{}", i))
        .collect();
    let cap_types: Vec<TokenStream> = plan.captures.iter().map(|c| c.ty.native()).collect();
    let cap_lets = plan.captures.iter().enumerate().map(|(i, c)| {
        let name = format_ident!("__cap{}", i);
        let block = &c.block;
        let span = block.block.brace_token.span.join();
        match c.ty {
            // bound first: `Into::into({x})` would warn (`unused_braces`) on the user's code
            DslType::String => quote_spanned!(span=> let #name: ::std::string::String = {
                let __value = #block;
                ::core::convert::Into::into(__value)
            };),
            other => {
                let native = other.native();
                quote_spanned!(span=> let #name: #native = #block;)
            }
        }
    });

    let sources = plan
        .sources
        .iter()
        .enumerate()
        .map(|(i, s)| source_expr(i, s));
    let sink = sink_expr(&plan.sink);
    let settings = settings(plan);

    // the map functions: type parameters of the pipeline struct, bounded by their rows
    let row_types: Vec<TokenStream> = plan.rows.iter().map(rows::row_type).collect();
    let row_decls = rows::declarations(&plan.rows);
    let output_row = plan
        .output_row
        .and_then(|i| row_types.get(i))
        .map(|row| quote!(.output_row::<#row>()));
    let fn_params: Vec<syn::Ident> = (0..plan.functions.len())
        .map(|i| format_ident!("__F{}", i))
        .collect();
    let fn_fields: Vec<syn::Ident> = (0..plan.functions.len())
        .map(|i| format_ident!("__f{}", i))
        .collect();
    let unit = quote!(());
    let row_of = |i: usize| row_types.get(i).unwrap_or(&unit);
    let fn_bounds: Vec<TokenStream> = plan
        .functions
        .iter()
        .zip(&fn_params)
        .map(|(m, p)| {
            let bound = crate::ops::map::bound(m, row_of(m.input), row_of(m.output));
            quote!(#p: #bound)
        })
        .collect();
    let fn_lets = plan.functions.iter().zip(&fn_fields).map(|(m, field)| {
        let make = crate::ops::map::construct(m, row_of(m.input), row_of(m.output));
        quote!(let #field = #make;)
    });
    let generics = if fn_params.is_empty() {
        TokenStream::new()
    } else {
        quote!(<#(#fn_params),*>)
    };
    let where_clause = if fn_bounds.is_empty() {
        TokenStream::new()
    } else {
        quote!(where #(#fn_bounds),*)
    };

    let tracked = plan.schema_files.iter().map(|p| {
        let p = p.to_string_lossy();
        quote!(
            const _: &[u8] = ::core::include_bytes!(#p);
        )
    });

    // a proc macro cannot warn on stable Rust: a deprecated item used on the span warns
    let warnings = plan.warnings.iter().map(|(span, text)| {
        quote_spanned! {*span=>
            #[deprecated(note = #text)]
            #[allow(non_upper_case_globals)]
            const unbounded_state: () = ();
            // a reference: `let _ = ()` on the user's span trips clippy's `let_unit_value`
            let _: &() = &unbounded_state;
        }
    });

    // a stateless pipeline keeps the trait's check, which has nothing to check
    let check_state = (!stateful_checks.is_empty()).then(|| {
        quote! {
            fn check_state(
                &self,
                __checkpoint: &::std::path::Path,
            ) -> ::stream_core::Result<()> {
                #(#stateful_checks?;)*
                ::core::result::Result::Ok(())
            }
        }
    });

    quote! {
        {
            #(#warnings)*
            #(#tracked)*
            #row_decls
            #(#stateful_items)*

            #[allow(non_camel_case_types)]
            struct __StreamPipeline #generics {
                __schemas: ::std::vec::Vec<::stream_core::__private::arrow_schema::SchemaRef>,
                __inputs: ::std::vec::Vec<::stream_core::__private::arrow_schema::SchemaRef>,
                __output: ::stream_core::__private::arrow_schema::SchemaRef,
                #(#cap_fields: #cap_types,)*
                #(#fn_fields: #fn_params,)*
                #(#stateful_fields,)*
            }

            impl #generics __StreamPipeline #generics #where_clause {
                #(#branch_fns)*
            }

            impl #generics ::stream_core::Pipeline for __StreamPipeline #generics #where_clause {
                fn info(&self) -> ::stream_core::PipelineInfo {
                    ::stream_core::PipelineInfo {
                        name: ::std::string::String::from(#pipeline_name),
                        input_schemas: ::core::clone::Clone::clone(&self.__inputs),
                        output_schema: ::core::clone::Clone::clone(&self.__output),
                        stages: #stages,
                        fingerprint: ::std::string::String::from(#fingerprint),
                        stateful: #is_stateful,
                        watermark_policy: #policy,
                        watermark_operators: ::std::vec![#(#watermark_ids),*],
                    }
                }

                fn run_task(
                    &self,
                    __ctx: &::stream_core::TaskContext,
                    input: ::std::vec::Vec<::stream_core::InputChunk>,
                ) -> ::stream_core::Result<::stream_core::TaskOutput> {
                    #run_task
                }

                #check_state

                fn explain(&self) -> ::std::string::String {
                    ::std::string::String::from(#explain)
                }
            }

            #(#cap_lets)*
            #(#fn_lets)*
            let __schemas: [::stream_core::__private::arrow_schema::SchemaRef; #schema_count] = [#(#schemas),*];
            let __pipeline = __StreamPipeline {
                __schemas: ::std::vec::Vec::from(__schemas),
                __inputs: ::std::vec![#(#inputs),*],
                __output: #output,
                #(#cap_fields,)*
                #(#fn_fields,)*
                #(#stateful_inits,)*
            };
            ::stream_core::StreamingQuery::builder()
                #output_row
                #(.source(#sources))*
                .pipeline(__pipeline)
                .sink(#sink)
                #settings
        }
    }
}

/// `fn name(&self, batch) -> Result<RecordBatch>`: the operators of one branch (or what
/// follows a stateful operator).
fn branch_fn(
    name: &syn::Ident,
    branch: &Branch,
    plan: &Plan,
    schemas: &mut Vec<TokenStream>,
) -> TokenStream {
    let steps = branch.ops.iter().map(|op| {
        let body = match op {
            TypedOp::Filter { pred } => crate::ops::filter::emit(pred),
            TypedOp::Project { exprs, schema } => {
                schemas.push(schema_ref(schema));
                crate::ops::select::emit(exprs, schemas.len() - 1)
            }
            TypedOp::Join {
                join,
                output,
                left_key,
                left_out,
                right_out,
                ..
            } => match plan.joins.get(*join) {
                Some(j) => {
                    schemas.push(schema_ref(output));
                    let key_row = plan.rows.get(j.key_row);
                    let key = key_row.map_or_else(|| quote!(()), rows::row_type);
                    let key_schema = key_row.map(|r| r.schema.clone()).unwrap_or_default();
                    let step = crate::ops::join::JoinColumns {
                        left_key,
                        left_out,
                        right_out,
                    };
                    crate::ops::join::emit(*join, j, &step, &key, &key_schema, schemas.len() - 1)
                }
                None => quote!(__batch),
            },
            TypedOp::Map { function, .. } => match plan.functions.get(*function) {
                Some(m) => {
                    let row =
                        |i: usize| plan.rows.get(i).map_or_else(|| quote!(()), rows::row_type);
                    crate::ops::map::emit(*function, m, &row(m.input), &row(m.output))
                }
                None => quote!(__batch),
            },
            TypedOp::Watermark {
                column,
                delay_ms,
                unit_per_ms,
                id,
            } => stateful::watermark(plan, branch, *column, *delay_ms, *unit_per_ms, *id),
            // a branch function never holds one: `stateful::split` ends the branch there
            TypedOp::Aggregate(_) | TypedOp::Dedup(_) | TypedOp::StreamJoin { .. } => {
                quote!(__batch)
            }
            // only in the last stage's function (`__gather`)
            TypedOp::Sort(s) => {
                let key = plan
                    .rows
                    .get(s.row)
                    .map_or_else(|| quote!(()), rows::row_type);
                crate::ops::sort::emit(s, &key)
            }
            TypedOp::Limit(l) => {
                crate::ops::limit::emit(l, plan.settings.mode() == crate::plan::OutputMode::Append)
            }
        };
        quote! {
            let __n = __batch.num_rows();
            let _ = __n;
            let __next = { #body };
            __batch = __next;
        }
    });
    quote! {
        #[allow(unused_variables, clippy::all)]
        fn #name(
            &self,
            __ctx: &::stream_core::TaskContext,
            mut __batch: ::stream_core::__private::arrow_array::RecordBatch,
        ) -> ::stream_core::Result<::stream_core::__private::arrow_array::RecordBatch> {
            #[allow(unused_imports)]
            use ::stream_core::__private::arrow_array::Array as _;
            #(#steps)*
            ::core::result::Result::Ok(__batch)
        }
    }
}

fn source_expr(i: usize, source: &crate::plan::SourcePlan) -> TokenStream {
    let schema = quote!(::core::clone::Clone::clone(&__pipeline.__inputs[#i]));
    let span = source.span;
    match &source.kind {
        SourceKind::File {
            format,
            path,
            options,
        } => {
            let path = capture_inner(path);
            let calls = options.iter().map(|o| &o.0);
            if *format == FileFormat::Text {
                quote_spanned!(span=> ::stream_core::FileSource::text(#path) #(#calls)*)
            } else {
                let format = syn::Ident::new(format.as_str(), span);
                quote_spanned!(span=> ::stream_core::FileSource::#format(#path, #schema) #(#calls)*)
            }
        }
        SourceKind::Memory { stream } => {
            let inner = capture_inner(stream);
            let span = stream.span();
            quote_spanned!(span=> {
                let __stream: &::stream_core::MemoryStream = &#inner;
                ::core::clone::Clone::clone(__stream)
            })
        }
        SourceKind::Rate {
            rows_per_second,
            num_partitions,
        } => {
            let parts = num_partitions.as_ref().map(|n| quote!(.num_partitions(#n)));
            quote!(::stream_core::RateSource::new(#rows_per_second) #parts)
        }
        SourceKind::Kafka {
            kind,
            servers,
            calls,
            options,
        } => crate::ops::kafka::emit_source(kind, servers, calls, options.as_ref()),
    }
}

fn sink_expr(sink: &SinkPlan) -> TokenStream {
    match sink {
        SinkPlan::Console {
            num_rows,
            truncate,
            buffer,
        } => {
            let rows = num_rows.as_ref().map(|n| quote!(.num_rows(#n)));
            let truncate = truncate.as_ref().map(|t| quote!(.truncate(#t)));
            let buffer = buffer.as_ref().map(|b| quote!(.buffer(#b)));
            quote!(::stream_core::ConsoleSink::new() #rows #truncate #buffer)
        }
        SinkPlan::Memory { name } => {
            let name = option_value(name);
            quote!(::stream_core::MemorySink::new(#name))
        }
        SinkPlan::ForeachBatch { f } => {
            // on the user's value: a function of the wrong type is reported there
            let span = f.span();
            let f = capture_inner(f);
            quote::quote_spanned!(span=> ::stream_core::ForeachBatchSink::new(#f))
        }
        SinkPlan::Files { .. } | SinkPlan::Delta { .. } => crate::ops::file_sink::emit(sink),
        SinkPlan::Kafka { .. } => crate::ops::kafka::emit_sink(sink),
    }
}

fn settings(plan: &Plan) -> TokenStream {
    let s = &plan.settings;
    let mut out = TokenStream::new();
    if let Some(mode) = s.output_mode {
        let mode = stateful::output_mode(mode.mode);
        out.extend(quote!(.output_mode(#mode)));
    }
    if let Some(t) = &s.trigger {
        let trigger = match t {
            Trigger::Default => quote!(::stream_core::Trigger::Default),
            Trigger::Once => quote!(::stream_core::Trigger::Once),
            Trigger::AvailableNow => quote!(::stream_core::Trigger::AvailableNow),
            Trigger::ProcessingTime { ms } => {
                quote!(::stream_core::Trigger::ProcessingTime(::std::time::Duration::from_millis(#ms)))
            }
            Trigger::ProcessingTimeCaptured(b) => {
                let v = capture_expr(b);
                quote!(::stream_core::Trigger::ProcessingTime(#v))
            }
            Trigger::Captured(b) => capture_expr(b),
        };
        out.extend(quote!(.trigger(#trigger)));
    }
    if let Some(c) = &s.checkpoint {
        let c = option_value(c);
        out.extend(quote!(.checkpoint_location(#c)));
    }
    if let Some(n) = &s.query_name {
        let n = option_value(n);
        out.extend(quote!(.query_name(#n)));
    }
    if let Some(late) = &s.late_rows {
        let sink = sink_expr(&late.sink);
        let schema = schema_ref(late.schema.as_ref().unwrap_or(&Vec::new()));
        out.extend(quote!(.late_rows_sink(#sink, #schema)));
    }
    // last: what the checks held for stays as it is now (output mode, sink, sources,
    // pipeline, late-rows sink); a later setter of one makes `start()` fail
    out.extend(quote!(.__fixed_by_stream_block()));
    out
}

/// What the expansion is when the block has errors: the errors, and a builder of the
/// right type so the code around the macro shows no follow-on errors. `typed` when the
/// block writes to a memory sink (a good expansion's builder has an output row then).
pub(crate) fn placeholder(errors: TokenStream, typed: bool) -> TokenStream {
    let row = typed.then(|| quote!(.output_row::<::stream_core::__private::PlaceholderRow>()));
    quote! {
        {
            #errors
            ::stream_core::StreamingQuery::builder()
                #row
        }
    }
}
