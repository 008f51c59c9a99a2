#!/usr/bin/env bash
# Runs the unit tests and the threaded tests under ThreadSanitizer and AddressSanitizer.
#
# Usage: bash scripts/sanitize.sh [thread|address|all]   (default: all)
#
# Sanitizers need a nightly toolchain (-Zsanitizer, -Zbuild-std); when none is installed the
# script says so and skips (exit 0). Each sanitizer gets its own target directory.
set -euo pipefail
cd "$(dirname "$0")/.."
which="${1:-all}"

source scripts/nightly.sh
if ! have_nightly rust-src; then
    echo "SKIPPED: sanitizers need nightly with rust-src (-Zsanitizer, -Zbuild-std): $nightly_missing"
    exit 0
fi
target="$(rustc -vV | sed -n 's/^host: //p')"

run() {
    local san="$1"
    echo "==> ${san} sanitizer: unit tests and threaded tests"
    # ftarray_no_asm: bulk stores go through AtomicU64::store, which the sanitizers see,
    # instead of the inline-assembly 16-byte stores (src/raw/wide.rs), which they cannot.
    # ftarray_no_pool: freed blocks go back to the allocator, where a use after free shows,
    # not into the cache of large allocations (src/raw/pool.rs).
    RUSTFLAGS="-Zsanitizer=${san} --cfg ftarray_no_asm --cfg ftarray_no_pool" \
    RUSTDOCFLAGS="-Zsanitizer=${san}" \
    CARGO_TARGET_DIR="target/sanitize-${san}" \
    TSAN_OPTIONS="${TSAN_OPTIONS:-halt_on_error=1 second_deadlock_stack=1 allocator_may_return_null=1}" \
    ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0 allocator_may_return_null=1}" \
        cargo +nightly test -Zbuild-std --target "$target" --lib --test threads --test api
}

case "$which" in
    thread) run thread ;;
    address) run address ;;
    all) run thread; run address ;;
    *) echo "usage: $0 [thread|address|all]" >&2; exit 2 ;;
esac
echo "sanitizer runs finished without reports"
