//! Every expression function of `stream!` end to end, on the memory source and on a JSON
//! landing folder: hand-computed rows (Spark's results), null inputs, three-valued
//! `&&`/`||` and numeric promotion. Each test writes to its own memory table.
//!
//! Rows are compared as canonical JSON, where a null column is left out of its row.

use std::sync::Arc;

use arrow_schema::{DataType, Field, Schema};
use stream_core::{ManualClock, MemoryStream, StreamingQueryManager, stream};
use tests::{land_file, memory_table_rows, runtime};

/// Runs `builder` to completion (every test uses `trigger(available_now)`) on a manual
/// clock standing at `now_ms`.
fn run_at<R: stream_core::OutputRow>(builder: stream_core::QueryBuilder<R>, now_ms: i64) {
    let checkpoint = tempfile::tempdir().unwrap();
    let query = builder
        .manager(&StreamingQueryManager::new())
        .checkpoint_location(checkpoint.path())
        .clock(ManualClock::new(now_ms))
        .start()
        .unwrap();
    runtime()
        .block_on(query.as_ref().await_termination())
        .unwrap();
}

fn run<R: stream_core::OutputRow>(builder: stream_core::QueryBuilder<R>) {
    run_at(builder, 1_700_000_000_000);
}

/// A memory stream of `fields` (name, type, nullable) holding the JSON lines `rows`.
fn memory(fields: &[(&str, DataType, bool)], rows: &str) -> MemoryStream {
    let schema = Schema::new(
        fields
            .iter()
            .map(|(n, t, nullable)| Field::new(*n, t.clone(), *nullable))
            .collect::<Vec<_>>(),
    );
    let input = MemoryStream::new(Arc::new(schema));
    input.add_json(rows).unwrap();
    input
}

#[test]
fn string_functions() {
    let input = memory(
        &[
            ("name", DataType::Utf8, true),
            ("code", DataType::Utf8, false),
            ("pos", DataType::Int32, false),
            ("n", DataType::Int64, true),
        ],
        r#"{"name":"  Alice Smith ","code":"order-42","pos":2,"n":3}
{"name":null,"code":"refund","pos":-3,"n":null}
{"name":"h\u00e9llo w\u00f6rld","code":"ORDER-7x","pos":0,"n":2}
"#,
    );
    run(stream! {
        schema S { name: Option<string>, code: string, pos: i32, n: Option<i64> }
        read(memory, stream = {input}, schema = S)
            .select(
                lower(name) as lo,
                name.upper() as up,
                trim(name) as tr,
                length(name) as len,
                substring(code, 1, 5) as s1,
                code.substring(pos, n) as s2,
                substring(code, -2) as s3,
                concat(code, "/", name) as cat,
                contains(code, "der") as has,
                code.starts_with("order") as sw,
                ends_with(code, "x") as ew,
                ends_with(concat(name, code), code) as ew2,
                contains("order-42-refund", code) as inside,
                regexp_like(code, r"^[a-z]+-\d+$") as re,
                name.regexp_like("(?i)SMITH") as re2,
            )
            .write(memory, name = "fn_strings")
            .trigger(available_now)
    });
    assert_eq!(
        memory_table_rows("fn_strings"),
        [
            r#"{"cat":"order-42/  Alice Smith ","ew":false,"ew2":true,"has":true,"inside":true,"len":14,"lo":"  alice smith ","re":true,"re2":true,"s1":"order","s2":"rde","s3":"42","sw":true,"tr":"Alice Smith","up":"  ALICE SMITH "}"#,
            r#"{"ew":false,"has":false,"inside":true,"re":false,"s1":"refun","s3":"nd","sw":false}"#,
            r#"{"cat":"ORDER-7x/héllo wörld","ew":true,"ew2":true,"has":false,"inside":false,"len":11,"lo":"héllo wörld","re":false,"re2":false,"s1":"ORDER","s2":"OR","s3":"7x","sw":false,"tr":"héllo wörld","up":"HÉLLO WÖRLD"}"#,
        ]
    );
}

