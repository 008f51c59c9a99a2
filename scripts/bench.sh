#!/usr/bin/env bash
# Runs the benchmarks: the criterion benches (benches/reads.rs, benches/writes.rs), the memory
# bench (benches/memory.rs), then prints the summary table (scripts/bench_summary.py).
#
# Usage: bash scripts/bench.sh [--quick] [FILTER]
#   --quick  short warm-up and measurement (about 7 minutes instead of about 25 on 2 cores);
#            good for spotting regressions of 2x, not for 10% differences.
#   FILTER   a criterion filter (regex over ids, e.g. 'get_pinned|push'); the summary then shows
#            older results (or "no data") for the rest.
#
# Respects CARGO_TARGET_DIR (criterion writes to $CARGO_TARGET_DIR/criterion, else
# target/criterion). The full log goes to <target>/bench.log.
set -euo pipefail
cd "$(dirname "$0")/.."

quick=0
filter=()
for arg in "$@"; do
    case "$arg" in
        --quick) quick=1 ;;
        -h | --help) sed -n '2,13p' "$0"; exit 0 ;;
        *) filter+=("$arg") ;;
    esac
done

target="${CARGO_TARGET_DIR:-target}"
crit="${CRITERION_HOME:-$target/criterion}"
log="$target/bench.log"
mkdir -p "$target"

criterion_args=()
if [ "$quick" = 1 ]; then
    criterion_args=(--warm-up-time 0.5 --measurement-time 1.5 --sample-size 30 --nresamples 20000)
fi

start=$(date +%s)
{
    echo "==> criterion benches (reads, writes)${filter:+ filter: ${filter[*]}}"
    cargo bench --bench reads --bench writes -- "${criterion_args[@]}" "${filter[@]}"
    echo
    echo "==> memory bench"
    cargo bench --bench memory
} 2>&1 | tee "$log" | grep --line-buffered -vE '^(Benchmarking |Found [0-9]+ outliers|  [0-9]+ \([0-9.]+%\) (low|high) (mild|severe)|\s*$)'
echo
echo "==> took $(( $(date +%s) - start )) s; full log: $log"
echo
python3 scripts/bench_summary.py "$crit"
