#!/usr/bin/env bash
# Runs every test suite of the project, installing what it needs first.
# Usage: bash scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "toolchain components (clippy, rustfmt)"
if command -v rustup >/dev/null 2>&1; then
    rustup component add clippy rustfmt >/dev/null 2>&1 || echo "warning: could not add clippy/rustfmt with rustup"
fi

step "formatting"
cargo fmt --all --check

step "clippy (all targets, warnings are errors)"
cargo clippy --workspace --all-targets -- -D warnings

step "unit, property, threaded and memory tests, examples build, doctests"
cargo test --workspace

step "threaded and memory tests again in release (more interleavings per second)"
cargo test --release --test threads --test memory

echo
echo "all test suites passed"
