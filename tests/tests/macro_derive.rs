//! `#[derive(Schema)]` end to end: a struct in one module is the schema of `stream!`
//! blocks in others (through the callback macro the derive leaves beside it), its values
//! go through a memory source as rows, and the results come back as another derived
//! struct. Every column type, nulls, raw identifiers, local names, and a struct declared
//! in a function body.

use stream_core::{MemorySink, MemoryStream};
use tests::run_to_end;

/// The schemas, in a module of their own.
mod model {
    use stream_core::Schema;
    use stream_core::types::{Date32, TimestampMs, TimestampUs};

    /// Every column type.
    #[derive(Schema, Clone, Debug, PartialEq)]
    pub struct Event {
        pub ts: TimestampMs,
        pub seen: TimestampUs,
        pub day: Date32,
        pub user: String,
        pub amount: Option<f64>,
        pub qty: i64,
        pub score: f32,
        pub rank: i32,
        pub vip: bool,
        pub payload: Vec<u8>,
        pub country: Option<String>,
    }

    /// A second struct with the same columns as `Purchase` below, for a union of two
    /// derived schemas in one block.
    #[derive(Schema, Clone, Debug, PartialEq)]
    pub struct Refund {
        pub user: String,
        pub total: Option<f64>,
    }

    pub mod out {
        /// What the pipelines write; read back from the memory sink.
        #[derive(stream_core::Schema, Clone, Debug, PartialEq)]
        pub struct Purchase {
            pub user: String,
            pub total: Option<f64>,
        }
    }
}

/// The pipelines, in another module: they name the structs by path.
mod jobs {
    use stream_core::{MemoryStream, OutputRow, QueryBuilder, stream};

    pub fn big_purchases(input: &MemoryStream, table: &str) -> QueryBuilder<impl OutputRow> {
        stream! {
            schema Event = crate::model::Event;
            read(memory, stream = {input.clone()}, schema = Event)
                .filter(amount > 50.0 || country == "DE")
                .with_column(total, amount * qty)
                .select(user, total)
                .write(memory, name = {table})
                .trigger(available_now)
        }
    }

    /// A local name of its own, and a path through `super`.
    pub fn every_column(input: &MemoryStream, table: &str) -> QueryBuilder<impl OutputRow> {
        stream! {
            schema Ev = super::model::Event;
            read(memory, stream = {input.clone()}, schema = Ev)
                .filter(vip)
                .select(ts, seen, day, user, rank + 1 as next_rank, score * 2.0 as double_score, payload, country.is_null() as no_country)
                .write(memory, name = {table})
                .trigger(available_now)
        }
    }

    /// Two derived schemas: two rounds through callbacks before the block is checked.
    pub fn purchases_and_refunds(
        purchases: &MemoryStream,
        refunds: &MemoryStream,
        table: &str,
    ) -> QueryBuilder<impl OutputRow> {
        stream! {
            schema Purchase = crate::model::out::Purchase;
            schema Refund = crate::model::Refund;
            let refunds = read(memory, stream = {refunds.clone()}, schema = Refund)
                .with_column(total, -total);
            read(memory, stream = {purchases.clone()}, schema = Purchase)
                .union(refunds)
                .write(memory, name = {table})
                .trigger(available_now)
        }
    }
}

fn event(user: &str, amount: Option<f64>, qty: i64, country: Option<&str>) -> model::Event {
    use stream_core::types::{Date32, TimestampMs, TimestampUs};
    model::Event {
        ts: TimestampMs(1_704_067_200_000 + qty),
        seen: TimestampUs(1_704_067_200_000_000 + qty),
        day: Date32(19_723),
        user: user.to_string(),
        amount,
        qty,
        score: 1.5,
        rank: qty as i32,
        vip: qty % 2 == 0,
        payload: vec![qty as u8, 0xff],
        country: country.map(String::from),
    }
}

