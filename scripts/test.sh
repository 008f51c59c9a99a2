#!/usr/bin/env bash
# Runs every test suite of the project, installing what it needs first.
#
# Usage: bash scripts/test.sh
#
# Steps: formatting and clippy (main crate, fuzz and loom crates); unit, API, property,
# threaded and memory tests, examples and doctests; the threaded and memory tests again in
# release; benchmarks build (not run: they are not timed tests); the fuzz harness's regression
# replay (stable); loom models at preemption bound 2; Miri on the unit and API tests; a short
# fuzz smoke of every target; the Python binding's tests on CPython 3.11, 3.13 and free-threaded
# 3.13 (scripts/python-test.sh, which builds the free-threaded interpreter once and caches it). Steps that need nightly (Miri, ASan fuzzing) say clearly when
# they are skipped or fall back because no nightly toolchain is installed.
#
# Environment: FUZZ_SMOKE_SECONDS (default 10) seconds per fuzz target.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }
start=$(date +%s)

step "toolchain components (clippy, rustfmt)"
if command -v rustup >/dev/null 2>&1; then
    rustup component add clippy rustfmt >/dev/null 2>&1 || echo "warning: could not add clippy/rustfmt with rustup"
fi

step "formatting (main crate, fuzz crate, loom crate)"
cargo fmt --all --check
cargo fmt --manifest-path fuzz/Cargo.toml --check
cargo fmt --manifest-path loom/Cargo.toml --check

step "clippy (all targets, warnings are errors)"
cargo clippy --workspace --all-targets -- -D warnings
cargo clippy --manifest-path fuzz/Cargo.toml --all-targets -- -D warnings

step "unit, API, property, threaded and memory tests, examples build, doctests"
cargo test --workspace

step "threaded and memory tests again in release (more interleavings per second)"
cargo test --release --test threads --test memory

step "benchmarks build (cargo bench --no-run)"
cargo bench --no-run

step "fuzz regressions: every seed and saved crash input replayed (stable)"
cargo test --manifest-path fuzz/Cargo.toml

step "loom models, LOOM_MAX_PREEMPTIONS=2"
bash scripts/loom.sh 2

step "Miri (Tree Borrows): unit and API tests"
bash scripts/miri.sh quick

step "fuzz smoke: ${FUZZ_SMOKE_SECONDS:-10} s per target"
bash scripts/fuzz.sh "${FUZZ_SMOKE_SECONDS:-10}"

step "Python binding on 3.11, 3.13, 3.13t: pytest, CPython's test_array.py against array and ftarray, the #146007 race on 3.13t"
bash scripts/python-test.sh

echo
echo "all test suites passed in $(( $(date +%s) - start )) s"
