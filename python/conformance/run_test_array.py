"""Run CPython's own ``Lib/test/test_array.py`` against an ``array``-compatible module.

The test file is taken from the running interpreter's own standard library (``test`` package),
so each interpreter is checked against its own version of the suite. The only change made to it
is the import: ``import array`` becomes ``import MODULE as array`` and ``from array import ...``
becomes ``from MODULE import ...``; every other line is the standard suite's. With
``--module array`` (the default) this runs the suite unchanged, which proves the harness.

Usage (with the interpreter under test)::

    python python/conformance/run_test_array.py                   # the standard module
    python python/conformance/run_test_array.py --module ftarray  # ours, same tests
    python python/conformance/run_test_array.py -k Byte -v        # a subset, verbosely

Tests listed in ``KNOWN_DIFFERENCES`` (with the reason, which the README repeats) are skipped
when the module under test is not the standard one; they are reported as skipped, never as
passed. Prints one summary line and exits 0 only if no test failed or errored. ``--json FILE`` also
writes the counts (and the ids of failing tests) for scripts.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import sys
import sysconfig
import tempfile
import time
import unittest

# `import array` and `from array import ...`, each on its own line, at any indentation.
IMPORT_RE = re.compile(r"^(?P<indent>[ \t]*)import array[ \t]*$", re.MULTILINE)
FROM_RE = re.compile(r"^(?P<indent>[ \t]*)from array import ", re.MULTILINE)
# Every statement that may load the standard module: each must be one the swap rewrites.
ANY_IMPORT_RE = re.compile(
    r"^[ \t]*(?:import[ \t][^#\n]*\barray\b|from[ \t]+array\b)"
    r"|(?:import_module|import_fresh_module|__import__)\([ \t]*['\"]array['\"]",
    re.MULTILINE,
)


# Tests of the suite that check CPython implementation details ftarray does not share, by test
# method name (in every test class that has it), with the reason. Skipped only for a module
# other than the standard one.
KNOWN_DIFFERENCES = {
    "test_sizeof_with_buffer": (
        "checks sys.getsizeof() against the size of CPython's C struct arrayobject "
        "(support.calcvobjsize('Pn2Pi')); ftarray.array has its own object layout and "
        "__sizeof__ reports that (its basic size plus the storage's capacity in bytes)"
    ),
    "test_sizeof_without_buffer": (
        "checks sys.getsizeof() against the size of CPython's C struct arrayobject; "
        "see test_sizeof_with_buffer"
    ),
}


def skip_known_differences(mod) -> int:
    """Marks every ``KNOWN_DIFFERENCES`` test of ``mod``'s test classes as skipped."""
    skipped = 0
    for cls in vars(mod).values():
        if not (isinstance(cls, type) and issubclass(cls, unittest.TestCase)):
            continue
        for name, reason in KNOWN_DIFFERENCES.items():
            if hasattr(cls, name):
                setattr(cls, name, unittest.skip(f"ftarray: {reason}")(getattr(cls, name)))
                skipped += 1
    return skipped


def stdlib_test_file() -> str:
    """Path of ``test/test_array.py`` in the running interpreter's standard library."""
    import test  # the stdlib's own test package

    path = os.path.join(os.path.dirname(test.__file__), "test_array.py")
    if not os.path.exists(path):
        raise SystemExit(f"error: {path} does not exist (this interpreter ships no test suite)")
    return path


def swap_import(source: str, module: str) -> tuple[str, int]:
    """Return ``source`` with the ``array`` imports pointed at ``module`` and the count swapped.

    Raises ``ValueError`` if the file has no import to swap or still mentions the standard
    module in a way the swap does not cover (so a new upstream pattern cannot go unnoticed).
    """
    if module == "array":
        return source, 0
    new, n_import = IMPORT_RE.subn(rf"\g<indent>import {module} as array", source)
    new, n_from = FROM_RE.subn(rf"\g<indent>from {module} import ", new)
    if n_import == 0:
        raise ValueError("no `import array` line found: the test file's layout changed")
    covered = {m.start() for m in IMPORT_RE.finditer(source)}
    covered |= {m.start() for m in FROM_RE.finditer(source)}
    for m in ANY_IMPORT_RE.finditer(source):
        if m.start() not in covered:
            line = source.count("\n", 0, m.start()) + 1
            text = source[m.start():].split("\n", 1)[0].strip()
            raise ValueError(f"line {line} still imports the standard module: {text!r}")
    return new, n_import + n_from


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--module", default="array", help="module to test (default: array)")
    parser.add_argument("-k", dest="patterns", action="append", default=[],
                        help="only run tests matching this substring (unittest -k)")
    parser.add_argument("-v", "--verbose", action="store_true", help="one line per test")
    parser.add_argument("--json", metavar="FILE", help="also write the counts as JSON")
    args = parser.parse_args(argv)

    importlib.import_module(args.module)  # fail early and clearly if it is not installed
    source_path = stdlib_test_file()
    with open(source_path, encoding="utf-8") as f:
        source, swapped = swap_import(f.read(), args.module)

    with tempfile.TemporaryDirectory(prefix="test_array_") as tmp:
        # A top-level module name of its own: pickling tests pickle classes defined in the
        # file by reference, so the module must be importable under the name it runs as.
        name = "test_array_conformance"
        path = os.path.join(tmp, name + ".py")
        with open(path, "w", encoding="utf-8") as f:
            f.write(source)
        spec = importlib.util.spec_from_file_location(name, path)
        mod = importlib.util.module_from_spec(spec)
        sys.modules[name] = mod
        spec.loader.exec_module(mod)
        if args.module != "array":
            skip_known_differences(mod)

        loader = unittest.TestLoader()
        if args.patterns:
            loader.testNamePatterns = [f"*{p}*" for p in args.patterns]
        suite = loader.loadTestsFromModule(mod)
        runner = unittest.TextTestRunner(
            stream=sys.stderr, verbosity=2 if args.verbose else 0, buffer=False
        )
        start = time.perf_counter()
        result = runner.run(suite)
        seconds = time.perf_counter() - start

    failed = len(result.failures) + len(result.unexpectedSuccesses)
    errors = len(result.errors)
    skipped = len(result.skipped)
    passed = result.testsRun - failed - errors - skipped - len(result.expectedFailures)
    gil = getattr(sys, "_is_gil_enabled", lambda: True)()
    interp = (
        f"CPython {sys.version.split()[0]}"
        f"{'t' if sysconfig.get_config_var('Py_GIL_DISABLED') else ''}"
        f" (GIL {'enabled' if gil else 'disabled'})"
    )
    print(
        f"test_array.py of {interp} against `{args.module}` "
        f"({swapped} import line(s) swapped, {seconds:.1f} s): {result.testsRun} run"
    )
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(
                {
                    "interpreter": interp,
                    "module": args.module,
                    "run": result.testsRun,
                    "passed": passed,
                    "failed": failed,
                    "errors": errors,
                    "skipped": skipped,
                    "expected_failures": len(result.expectedFailures),
                    "failing": sorted(t.id() for t, _ in result.failures + result.errors),
                    "skip_reasons": sorted({r for _, r in result.skipped}),
                },
                f,
                indent=2,
            )
    # The plain closing line that test reporting reads.
    print(f"{passed} passed, {failed + errors} failed, {skipped} skipped")
    return 0 if failed == 0 and errors == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