#[test]
fn a_struct_in_another_module_is_the_schema_and_its_values_the_rows() {
    use model::out::Purchase;
    use stream_core::types::TypedRow;

    let input = MemoryStream::new(model::Event::arrow_schema());
    input
        .add_batch(
            model::Event::to_batch(&[
                event("a", Some(60.5), 2, Some("DE")),
                event("b", None, 3, Some("DE")),
                event("c", Some(10.0), 1, None),
                event("d", Some(99.0), 4, Some("FR")),
            ])
            .unwrap(),
        )
        .unwrap();
    run_to_end(jobs::big_purchases(&input, "macro_derive_big"));

    let rows =
        Purchase::from_batches(&MemorySink::new("macro_derive_big").table().batches()).unwrap();
    // a: 60.5 > 50 → 121.0; b: null > 50 is null, but country == "DE" → kept, total
    // null; c: 10 > 50 false and country null → dropped; d: 99 > 50 → 396.0
    assert_eq!(
        rows,
        [
            Purchase {
                user: "a".into(),
                total: Some(121.0)
            },
            Purchase {
                user: "b".into(),
                total: None
            },
            Purchase {
                user: "d".into(),
                total: Some(396.0)
            },
        ]
    );
}

#[test]
fn every_column_type_goes_through() {
    use stream_core::types::{Date32, TimestampMs, TimestampUs, TypedRow};

    /// The output, declared in the test function itself.
    #[derive(stream_core::Schema, Debug, PartialEq)]
    struct Out {
        ts: TimestampMs,
        seen: TimestampUs,
        day: Date32,
        user: String,
        // an unsuffixed literal is an i64 and a float literal an f64: `rank + 1` and
        // `score * 2.0` widen as Spark's do
        next_rank: i64,
        double_score: f64,
        payload: Vec<u8>,
        no_country: bool,
    }

    let input = MemoryStream::new(model::Event::arrow_schema());
    input
        .add_batch(
            model::Event::to_batch(&[
                event("a", Some(1.0), 2, Some("DE")),
                event("b", None, 3, None),
                event("c", None, 4, None),
            ])
            .unwrap(),
        )
        .unwrap();
    run_to_end(jobs::every_column(&input, "macro_derive_every"));

    let table = MemorySink::new("macro_derive_every").table();
    let rows = Out::from_batches(&table.batches()).unwrap();
    assert_eq!(
        rows,
        [
            Out {
                ts: TimestampMs(1_704_067_200_002),
                seen: TimestampUs(1_704_067_200_000_002),
                day: Date32(19_723),
                user: "a".into(),
                next_rank: 3,
                double_score: 3.0,
                payload: vec![2, 0xff],
                no_country: false,
            },
            Out {
                ts: TimestampMs(1_704_067_200_004),
                seen: TimestampUs(1_704_067_200_000_004),
                day: Date32(19_723),
                user: "c".into(),
                next_rank: 5,
                double_score: 3.0,
                payload: vec![4, 0xff],
                no_country: true,
            },
        ]
    );
    // the output's arrow types are the derived struct's
    assert_eq!(table.batches()[0].schema(), Out::arrow_schema());
}

#[test]
fn two_derived_schemas_in_one_block() {
    use model::Refund;
    use model::out::Purchase;
    use stream_core::types::TypedRow;

    let purchases = MemoryStream::new(Purchase::arrow_schema());
    purchases
        .add_batch(
            Purchase::to_batch(&[Purchase {
                user: "a".into(),
                total: Some(5.0),
            }])
            .unwrap(),
        )
        .unwrap();
    let refunds = MemoryStream::new(Refund::arrow_schema());
    refunds
        .add_batch(
            Refund::to_batch(&[
                Refund {
                    user: "b".into(),
                    total: Some(2.5),
                },
                Refund {
                    user: "c".into(),
                    total: None,
                },
            ])
            .unwrap(),
        )
        .unwrap();
    run_to_end(jobs::purchases_and_refunds(
        &purchases,
        &refunds,
        "macro_derive_union",
    ));

    let mut rows =
        Purchase::from_batches(&MemorySink::new("macro_derive_union").table().batches()).unwrap();
    rows.sort_by(|a, b| a.user.cmp(&b.user));
    assert_eq!(
        rows,
        [
            Purchase {
                user: "a".into(),
                total: Some(5.0)
            },
            Purchase {
                user: "b".into(),
                total: Some(-2.5)
            },
            Purchase {
                user: "c".into(),
                total: None
            },
        ]
    );
}

