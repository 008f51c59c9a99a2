#!/usr/bin/env bash
# Fuzzes ftarray with cargo-fuzz (libFuzzer): the targets in fuzz/fuzz_targets/ (ops, bytes,
# threads, npy, capi; their logic is in fuzz/src/, see fuzz/src/lib.rs).
#
# Usage: bash scripts/fuzz.sh SECONDS [TARGET...]        (default: every target)
#
# Each target runs for SECONDS (-max_total_time), from a scratch copy of its checked-in seeds
# (fuzz/corpus/<target>/seed-*), so a run never dirties the repository. The script prints each
# target's executions and the total, and exits nonzero if any target crashed, timed out or ran
# out of memory, printing the input libFuzzer saved (fuzz/artifacts/<target>/...). Save such an
# input as fuzz/regressions/<target>-<short-name>: `cargo test --manifest-path fuzz/Cargo.toml`
# then replays it on stable, without libFuzzer.
#
# Mode, picked automatically:
#   * a nightly toolchain is installed (`rustup toolchain list` shows one):
#       cargo +nightly fuzz run --sanitizer address   (AddressSanitizer needs nightly's -Zsanitizer)
#   * otherwise:
#       cargo fuzz run --sanitizer none               (stable; coverage-guided, the targets' own
#                                                      assertions and debug assertions, no ASan)
# cargo-fuzz itself is installed first if `cargo fuzz` is missing (cargo install cargo-fuzz --locked).
#
# Environment:
#   FUZZ_FORCE_STABLE=1   use the stable mode even when nightly is installed
#   FUZZ_TARGET_DIR=DIR   cargo's target dir for the fuzz crate (default fuzz/target); each mode
#                         builds in its own DIR/<mode> so switching modes does not rebuild all
#   FUZZ_CORPUS_DIR=DIR   keep the scratch corpora (grown by the run) in DIR/<target> instead of
#                         a temporary directory that is deleted at the end
#   FUZZ_ARGS="..."       extra libFuzzer flags, e.g. FUZZ_ARGS="-jobs=4 -workers=4"
#
# libFuzzer flags used: -max_total_time=SECONDS -print_final_stats=1 -timeout=30 (a hang, e.g. a
# deadlock in the threads target, is reported as a crash) -detect_leaks=0 (ftarray frees retired
# buffers later through its epoch collector, by design, so per-input leak checks would only see
# allocations outliving the input and spend most of the time scanning; ASan's check at process
# exit still reports real leaks).
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"

usage() {
    echo "usage: bash scripts/fuzz.sh SECONDS [TARGET...]   (targets: ops bytes threads npy capi)" >&2
    exit 2
}
[[ $# -ge 1 && "$1" =~ ^[0-9]+$ && "$1" -gt 0 ]] || usage
seconds="$1"
shift
targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then
    targets=(ops bytes threads npy capi)
fi
for t in "${targets[@]}"; do
    [[ -f "fuzz/fuzz_targets/$t.rs" ]] || { echo "no fuzz target '$t' (fuzz/fuzz_targets/$t.rs)" >&2; usage; }
done

step() { printf '\n==> %s\n' "$*"; }

# --- cargo-fuzz ------------------------------------------------------------------------------
if ! cargo fuzz --version >/dev/null 2>&1; then
    step "cargo fuzz is missing: cargo install cargo-fuzz --locked"
    cargo install cargo-fuzz --locked
fi
cargo fuzz --version

# --- mode ------------------------------------------------------------------------------------
source "$root/scripts/nightly.sh"
if have_nightly; then have_nightly=1; else have_nightly=0; fi
if [[ "${FUZZ_FORCE_STABLE:-0}" != "0" ]]; then
    mode=stable
    why="FUZZ_FORCE_STABLE=${FUZZ_FORCE_STABLE} is set"
elif [[ $have_nightly == 1 ]]; then
    mode=asan
    why="a nightly toolchain is installed"
else
    mode=stable
    why="no nightly toolchain is installed (AddressSanitizer needs nightly)"
fi

target_base="${FUZZ_TARGET_DIR:-$root/fuzz/target}"
set_mode() {
    case "$1" in
        asan)
            cargo_fuzz=(cargo +nightly fuzz)
            san=(--sanitizer address)
            desc="cargo +nightly fuzz run --sanitizer address (AddressSanitizer)"
            ;;
        stable)
            cargo_fuzz=(cargo fuzz)
            san=(--sanitizer none)
            desc="cargo fuzz run --sanitizer none (stable toolchain, no sanitizer)"
            ;;
    esac
    target_dir="$target_base/$1"
}
set_mode "$mode"
step "mode: $desc -- because $why"

