//! The Delta Lake sink's tests: `tests/delta_sink.rs` (end to end, every fault point,
//! complete mode, the `deltalake` Python reader), `tests/delta_sigkill.rs` (a process
//! killed mid-run), `tests/delta_kill_loop.rs` (a short kill loop) and
//! `tests/landing_zone_to_delta.rs` (the example). The fixtures are the `tests`
//! package's; [`kill_loop`] is the kill loop that the `delta_kill_loop` program runs
//! for as many cycles as it is told.

pub mod kill_loop;
