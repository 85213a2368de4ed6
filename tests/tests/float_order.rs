//! `max`, `min`, `max_by` and `min_by` order floats as Spark does: every NaN above every
//! number, `-0.0` equal to `0.0` (so the first of the two stays). Checked within a batch
//! (the map side's partial aggregates) and across batches (the merge into the state).

use stream_core::{MemoryStream, Schema, StreamingQueryManager, stream};
use tests::runtime;

#[derive(Schema, Clone)]
struct Reading {
    g: String,
    v: Option<f64>,
    x: String,
}

fn r(g: &str, v: f64, x: &str) -> Reading {
    Reading {
        g: g.into(),
        v: Some(v),
        x: x.into(),
    }
}

#[test]
fn nan_is_above_every_number_and_negative_zero_equals_zero() {
    let input = MemoryStream::of::<Reading>();
    let query = stream! {
        schema Reading = Reading;
        read(memory, stream = {input.clone()}, schema = Reading)
            .group_by(g)
            .agg(max(v) as top, min(v) as bottom, max_by(x, v) as top_x, min_by(x, v) as bottom_x)
            .write(memory, name = "float_order")
            .output_mode(complete)
    }
    .manager(&StreamingQueryManager::new())
    .start()
    .unwrap();
    let rt = runtime();
    input
        .add_rows(&[
            r("a", 1.0, "one"),
            r("a", f64::NAN, "nan"),
            r("a", -0.0, "minus zero"),
            r("b", 2.0, "two"),
            r("c", f64::NAN, "first nan"),
        ])
        .unwrap();
    rt.block_on(query.process_all_available()).unwrap();
    input
        .add_rows(&[
            r("a", 0.0, "zero"),
            r("b", f64::NAN, "later nan"),
            r("c", f64::NAN, "second nan"),
        ])
        .unwrap();
    rt.block_on(query.process_all_available()).unwrap();
    rt.block_on(query.stop());
    let show = |v: Option<f64>| v.map(|v| format!("{v:?}"));
    // (group, max, min, max_by, min_by), the floats as Rust prints them
    let mut facts: Vec<[Option<String>; 5]> = query
        .rows()
        .unwrap()
        .into_iter()
        .map(|row| {
            [
                Some(row.g),
                show(row.top),
                show(row.bottom),
                row.top_x,
                row.bottom_x,
            ]
        })
        .collect();
    // complete mode: the memory sink keeps every batch's whole table; the last is the end
    facts.drain(..facts.len() - 3);
    facts.sort();
    let s = |t: &str| Some(t.to_string());
    assert_eq!(
        facts,
        [
            // NaN is the max; -0.0 came before 0.0 and they are equal: it stays
            [s("a"), s("NaN"), s("-0.0"), s("nan"), s("minus zero")],
            // a NaN in a later batch still wins the max through the merge
            [s("b"), s("NaN"), s("2.0"), s("later nan"), s("two")],
            // all NaN: NaN both ways, the first NaN row both ways
            [s("c"), s("NaN"), s("NaN"), s("first nan"), s("first nan")],
        ]
    );
}