#[test]
fn a_struct_in_the_same_function_and_raw_field_names() {
    use stream_core::types::TypedRow;

    #[derive(stream_core::Schema, Debug, PartialEq)]
    struct Tagged {
        r#type: String,
        n: i64,
    }

    let input = MemoryStream::new(Tagged::arrow_schema());
    input
        .add_batch(
            Tagged::to_batch(&[
                Tagged {
                    r#type: "x".into(),
                    n: 1,
                },
                Tagged {
                    r#type: "y".into(),
                    n: 2,
                },
            ])
            .unwrap(),
        )
        .unwrap();
    // the column of `r#type` is `type`
    assert_eq!(Tagged::arrow_schema().field(0).name(), "type");
    run_to_end(stream_core::stream! {
        schema Tagged = Tagged;
        read(memory, stream = {input}, schema = Tagged)
            .filter(n > 1)
            .write(memory, name = "macro_derive_local")
            .trigger(available_now)
    });
    let rows =
        Tagged::from_batches(&MemorySink::new("macro_derive_local").table().batches()).unwrap();
    assert_eq!(
        rows,
        [Tagged {
            r#type: "y".into(),
            n: 2
        }]
    );
}

/// A struct declared below the block that names it, in the same module.
mod same_module {
    use stream_core::{MemoryStream, OutputRow, QueryBuilder, stream};

    pub fn job(input: &MemoryStream) -> QueryBuilder<impl OutputRow> {
        stream! {
            schema Reading = Reading;
            read(memory, stream = {input.clone()}, schema = Reading)
                .select(sensor, value * 10 as scaled)
                .write(memory, name = "macro_derive_below")
                .trigger(available_now)
        }
    }

    #[derive(stream_core::Schema)]
    pub struct Reading {
        pub sensor: String,
        pub value: i32,
    }
}

#[test]
fn a_struct_declared_after_the_block() {
    use same_module::Reading;
    use stream_core::types::TypedRow;

    let input = MemoryStream::new(Reading::arrow_schema());
    input
        .add_batch(
            Reading::to_batch(&[Reading {
                sensor: "s1".into(),
                value: 4,
            }])
            .unwrap(),
        )
        .unwrap();
    run_to_end(same_module::job(&input));
    assert_eq!(
        tests::batch_rows(&MemorySink::new("macro_derive_below").table().batches()[0]),
        [r#"{"scaled":40,"sensor":"s1"}"#]
    );
}

#[test]
fn reading_rows_back_names_a_missing_column_and_a_null_in_a_required_field() {
    use model::out::Purchase;
    use stream_core::types::TypedRow;

    #[derive(stream_core::Schema, Debug)]
    struct Strict {
        user: String,
        total: f64,
    }
    #[derive(stream_core::Schema, Debug)]
    struct Other {
        name: String,
    }
    let batch = Purchase::to_batch(&[Purchase {
        user: "a".into(),
        total: None,
    }])
    .unwrap();
    let err = Strict::from_batch(&batch).unwrap_err().to_string();
    assert!(err.contains("`Strict::total` is not an `Option`"), "{err}");
    let err = Other::from_batch(&batch).unwrap_err().to_string();
    assert!(
        err.contains("no such column") && err.contains("`user`, `total`"),
        "{err}"
    );
}
