#!/usr/bin/env bash
# Runs the test suites under Miri (Tree Borrows), which checks every access for undefined
# behaviour, use-after-free and data races in the interleavings it runs.
#
# Usage: bash scripts/miri.sh [quick|full]
#   quick (default): the unit tests and the API tests
#   full:            every test target (threaded tests shrink under cfg(miri); the memory
#                    test is skipped there because it needs millions of elements)
#
# Needs a nightly toolchain; when none is installed it says so and skips (exit 0).
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-quick}"

source scripts/nightly.sh
if ! have_nightly miri rust-src; then
    echo "SKIPPED: Miri needs nightly's miri and rust-src: $nightly_missing"
    exit 0
fi

# Tree Borrows: crossbeam-epoch trips Stacked Borrows. Leaks are ignored because the epoch
# collector's global garbage is still queued when the process ends. Permissive provenance:
# crossbeam-epoch keeps pointers as integers (its `Atomic` is an `AtomicUsize`).
export MIRIFLAGS="${MIRIFLAGS:--Zmiri-tree-borrows -Zmiri-ignore-leaks -Zmiri-permissive-provenance}"
echo "Miri ($mode), MIRIFLAGS=$MIRIFLAGS"
cargo +nightly miri setup >/dev/null
case "$mode" in
    quick) cargo +nightly miri test --lib --test api ;;
    full) cargo +nightly miri test --lib --tests ;;
    *) echo "usage: $0 [quick|full]" >&2; exit 2 ;;
esac
