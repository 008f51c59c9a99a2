#!/usr/bin/env bash
# Runs the loom models in loom/ (exhaustive interleavings up to a preemption bound).
# Usage: bash scripts/loom.sh [BOUND] [extra cargo test args...]   (BOUND defaults to 2)
set -euo pipefail
cd "$(dirname "$0")/../loom"
bound="${1:-2}"
shift || true
export RUSTFLAGS="--cfg loom --cfg crossbeam_loom"
export LOOM_MAX_PREEMPTIONS="$bound"
export CARGO_TARGET_DIR="${LOOM_TARGET_DIR:-$PWD/target}"
echo "loom models, LOOM_MAX_PREEMPTIONS=$bound"
start=$(date +%s)
cargo test --release --tests "$@" -- --test-threads="${LOOM_TEST_THREADS:-2}"
echo "loom models finished in $(( $(date +%s) - start )) s at bound $bound"
