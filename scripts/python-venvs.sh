#!/usr/bin/env bash
# Creates (or reuses) one venv per test interpreter with the Python test tools installed, and
# prints their interpreters as shell exports on stdout (progress goes to stderr):
#
#     eval "$(bash scripts/python-venvs.sh)"
#     "$FTARRAY_PY313T" -c 'import sys; print(sys._is_gil_enabled())'
#
# Interpreters (override any with the variable in brackets, pointing at a base interpreter):
#   3.11   CPython 3.11, the machine's default (pyenv)          [FTARRAY_BASE_PY311]
#   3.13   CPython 3.13.0 with the GIL (pyenv)                   [FTARRAY_BASE_PY313]
#   3.13t  free-threaded CPython 3.13, from scripts/python-ft.sh [FTARRAY_BASE_PY313T]
# FTARRAY_PYTHONS (default "3.11 3.13 3.13t") selects a subset.
#
# Venvs live in ${FTARRAY_CACHE:-$HOME/.cache/ftarray}/venvs/<tag>, with the exact versions of
# python/requirements-dev.txt (maturin, pytest, numpy, hypothesis, and the "# consumer:" lines,
# pyarrow and polars, where a wheel exists for the interpreter). A venv is rebuilt only when
# its stamp (base interpreter, its version, the requirements file's hash) no longer matches, so
# a second run takes well under a second per venv. The same exports are written to
# venvs/env.sh for scripts that prefer `source`. An flock per venv serialises concurrent runs.
#
# On 3.13t it also reports whether importing numpy leaves the GIL disabled.
set -euo pipefail
cd "$(dirname "$0")/.."

CACHE=${FTARRAY_CACHE:-$HOME/.cache/ftarray}
VENVS=$CACHE/venvs
REQS=$PWD/python/requirements-dev.txt
PYTHONS=${FTARRAY_PYTHONS:-3.11 3.13 3.13t}
# A user's PYTHON_GIL=1 would turn the GIL back on in 3.13t and hide what we check.
unset PYTHON_GIL

log() { printf 'python-venvs: %s\n' "$*" >&2; }
die() {
    printf 'python-venvs: error: %s\n' "$*" >&2
    exit 1
}

[[ -f $REQS ]] || die "$REQS is missing"
pyenv_root=${PYENV_ROOT:-$HOME/.pyenv}

# First existing executable among the arguments (globs already expanded by the caller).
first_executable() {
    local candidate
    for candidate in "$@"; do
        if [[ -x $candidate ]]; then
            printf '%s\n' "$candidate"
            return 0
        fi
    done
    return 1
}

# The base interpreter for a tag, as an absolute path.
base_python() {
    local tag=$1 found=
    case $tag in
        3.11)
            found=${FTARRAY_BASE_PY311:-}
            # pyenv's own build first (shims only dispatch on the selected version), then PATH.
            [[ -n $found ]] || found=$(first_executable "$pyenv_root"/versions/3.11*/bin/python3.11 \
                "$(command -v python3.11 || true)") || true
            ;;
        3.13)
            found=${FTARRAY_BASE_PY313:-}
            [[ -n $found ]] || found=$(first_executable "$pyenv_root"/versions/3.13.0/bin/python3.13 \
                "$pyenv_root"/versions/3.13*/bin/python3.13 "$(command -v python3.13 || true)") || true
            ;;
        3.13t)
            found=${FTARRAY_BASE_PY313T:-}
            [[ -n $found ]] || found=$(bash scripts/python-ft.sh) ||
                die "scripts/python-ft.sh could not provide a free-threaded 3.13"
            ;;
        *) die "unknown interpreter tag '$tag' (known: 3.11 3.13 3.13t)" ;;
    esac
    [[ -n $found && -x $found ]] || die "no CPython $tag found (set FTARRAY_BASE_PY${tag//./})"
    # Resolve shims and symlinks to the real interpreter.
    "$found" -c 'import sys; print(sys.executable)'
}

# Checks that the base interpreter is what the tag promises.
check_base() {
    local tag=$1 py=$2
    "$py" - "$tag" <<'EOF' || die "$py is not a CPython $1 of the right kind"
import sys, sysconfig
tag = sys.argv[1]
want_ft = tag.endswith("t")
major_minor = tuple(int(x) for x in tag.rstrip("t").split("."))
ok = sys.implementation.name == "cpython" and sys.version_info[:2] == major_minor
ok = ok and bool(sysconfig.get_config_var("Py_GIL_DISABLED")) == want_ft
sys.exit(0 if ok else 1)
EOF
}

# Cheap presence check (find, not import: importing numpy and hypothesis costs a second).
find_tools='import importlib.util as u, sys; sys.exit(any(u.find_spec(m) is None for m in ("maturin", "pytest", "numpy", "hypothesis")))'
exports=()
for tag in $PYTHONS; do
    base=$(base_python "$tag")
    check_base "$tag" "$base"
    venv=$VENVS/$tag
    mkdir -p "$VENVS"
    exec 8>"$VENVS/$tag.lock"
    flock 8
    want_stamp=$(printf '%s\n%s\n%s\n' "$base" "$("$base" -c 'import sys; print(sys.version)')" \
        "$(sha256sum <"$REQS" | cut -d' ' -f1)")
    if [[ -f $venv/.ftarray-stamp && $(cat "$venv/.ftarray-stamp") == "$want_stamp" ]] &&
        "$venv/bin/python" -c "$find_tools" 2>/dev/null; then
        log "$tag: up to date ($venv)"
    else
        log "$tag: creating $venv from $base"
        rm -rf "$venv"
        "$base" -m venv "$venv"
        "$venv/bin/python" -m pip install --quiet --upgrade pip >&2
        "$venv/bin/python" -m pip install --quiet -r "$REQS" >&2
        "$venv/bin/python" -c 'import maturin, pytest, numpy, hypothesis' ||
            die "$tag: the tools do not import after installing them"
        # The hand-offs' consumers (pyarrow, polars): wheels only, one at a time; one with no
        # wheel for this interpreter is left out, and the tests that need it skip with a message.
        while read -r pin; do
            if ! "$venv/bin/python" -m pip install --quiet --only-binary :all: "$pin" >&2 2>/dev/null; then
                log "$tag: no wheel of $pin for this interpreter: its hand-off tests will be skipped"
            fi
        done < <(sed -n 's/^# consumer: *//p' "$REQS")
        printf '%s\n' "$want_stamp" >"$venv/.ftarray-stamp"
        log "$tag: ready"
    fi
    if [[ $tag == 3.13t ]]; then
        gil=$("$venv/bin/python" -W error::RuntimeWarning -c \
            'import sys; before = sys._is_gil_enabled(); import numpy; print(before, sys._is_gil_enabled(), numpy.__version__)' 2>&1) ||
            gil="numpy import failed or warned: $gil"
        log "3.13t: GIL enabled before/after 'import numpy', numpy version: $gil"
    fi
    exec 8>&-
    var=FTARRAY_PY${tag//./}
    var=${var^^}
    exports+=("export $var=$venv/bin/python")
done

printf '%s\n' "${exports[@]}" >"$VENVS/env.sh"
printf '%s\n' "${exports[@]}"
