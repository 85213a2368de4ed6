//! The state store's delta and snapshot readers (typed, as the store reads them, and by
//! columns, as `state::read` does) on any bytes. Byte 0 picks delta or snapshot, the
//! state's key and value types, and whether the rest is the whole file or only its
//! sections, which the target puts in a file with a valid length and checksum (random
//! bytes rarely pass the checksum); for a delta, bytes 1 and 2 say where the upserts'
//! section ends. The readers catch Arrow's panics on malformed IPC streams (their
//! error names the file), so those panics unwind here; any other panic is a crash.
#![no_main]

use libfuzzer_sys::fuzz_target;
use stream_core::__fuzz::{read_state_delta, read_state_snapshot, state_file};
use stream_core::Schema;
use stream_core::types::TimestampMs;

/// The state of a windowed count (tests/fixtures/checkpoints/window_count).
#[derive(Schema)]
struct WindowKey {
    window_start: TimestampMs,
    window_end: TimestampMs,
    country: String,
}

#[derive(Schema)]
struct Count {
    __acc0: i64,
}

/// The state of a deduplication (tests/fixtures/checkpoints/dedup).
#[derive(Schema)]
struct DedupKey {
    user: String,
    ts: TimestampMs,
}

#[derive(Schema)]
struct Seen {
    __event_time: Option<i64>,
}

fuzz_target!(|data: &[u8]| {
    stream_fuzz::let_arrow_panics_unwind();
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let snapshot = selector & 1 == 1;
    let wrapped;
    let file: &[u8] = if selector & 2 == 2 {
        wrapped = if snapshot {
            state_file(&[rest])
        } else {
            let [a, b, sections @ ..] = rest else {
                return;
            };
            let cut = usize::from(u16::from_le_bytes([*a, *b])).min(sections.len());
            let (upserts, removed) = sections.split_at(cut);
            state_file(&[upserts, removed])
        };
        &wrapped
    } else {
        rest
    };
    let _ = match (snapshot, selector & 4 == 4) {
        (false, false) => read_state_delta::<WindowKey, Count>(file).map(drop),
        (false, true) => read_state_delta::<DedupKey, Seen>(file).map(drop),
        (true, false) => read_state_snapshot::<WindowKey, Count>(file).map(drop),
        (true, true) => read_state_snapshot::<DedupKey, Seen>(file).map(drop),
    };
});