#[test]
// the expansion passes a string capture as `Into::into({word})`, which rustc flags
#[allow(unused_braces)]
fn constant_arguments_and_spaces_only_trim() {
    let input = memory(&[("s", DataType::Utf8, false)], "{\"s\":\"\\t x \"}\n");
    let word = String::from("cat");
    run(stream! {
        schema S { s: string }
        read(memory, stream = {input}, schema = S)
            .select(
                trim(s) as t,
                length(trim(s)) as tl,
                "concatenate".contains({word}) as has,
                starts_with("abc", None) as none,
                substring("Spark SQL", -3, {2i64}) as sub,
                concat("a", "b") as ab,
                upper("x") as up,
            )
            .write(memory, name = "fn_constants")
            .trigger(available_now)
    });
    // Spark's trim removes spaces only: the tab stays
    assert_eq!(
        memory_table_rows("fn_constants"),
        [r#"{"ab":"ab","has":true,"sub":"SQ","t":"\t x","tl":3,"up":"X"}"#]
    );
}

#[test]
fn math_functions() {
    let input = memory(
        &[
            ("x", DataType::Float64, true),
            ("i", DataType::Int32, false),
            ("l", DataType::Int64, false),
            ("f", DataType::Float32, false),
        ],
        r#"{"x":2.675,"i":125,"l":-125,"f":2.5}
{"x":null,"i":-7,"l":1449,"f":-0.5}
{"x":-1.5,"i":0,"l":0,"f":1.25}
"#,
    );
    run(stream! {
        schema S { x: Option<f64>, i: i32, l: i64, f: f32 }
        read(memory, stream = {input}, schema = S)
            .select(
                round(x) as r0,
                round(x, 2) as r2,
                x.round(-1) as rm1,
                round(i, -1) as ri,
                round(l, -2) as rl,
                round(i) as ri0,
                round(f, 1) as rf,
                floor(x) as fl,
                ceil(x) as ce,
                floor(i) as fli,
                ceil(f) as cef,
                abs(x) as ax,
                abs(i) as ai,
                l.abs() as al,
                round(-2.5) as lit,
            )
            .write(memory, name = "fn_math")
            .trigger(available_now)
    });
    assert_eq!(
        memory_table_rows("fn_math"),
        [
            r#"{"ai":125,"al":125,"ax":2.675,"ce":3,"cef":3,"fl":2,"fli":125,"lit":-3.0,"r0":3.0,"r2":2.68,"rf":2.5,"ri":130,"ri0":125,"rl":-100,"rm1":0.0}"#,
            r#"{"ai":7,"al":1449,"cef":0,"fli":-7,"lit":-3.0,"rf":-0.5,"ri":-10,"ri0":-7,"rl":1400}"#,
            r#"{"ai":0,"al":0,"ax":1.5,"ce":-1,"cef":2,"fl":-2,"fli":0,"lit":-3.0,"r0":-2.0,"r2":-1.5,"rf":1.3,"ri":0,"ri0":0,"rl":0,"rm1":0.0}"#,
        ]
    );
}

#[test]
fn three_valued_logic_null_tests_and_promotion() {
    let input = memory(
        &[
            ("a", DataType::Boolean, true),
            ("b", DataType::Boolean, true),
            ("i", DataType::Int32, false),
            ("l", DataType::Int64, true),
            ("d", DataType::Float64, false),
        ],
        r#"{"a":true,"b":true,"i":1,"l":10,"d":0.5}
{"a":true,"b":false,"i":2,"l":null,"d":0.5}
{"a":true,"b":null,"i":3,"l":30,"d":0.5}
{"a":false,"b":true,"i":4,"l":null,"d":0.5}
{"a":false,"b":false,"i":5,"l":50,"d":0.5}
{"a":false,"b":null,"i":6,"l":null,"d":0.5}
{"a":null,"b":true,"i":7,"l":70,"d":0.5}
{"a":null,"b":false,"i":8,"l":null,"d":0.5}
{"a":null,"b":null,"i":9,"l":90,"d":0.5}
"#,
    );
    run(stream! {
        schema S { a: Option<bool>, b: Option<bool>, i: i32, l: Option<i64>, d: f64 }
        read(memory, stream = {input}, schema = S)
            .select(
                i,
                a && b as and,
                a || b as or,
                !a as not_a,
                i + l as il,
                l + d as ld,
                i * d as id,
                coalesce(l, i) as c,
                coalesce(l, None, 0) as c0,
                is_null(l) as ln,
                a.is_not_null() as an,
            )
            .write(memory, name = "fn_logic")
            .trigger(available_now)
    });
    assert_eq!(
        memory_table_rows("fn_logic"),
        [
            r#"{"an":true,"and":true,"c":10,"c0":10,"i":1,"id":0.5,"il":11,"ld":10.5,"ln":false,"not_a":false,"or":true}"#,
            r#"{"an":true,"and":false,"c":2,"c0":0,"i":2,"id":1.0,"ln":true,"not_a":false,"or":true}"#,
            r#"{"an":true,"c":30,"c0":30,"i":3,"id":1.5,"il":33,"ld":30.5,"ln":false,"not_a":false,"or":true}"#,
            r#"{"an":true,"and":false,"c":4,"c0":0,"i":4,"id":2.0,"ln":true,"not_a":true,"or":true}"#,
            r#"{"an":true,"and":false,"c":50,"c0":50,"i":5,"id":2.5,"il":55,"ld":50.5,"ln":false,"not_a":true,"or":false}"#,
            r#"{"an":true,"and":false,"c":6,"c0":0,"i":6,"id":3.0,"ln":true,"not_a":true}"#,
            r#"{"an":false,"c":70,"c0":70,"i":7,"id":3.5,"il":77,"ld":70.5,"ln":false,"or":true}"#,
            r#"{"an":false,"and":false,"c":8,"c0":0,"i":8,"id":4.0,"ln":true}"#,
            r#"{"an":false,"c":90,"c0":90,"i":9,"id":4.5,"il":99,"ld":90.5,"ln":false}"#,
        ]
    );
}

#[test]
fn a_null_condition_drops_the_row() {
    let input = memory(
        &[
            ("a", DataType::Boolean, true),
            ("b", DataType::Boolean, true),
        ],
        r#"{"a":true,"b":null}
{"a":false,"b":null}
{"a":null,"b":true}
{"a":null,"b":false}
{"a":null,"b":null}
"#,
    );
    run(stream! {
        schema S { a: Option<bool>, b: Option<bool> }
        read(memory, stream = {input}, schema = S)
            .filter(a || b)
            .filter(!(a && b))
            .write(memory, name = "fn_filter_nulls")
            .trigger(available_now)
    });
    // `a || b` is true for rows 1 and 3; `a && b` is null for both, so `!(a && b)` is
    // null and drops them too
    assert_eq!(memory_table_rows("fn_filter_nulls"), Vec::<String>::new());

    let input = memory(
        &[
            ("a", DataType::Boolean, true),
            ("b", DataType::Boolean, true),
        ],
        r#"{"a":true,"b":null}
{"a":false,"b":null}
{"a":null,"b":true}
{"a":true,"b":false}
"#,
    );
    run(stream! {
        schema S { a: Option<bool>, b: Option<bool> }
        read(memory, stream = {input}, schema = S)
            .filter(a || b)
            .filter(!(a && b) || a.is_null())
            .write(memory, name = "fn_filter_nulls_2")
            .trigger(available_now)
    });
    // `a || b` drops (false, null); `!(a && b)` is null for (true, null), which
    // `|| a.is_null()` (false) leaves null, and true for (null, true) through `is_null`
    assert_eq!(
        memory_table_rows("fn_filter_nulls_2"),
        [r#"{"b":true}"#, r#"{"a":true,"b":false}"#]
    );
}

#[test]
fn a_timestamp_casts_to_and_from_i64_as_whole_seconds_as_in_spark() {
    let ts = |unit| DataType::Timestamp(unit, Some("UTC".into()));
    let input = memory(
        &[
            ("ms", ts(arrow_schema::TimeUnit::Millisecond), false),
            ("us", ts(arrow_schema::TimeUnit::Microsecond), false),
            ("n", DataType::Int64, false),
        ],
        r#"{"ms":"1970-01-01T00:00:01.999Z","us":"1970-01-01T00:00:01.999999Z","n":2}
{"ms":"1969-12-31T23:59:59.999Z","us":"1969-12-31T23:59:59.999999Z","n":9223372036854775807}
"#,
    );
    run(stream! {
        schema S { ms: timestamp_ms, us: timestamp_us, n: i64 }
        read(memory, stream = {input}, schema = S)
            .select(
                cast(ms as i64) as ms_s,
                cast(us as i64) as us_s,
                cast(n as timestamp_ms) as from_ms,
                cast(n as timestamp_us) as from_us,
            )
            .write(memory, name = "fn_cast_seconds")
            .trigger(available_now)
    });
    // rounded down, the same for both units; seconds out of range give null
    assert_eq!(
        memory_table_rows("fn_cast_seconds"),
        [
            r#"{"from_ms":"1970-01-01T00:00:02Z","from_us":"1970-01-01T00:00:02Z","ms_s":1,"us_s":1}"#,
            r#"{"ms_s":-1,"us_s":-1}"#,
        ]
    );
}

#[test]
fn when_chains() {
    let input = memory(
        &[
            ("amount", DataType::Float64, true),
            ("qty", DataType::Int64, false),
            ("tag", DataType::Utf8, true),
        ],
        r#"{"amount":150.0,"qty":1,"tag":"vip"}
{"amount":50.0,"qty":3,"tag":null}
{"amount":null,"qty":5,"tag":"x"}
{"amount":5.0,"qty":2,"tag":"vip"}
"#,
    );
    run(stream! {
        schema S { amount: Option<f64>, qty: i64, tag: Option<string> }
        read(memory, stream = {input}, schema = S)
            .select(
                qty,
                when(amount > 100.0, "big").when(amount > 10.0, "medium").otherwise("small") as size,
                when(qty > 2, amount).otherwise(qty) as mixed,
                when(tag == "vip", 1) as vip,
                when(tag.is_null(), None).otherwise(tag) as t,
                when(qty > 1, when(qty > 3, "many").otherwise("some")).otherwise("one") as q,
                when(qty > 4, 1i32).when(qty > 2, 2i64).otherwise(3.5) as promoted,
            )
            .write(memory, name = "fn_when")
            .trigger(available_now)
    });
    assert_eq!(
        memory_table_rows("fn_when"),
        [
            r#"{"mixed":1.0,"promoted":3.5,"q":"one","qty":1,"size":"big","t":"vip","vip":1}"#,
            r#"{"mixed":50.0,"promoted":2.0,"q":"some","qty":3,"size":"medium"}"#,
            r#"{"promoted":1.0,"q":"many","qty":5,"size":"small","t":"x"}"#,
            r#"{"mixed":2.0,"promoted":3.5,"q":"some","qty":2,"size":"small","t":"vip","vip":1}"#,
        ]
    );
}

#[test]
fn time_functions_over_a_json_landing_folder() {
    let landing = tempfile::tempdir().unwrap();
    land_file(
        landing.path(),
        "part-0.json",
        r#"{"ts":"2024-05-17T13:45:30.250Z","text":"2024-01-02 03:04:05","ms":1715953530250}
{"ts":"1969-12-31T23:59:59.000Z","text":"not a time","ms":-1}
{"ts":null,"text":null,"ms":0}
{"ts":"2024-02-29T23:00:00Z","text":"2024-03-01T12:30:00+02:00","ms":86400000}
"#,
        0,
    );
    let dir = landing.path().to_path_buf();
    // the batch's timestamp: 2023-11-14T22:13:20.123Z
    run_at(
        stream! {
            schema E { ts: Option<timestamp_ms>, text: Option<string>, ms: i64 }
            read(json, path = {dir}, schema = E)
                .select(
                    ms,
                    to_timestamp(text) as t_us,
                    to_timestamp(ms) as t_ms,
                    date_trunc("hour", ts) as th,
                    date_trunc("DAY", ts) as td,
                    date_trunc("month", ts) as tmo,
                    date_trunc("year", ts) as ty,
                    date_trunc("minute", text) as text_min,
                    hour(ts) as h,
                    minute(ts) as m,
                    hour(text) as text_h,
                    to_date(ts) as d,
                    to_date(text) as text_d,
                    current_timestamp() as now,
                )
                .write(memory, name = "fn_time")
                .trigger(available_now)
        },
        1_700_000_000_123,
    );
    let now = "2023-11-14T22:13:20.123Z";
    assert_eq!(
        memory_table_rows("fn_time"),
        [
            format!(
                r#"{{"d":"2024-05-17","h":13,"m":45,"ms":1715953530250,"now":"{now}","t_ms":"2024-05-17T13:45:30.250Z","t_us":"2024-01-02T03:04:05Z","td":"2024-05-17T00:00:00Z","text_d":"2024-01-02","text_h":3,"text_min":"2024-01-02T03:04:00Z","th":"2024-05-17T13:00:00Z","tmo":"2024-05-01T00:00:00Z","ty":"2024-01-01T00:00:00Z"}}"#
            ),
            format!(
                r#"{{"d":"1969-12-31","h":23,"m":59,"ms":-1,"now":"{now}","t_ms":"1969-12-31T23:59:59.999Z","td":"1969-12-31T00:00:00Z","th":"1969-12-31T23:00:00Z","tmo":"1969-12-01T00:00:00Z","ty":"1969-01-01T00:00:00Z"}}"#
            ),
            format!(r#"{{"ms":0,"now":"{now}","t_ms":"1970-01-01T00:00:00Z"}}"#),
            format!(
                r#"{{"d":"2024-02-29","h":23,"m":0,"ms":86400000,"now":"{now}","t_ms":"1970-01-02T00:00:00Z","t_us":"2024-03-01T10:30:00Z","td":"2024-02-29T00:00:00Z","text_d":"2024-03-01","text_h":10,"text_min":"2024-03-01T10:30:00Z","th":"2024-02-29T23:00:00Z","tmo":"2024-02-01T00:00:00Z","ty":"2024-01-01T00:00:00Z"}}"#
            ),
        ]
    );
}

#[test]
fn casts_follow_spark_without_ansi() {
    // Spark's non-ANSI casts: a string that does not parse is null; a double becomes a
    // whole number by dropping its fraction (toward zero); numbers and dates print as
    // Spark prints them
    let input = memory(
        &[
            ("s", DataType::Utf8, true),
            ("x", DataType::Float64, true),
            ("n", DataType::Int64, true),
            ("d", DataType::Utf8, true),
        ],
        r#"{"s":"42","x":2.7,"n":7,"d":"2024-03-01"}
{"s":"abc","x":-2.7,"n":null,"d":"nope"}
{"s":null,"x":null,"n":-3,"d":null}
"#,
    );
    run(stream! {
        schema S { s: Option<string>, x: Option<f64>, n: Option<i64>, d: Option<string> }
        read(memory, stream = {input}, schema = S)
            .select(
                s as i64 as si,
                s as f64 as sf,
                x as i64 as xi,
                x as string as xs,
                n as string as ns,
                n as f64 as nf,
                d as date as dd,
            )
            .write(memory, name = "fn_casts")
            .trigger(available_now)
    });
    assert_eq!(
        memory_table_rows("fn_casts"),
        [
            r#"{"dd":"2024-03-01","nf":7.0,"ns":"7","sf":42.0,"si":42,"xi":2,"xs":"2.7"}"#,
            r#"{"xi":-2,"xs":"-2.7"}"#,
            r#"{"nf":-3.0,"ns":"-3"}"#,
        ]
    );
}
