#!/usr/bin/env bash
# Runs the fuzz targets of fuzz/ (cargo-fuzz, libFuzzer), each for a bounded time, one
# after the other on one core; fails if one crashes, panics, hangs on an input (more
# than FUZZ_TIMEOUT seconds) or runs out of memory.
#
#   ./scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
#
# Defaults: 30 seconds per target, every target (`cargo fuzz list`). Installs what is
# missing: a nightly toolchain (rustup, minimal profile) and cargo-fuzz. Builds into
# $CARGO_TARGET_DIR if it is set, else fuzz/target (a folder of its own: the fuzz build
# has other flags than the workspace's, and would rebuild it).
#
# Each target starts from its corpus, fuzz/corpus/<target>, and adds the inputs that
# reach new code to it; a failing input is written to fuzz/artifacts/<target>/ and
# can be run again with `cargo +nightly fuzz run <target> <file> --fuzz-dir fuzz`.
# The closing lines give, per target, the seconds run and the inputs executed.
#
# The build: release with debug assertions and overflow checks (an overflow is a bug
# too), no sanitizer (the engine has no unsafe code; the speed goes to executions).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

seconds="${1:-30}"
shift || true
timeout_per_input="${FUZZ_TIMEOUT:-10}"
toolchain="${FUZZ_TOOLCHAIN:-nightly}"
target_dir="${CARGO_TARGET_DIR:-$PWD/fuzz/target}"
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

if ! rustup run "$toolchain" rustc --version >/dev/null 2>&1; then
    echo "installing the $toolchain toolchain (cargo-fuzz needs nightly)"
    rustup toolchain install "$toolchain" --profile minimal
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "installing cargo-fuzz"
    cargo install cargo-fuzz --locked
fi

fuzz=(cargo "+$toolchain" fuzz)
flags=(--fuzz-dir fuzz --sanitizer none --debug-assertions --target-dir "$target_dir")

if [[ $# -gt 0 ]]; then
    targets=("$@")
else
    mapfile -t targets < <("${fuzz[@]}" list --fuzz-dir fuzz)
fi

started=$SECONDS
"${fuzz[@]}" build "${flags[@]}"
echo "fuzz targets built in $((SECONDS - started)) s"

summary=()
for target in "${targets[@]}"; do
    mkdir -p "fuzz/corpus/$target"
    log="$(mktemp)"
    echo
    echo "==> $target for $seconds s"
    target_started=$SECONDS
    # the progress lines (`#1024 NEW ...`) stay in the log only
    set +e
    "${fuzz[@]}" run "${flags[@]}" "$target" "fuzz/corpus/$target" -- \
        -max_total_time="$seconds" -timeout="$timeout_per_input" \
        -print_final_stats=1 2>&1 | tee "$log" | grep -v '^#[0-9]'
    status="${PIPESTATUS[0]}"
    set -e
    execs="$(awk '/^stat::number_of_executed_units:/ { print $2 }' "$log")"
    rm -f "$log"
    summary+=("$target: $((SECONDS - target_started)) s, ${execs:-?} inputs run, $(find "fuzz/corpus/$target" -type f | wc -l) in the corpus")
    if [[ "$status" -ne 0 ]]; then
        printf '%s\n' "${summary[@]}"
        echo "fuzz target $target failed (exit $status); its input is in fuzz/artifacts/$target/" >&2
        exit 1
    fi
done

echo
echo "fuzzing done in $((SECONDS - started)) s"
printf '%s\n' "${summary[@]}"
