#!/usr/bin/env bash
# The Python test command: on CPython 3.11, 3.13 and free-threaded 3.13 ("3.13t"), installs the
# extension with `pip install ./python`, runs its pytest suite, runs CPython's own test_array.py
# through the conformance harness against the standard module (proving the harness) and against
# ftarray (only the import swapped), and on 3.13t runs the #146007 race (python/examples/race.py)
# and fails if ftarray crashes, hangs or breaks an invariant there.
#
# Usage: bash scripts/python-test.sh [--no-conformance-ftarray] [--race]
#   --no-conformance-ftarray  skip test_array.py against ftarray (FTARRAY_CONFORMANCE=0 too)
#   --race                    a longer race run on 3.13t (5 runs of 2 s instead of 3 of 1 s)
#
# Everything it needs it installs itself: scripts/python-venvs.sh makes (or reuses) the venvs,
# which builds the free-threaded interpreter once with scripts/python-ft.sh (about 12 minutes on
# 2 cores; cached in ~/.cache/ftarray or $FTARRAY_CACHE). With those caches warm and the Rust
# build up to date, a run takes about a minute. FTARRAY_PYTHONS selects interpreters
# (default "3.11 3.13 3.13t"). Each interpreter gets its own cargo target directory
# (target/python/<tag>): the PyO3 build depends on the interpreter, and sharing one directory
# would rebuild PyO3 on every switch.
set -euo pipefail
cd "$(dirname "$0")/.."

conformance_ftarray=${FTARRAY_CONFORMANCE:-1}
race=0
for arg in "$@"; do
    case $arg in
        --conformance-ftarray) conformance_ftarray=1 ;;
        --no-conformance-ftarray) conformance_ftarray=0 ;;
        --race) race=1 ;;
        -h | --help)
            sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
            exit 0
            ;;
        *)
            echo "python-test: unknown argument '$arg' (try --help)" >&2
            exit 2
            ;;
    esac
done

step() { printf '\n==> %s\n' "$*"; }
start=$(date +%s)
unset PYTHON_GIL # a stray PYTHON_GIL=1 would silently turn the GIL back on in 3.13t

step "interpreters and venvs (scripts/python-venvs.sh)"
venv_exports=$(bash scripts/python-venvs.sh)
eval "$venv_exports"
printf '%s\n' "$venv_exports"

summary=()
failed=0
for tag in ${FTARRAY_PYTHONS:-3.11 3.13 3.13t}; do
    var=FTARRAY_PY${tag//./}
    var=${var^^}
    py=${!var}

    step "$tag: pip install ./python ($py)"
    # --no-build-isolation: build with the venv's pinned maturin instead of fetching one into a
    # throwaway environment on every run; --force-reinstall: same version, new build.
    # The venv's bin/ goes first on PATH: maturin's build hook runs the `maturin` executable.
    PATH="$(dirname "$py"):$PATH" CARGO_TARGET_DIR=$PWD/target/python/$tag "$py" -m pip install \
        --quiet --no-build-isolation --force-reinstall --no-deps ./python

    step "$tag: pytest python/tests"
    log=$(mktemp)
    if (cd python && "$py" -m pytest -q -p no:cacheprovider tests) 2>&1 | tee "$log"; then
        result=ok
    else
        result=FAILED
        failed=1
    fi
    summary+=("$tag pytest: $(grep -E '[0-9]+ (passed|failed)' "$log" | tail -n1 | tr -d '=' | xargs) [$result]")
    rm -f "$log"

    modules=(array)
    [[ $conformance_ftarray == 1 ]] && modules+=(ftarray)
    for module in "${modules[@]}"; do
        step "$tag: CPython's test_array.py against $module"
        log=$(mktemp)
        if "$py" python/conformance/run_test_array.py --module "$module" 2>"$log.err" | tee "$log"; then
            result=ok
        else
            result=FAILED
            failed=1
            tail -n 40 "$log.err"
        fi
        summary+=("$tag test_array.py vs $module: $(tail -n1 "$log") [$result]")
        rm -f "$log" "$log.err"
    done

    if [[ $tag == 3.13t ]]; then
        runs=3 seconds=1
        [[ $race == 1 ]] && runs=5 seconds=2
        step "$tag: the #146007 race (python/examples/race.py), $runs runs of $seconds s"
        # The standard module is expected to crash here; the exit status is ftarray's alone.
        if "$py" python/examples/race.py --modules array,ftarray --runs "$runs" \
            --seconds "$seconds" --require-safe ftarray; then
            result=ok
        else
            result=FAILED
            failed=1
        fi
        summary+=("$tag race.py: ftarray finished every run with the invariants held [$result]")
    fi
done

step "summary"
printf '%s\n' "${summary[@]}"
echo "python tests finished in $(($(date +%s) - start)) s"
exit "$failed"
