"""The extension module imports, exports what it promises, and keeps the GIL off on 3.13t."""

import os
import subprocess
import sys
import sysconfig
import textwrap

import pytest

import ftarray

FREE_THREADED = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))


def run_fresh(code: str) -> str:
    """Run ``code`` in a fresh interpreter (nothing imported yet) and return its stdout."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHON_GIL"}
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_typecodes_are_the_numeric_codes_of_the_standard_module():
    import array

    assert ftarray.typecodes == "bBhHiIlLqQfd"
    # The same codes, in the same order, as the standard module's numeric ones.
    assert ftarray.typecodes == "".join(c for c in array.typecodes if c not in "uw")


def test_extension_is_built_for_this_interpreter():
    # maturin wraps a pure-Rust module in a package: ftarray/__init__.py re-exports the public
    # names of the extension ftarray/ftarray.<EXT_SUFFIX> (for 3.13t the suffix says "313t").
    ext = ftarray.ftarray
    assert ext.__file__.endswith(sysconfig.get_config_var("EXT_SUFFIX"))
    assert ftarray.__version__ == ext.__version__
    assert ftarray.__version__.count(".") == 2


@pytest.mark.skipif(not FREE_THREADED, reason="needs a free-threaded (3.13t) interpreter")
def test_import_leaves_the_gil_disabled():
    out = run_fresh("""
        import sys
        before = sys._is_gil_enabled()
        import ftarray
        print(before, sys._is_gil_enabled())
    """)
    assert out.split() == ["False", "False"]


@pytest.mark.skipif(not FREE_THREADED, reason="needs a free-threaded (3.13t) interpreter")
def test_control_an_extension_without_the_declaration_turns_the_gil_on():
    # Proves the check above can fail: CPython's test extension _testmultiphase also defines
    # a module with no slots at all, hence no Py_mod_gil; importing it re-enables the GIL.
    out = run_fresh("""
        import importlib.util, sys, warnings
        import _testmultiphase
        warnings.simplefilter("ignore")
        name = "_testmultiphase_null_slots"
        spec = importlib.util.spec_from_file_location(name, _testmultiphase.__file__)
        before = sys._is_gil_enabled()
        spec.loader.exec_module(importlib.util.module_from_spec(spec))
        print(before, sys._is_gil_enabled())
    """)
    assert out.split() == ["False", "True"]


def test_concurrent_first_imports_see_one_module():
    out = run_fresh("""
        import sys, threading
        barrier = threading.Barrier(8)
        seen = []
        def worker():
            barrier.wait()
            import ftarray
            seen.append((id(ftarray), ftarray.typecodes))
        threads = [threading.Thread(target=worker) for _ in range(8)]
        for t in threads: t.start()
        for t in threads: t.join()
        print(len(seen), len(set(seen)), getattr(sys, "_is_gil_enabled", lambda: True)())
    """)
    count, distinct, gil = out.split()
    assert (count, distinct) == ("8", "1")
    assert gil == str(not FREE_THREADED)
