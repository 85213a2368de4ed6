//! The Delta Lake sink's tests: `tests/delta_sink.rs` (end to end, every fault point,
//! complete mode, the `deltalake` Python reader), `tests/delta_sigkill.rs` (a process
//! killed mid-run) and `tests/landing_zone_to_delta.rs` (the example). The fixtures are
//! the `tests` package's.
