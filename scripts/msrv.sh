#!/usr/bin/env bash
# Checks that the three libraries (ftarray, ftarray-capi, ftarray-python) build with the
# oldest Rust the manifests promise (`rust-version` in Cargo.toml), installing that toolchain
# with rustup (minimal profile) if it is missing.
#
# Usage: bash scripts/msrv.sh
#
# Only the libraries: tests, benches and examples may use newer dev-dependencies (proptest,
# for one, needs a newer compiler than the libraries do). Skips with a message, and succeeds,
# when rustup is missing or cannot install the toolchain (no network); a build failure with
# the toolchain installed fails.
set -euo pipefail
cd "$(dirname "$0")/.."

msrv=$(sed -n 's/^rust-version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
if [ -z "$msrv" ]; then
    echo "msrv: no rust-version in Cargo.toml" >&2
    exit 1
fi
if ! command -v rustup >/dev/null 2>&1; then
    echo "msrv: SKIPPED (no rustup to install Rust $msrv)"
    exit 0
fi
if ! rustup run "$msrv" rustc --version >/dev/null 2>&1; then
    echo "msrv: installing Rust $msrv (minimal profile)"
    if ! rustup toolchain install "$msrv" --profile minimal >/dev/null 2>&1; then
        echo "msrv: SKIPPED (could not install Rust $msrv with rustup)"
        exit 0
    fi
fi
echo "msrv: $(rustup run "$msrv" rustc --version)"
CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}/msrv" \
    cargo "+$msrv" check --locked -p ftarray -p ftarray-capi -p ftarray-python --lib
echo "msrv: the libraries build with Rust $msrv"
