#!/usr/bin/env bash
# Runs every test suite of the project, installing what it needs first.
#
# Usage: bash scripts/test.sh
#
# Steps: formatting and clippy (main crate, fuzz and loom crates); the libraries built with
# the oldest supported Rust (scripts/msrv.sh, which installs it with rustup); unit, API,
# property, threaded, memory and .npy tests, examples and doctests; the threaded, memory and
# .npy crash tests again in release; benchmarks build (not run: they are not timed tests);
# .npy interop with numpy (scripts/npy_interop.sh); the C ABI's C tests, plain and under ASan, TSan and
# valgrind (scripts/capi-test.sh); the fuzz harness's regression replay (stable); loom
# models at preemption bound 2; Miri on the unit and API tests; a short fuzz smoke of every
# target; the Python binding's tests on CPython 3.11, 3.13 and free-threaded 3.13
# (scripts/python-test.sh, which builds the free-threaded interpreter once and caches it).
# Steps that need nightly (Miri, ASan fuzzing) say clearly when they are skipped or fall back
# because no nightly toolchain is installed.
#
# Environment: FUZZ_SMOKE_SECONDS (default 10) seconds per fuzz target; PYTHON (an interpreter
# with numpy for the .npy interop check; default: the CPython 3.11 venv of
# scripts/python-venvs.sh).
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
cargo fmt --manifest-path fuzz/Cargo.toml --all --check
cargo fmt --manifest-path loom/Cargo.toml --check

step "clippy (all targets, warnings are errors)"
cargo clippy --workspace --all-targets -- -D warnings
cargo clippy --manifest-path fuzz/Cargo.toml --workspace --all-targets -- -D warnings

step "minimum supported Rust: the libraries build with the manifests' rust-version"
bash scripts/msrv.sh

step "unit, API, property, threaded and memory tests, examples build, doctests"
cargo test --workspace

step "threaded, memory and npy crash tests again in release (more interleavings and kills per second)"
cargo test --release --test threads --test memory --test npy_crash

step "benchmarks build (cargo bench --no-run)"
cargo bench --no-run

step ".npy interop with numpy, both directions (interpreter: \$PYTHON, else the 3.11 venv)"
if [[ -z "${PYTHON:-}" ]]; then
    eval "$(FTARRAY_PYTHONS=3.11 bash scripts/python-venvs.sh)"
    PYTHON="$FTARRAY_PY311"
fi
PYTHON="$PYTHON" bash scripts/npy_interop.sh

step "C ABI: C programs against libftarray, plain and under ASan, TSan and valgrind"
bash scripts/capi-test.sh

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
