#!/usr/bin/env bash
# The C ABI's bulk-access benchmark (benches/c/bulk_sum.c): summing 1M doubles from a plain C
# array, through ftarray_get_range in chunks, and through a loop of ftarray_get_f64; prints the
# timings and the ratios to the plain array, and fails if the range copy is slower than 1.5x.
#
# Usage: bash scripts/bench-capi.sh [REPS] [CHUNK]
# Builds libftarray (release) into a scratch prefix with capi/install.sh (respects
# CARGO_TARGET_DIR); the program is compiled with gcc -O2, as a host would build it.
set -euo pipefail
cd "$(dirname "$0")/.."
work="${CAPI_BENCH_DIR:-${CARGO_TARGET_DIR:-target}/capi-bench}"
mkdir -p "$work"
work="$(cd "$work" && pwd)"
bash capi/install.sh "$work/prefix" >/dev/null
gcc -std=c11 -O2 -Wall -Wextra -Werror -I"$work/prefix/include" benches/c/bulk_sum.c \
    -L"$work/prefix/lib" -lftarray -Wl,-rpath,"$work/prefix/lib" -o "$work/bulk_sum"
"$work/bulk_sum" "$@"
