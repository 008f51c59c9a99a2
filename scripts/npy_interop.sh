#!/usr/bin/env bash
# Checks ftarray's .npy files against numpy in both directions (tests/npy_interop.py): numpy
# loads what ftarray saves, ftarray loads what numpy.save writes (both byte orders, formats
# 1.0/2.0/3.0), and ftarray's files are byte for byte numpy's.
#
# Usage: bash scripts/npy_interop.sh
#
# Environment:
#   PYTHON=/path/to/python   the interpreter to use; it must have numpy. When unset, a venv is
#                            made in $NPY_INTEROP_VENV (default target/npy-interop-venv) with the
#                            first python3 on PATH, and numpy is installed into it from PyPI.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ -z "${PYTHON:-}" ]]; then
    venv="${NPY_INTEROP_VENV:-${CARGO_TARGET_DIR:-target}/npy-interop-venv}"
    if [[ ! -x "$venv/bin/python" ]]; then
        echo "==> creating $venv (python3: $(command -v python3))"
        python3 -m venv "$venv"
    fi
    if ! "$venv/bin/python" -c "import numpy" 2>/dev/null; then
        echo "==> installing numpy into $venv"
        "$venv/bin/python" -m pip install --quiet --disable-pip-version-check numpy
    fi
    PYTHON="$venv/bin/python"
fi
if ! "$PYTHON" -c "import numpy" 2>/dev/null; then
    echo "error: $PYTHON cannot import numpy (install it, or unset PYTHON to use a venv)" >&2
    exit 1
fi
echo "==> interpreter: $PYTHON ($("$PYTHON" -c 'import sys, numpy; print(sys.version.split()[0], "numpy", numpy.__version__)'))"

cargo build --quiet --example npy_tool
tool="${CARGO_TARGET_DIR:-target}/debug/examples/npy_tool"
"$PYTHON" tests/npy_interop.py "$tool"