step "building the fuzz targets (target dir $target_dir)"
if ! "${cargo_fuzz[@]}" build "${san[@]}" --target-dir "$target_dir"; then
    if [[ $mode == asan ]]; then
        echo "WARNING: the nightly AddressSanitizer build failed; falling back to the stable mode" >&2
        mode=stable
        why="the nightly ASan build failed"
        set_mode stable
        step "mode: $desc -- because $why"
        "${cargo_fuzz[@]}" build "${san[@]}" --target-dir "$target_dir"
    else
        exit 1
    fi
fi

# --- runs ------------------------------------------------------------------------------------
if [[ -n "${FUZZ_CORPUS_DIR:-}" ]]; then
    scratch="$FUZZ_CORPUS_DIR"
    mkdir -p "$scratch"
    keep_scratch=1
else
    scratch="$(mktemp -d "${TMPDIR:-/tmp}/ftarray-fuzz.XXXXXX")"
    keep_scratch=0
fi
logs="$(mktemp -d "${TMPDIR:-/tmp}/ftarray-fuzz-logs.XXXXXX")"
cleanup() {
    [[ $keep_scratch == 1 ]] || rm -rf "$scratch"
}
trap cleanup EXIT

# shellcheck disable=SC2206 # FUZZ_ARGS is a list of flags, split on purpose
extra=(${FUZZ_ARGS:-})
total=0
failed=()
summary=()
for t in "${targets[@]}"; do
    corpus="$scratch/$t"
    mkdir -p "$corpus"
    cp fuzz/corpus/"$t"/seed-* "$corpus"/ 2>/dev/null || true
    log="$logs/$t.log"
    step "fuzzing '$t' for ${seconds}s ($(find "$corpus" -type f | wc -l) inputs to start from)"
    set +e
    "${cargo_fuzz[@]}" run "${san[@]}" --target-dir "$target_dir" "$t" "$corpus" -- \
        -max_total_time="$seconds" -print_final_stats=1 -timeout=30 -detect_leaks=0 \
        "${extra[@]}" >"$log" 2>&1
    rc=$?
    set -e
    # libFuzzer's final stats (also printed after a crash), or the "#N DONE" line.
    execs="$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$log" | tail -n 1)"
    if [[ -z "$execs" ]]; then
        execs="$(sed -n 's/^#\([0-9]*\)[[:space:]]*DONE.*/\1/p' "$log" | tail -n 1)"
    fi
    execs="${execs:-0}"
    rate="$(sed -n 's/^stat::average_exec_per_sec: *\([0-9]*\).*/\1/p' "$log" | tail -n 1)"
    total=$((total + execs))
    grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -n 1 || true
    if [[ $rc -ne 0 ]]; then
        tail -n 60 "$log"
        artifact="$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)"
        if [[ -n "$artifact" ]]; then
            [[ "$artifact" = /* ]] || artifact="$root/fuzz/$artifact"
        fi
        echo "CRASH in '$t' (exit $rc); artifact: ${artifact:-none written}; full log: $log"
        echo "  reproduce: ${cargo_fuzz[*]} run ${san[*]} --target-dir $target_dir $t ${artifact:-<input>}"
        echo "  keep it:   cp ${artifact:-<input>} fuzz/regressions/$t-<short-name>"
        failed+=("$t")
        summary+=("$(printf '%-8s %12s executions  %8s/s  CRASH (%s)' "$t" "$execs" "${rate:-?}" "${artifact:-no artifact}")")
    else
        summary+=("$(printf '%-8s %12s executions  %8s/s  ok' "$t" "$execs" "${rate:-?}")")
    fi
done

step "summary: mode $mode ($why), ${seconds}s per target"
printf '%s\n' "${summary[@]}"
printf '%-8s %12s executions\n' total "$total"
echo "logs: $logs"
if [[ ${#failed[@]} -gt 0 ]]; then
    echo "FAILED: ${failed[*]}"
    exit 1
fi
