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


def test_module_exports_what_the_standard_module_exports():
    import array
    import collections.abc

    # The interpreter's own list, in its own order: 3.11 has no 'w', 3.13 has it after 'u'.
    assert ftarray.typecodes == array.typecodes
    assert ftarray.ArrayType is ftarray.array
    assert callable(ftarray._array_reconstructor)
    public = {name for name in dir(array) if not name.startswith("__")}
    assert public <= set(dir(ftarray)), public - set(dir(ftarray))
    assert issubclass(ftarray.array, collections.abc.MutableSequence)
    assert isinstance(ftarray.array("b"), collections.abc.Reversible)
    # `from ftarray import *` gives the same names as `from array import *` (plus none missing).
    scope = {}
    exec("from ftarray import *", scope)
    assert {"array", "ArrayType", "typecodes"} <= set(scope)


def test_type_is_immutable_and_the_iterator_cannot_be_instantiated():
    with pytest.raises(TypeError):
        ftarray.array.foo = 1
    it_type = type(iter(ftarray.array("i")))
    with pytest.raises(TypeError, match="cannot create 'ftarray.arrayiterator' instances"):
        it_type()


@pytest.mark.parametrize("name", ["append", "extend", "pop", "__copy__"])
def test_fast_methods_have_the_standard_signature_and_doc(name):
    # `append`, `extend`, `pop` and `__copy__` are installed as plain C methods (METH_O,
    # METH_FASTCALL, METH_NOARGS) in place of PyO3's; they must still introspect as the
    # standard type's do.
    import array
    import inspect

    ours, std = getattr(ftarray.array, name), getattr(array.array, name)
    assert inspect.signature(ours) == inspect.signature(std)
    assert ours.__doc__ == std.__doc__


def test_extend_takes_what_the_standard_extend_takes():
    # `extend` is a plain METH_O method (CPython's wording for a wrong call, not Argument
    # Clinic's); what it accepts and the exception types are the standard type's.
    import array

    for mod in (ftarray, array):
        a = mod.array("d", [1.0])
        a.extend(mod.array("d", [2.0]))
        a.extend([3.0])
        a.extend(x for x in (4.0,))
        assert list(a) == [1.0, 2.0, 3.0, 4.0]
        for bad in ((), ([1.0], [2.0])):
            with pytest.raises(TypeError, match="extend"):
                a.extend(*bad)
        with pytest.raises(TypeError):
            a.extend(bb=[1.0])
        with pytest.raises(TypeError, match="not iterable"):
            a.extend(5)
        with pytest.raises(TypeError, match="can only extend with array of same kind"):
            a.extend(mod.array("i", [1]))
        assert list(a) == [1.0, 2.0, 3.0, 4.0]


def test_pop_takes_what_the_standard_pop_takes():
    import array

    for mod in (ftarray, array):
        a = mod.array("d", [1, 2, 3, 4])
        assert (a.pop(), a.pop(0), a.pop(-1), list(a)) == (4.0, 1.0, 3.0, [2.0])
        with pytest.raises(TypeError, match="pop expected at most 1 argument, got 2"):
            a.pop(0, 1)
        with pytest.raises(TypeError, match="cannot be interpreted as an integer"):
            a.pop("0")
        with pytest.raises(IndexError, match="pop index out of range"):
            a.pop(5)
        a.pop()
        with pytest.raises(IndexError, match="pop from empty array"):
            a.pop()
        with pytest.raises(TypeError):
            a.pop(i=0)


def test_iteration_follows_the_array_through_growth_clear_and_refill():
    # On GIL builds the iterator holds the storage it last read (no epoch pin per `next`); it
    # must still see every change as the standard type's iterator does.
    import array

    def run(mod):
        a = mod.array("i", [0])
        grown = []
        for x in a:
            grown.append(x)
            if x < 300:
                a.append(x + 1)  # many reallocations while iterating
        b = mod.array("i", range(10))
        refilled = []
        for x in b:
            refilled.append(x)
            if x == 3:
                del b[:]
                b.extend(range(100, 110))
        c = mod.array("d", [1.0, 2.0, 3.0])
        it = iter(c)
        first = next(it)
        c[1] = 20.0  # in place, while the iterator holds the storage
        c.extend([4.0] * 1000)  # a new block; the held one is let go at the next `next`
        rest = list(it)
        return grown, refilled, first, rest[:3], len(rest)

    assert run(ftarray) == run(array)


def test_iteration_sees_every_write_made_between_steps():
    # On GIL builds one read serves several steps (a run, checked against the array's version
    # at each step); every write made between two steps must still show at the next one, as it
    # does with the standard type's iterator, which reads the buffer each time.
    import array

    def run(mod):
        seen = []
        a = mod.array("q", range(40))
        it = iter(a)
        seen.append(next(it))
        a[1] = 100  # the element the next step returns
        seen.append(next(it))
        a[5] = 500  # further into the same run
        a[17] = 1700  # the next run
        seen += [next(it) for _ in range(18)]
        del a[22:]  # shorter than the run that was read
        seen.append(list(it))
        b = mod.array("B", range(30))
        it = iter(b)
        seen.append(next(it))
        b.pop(0)  # elements move down under the iterator
        b.insert(3, 99)
        seen.append(next(it))
        b[:] = mod.array("B", [7] * 3)  # a new, shorter block
        seen.append(list(it))
        c = mod.array("w" if "w" in mod.typecodes else "u", "abcdef")
        it = iter(c)
        seen.append(next(it))
        c[1] = "z"
        seen.append("".join(it))
        return seen

    assert run(ftarray) == run(array)


def test_arrays_release_their_type_when_freed():
    """Every instance of a heap type owns a reference to it; freeing one releases it (PyO3 0.28
    did not: the type's count grew by one per array ever made). Subclasses, weak references
    and keyword calls go through the same paths."""
    import weakref

    class Sub(ftarray.array):
        pass

    def made(kind):
        a = kind("d", [1.0, 2.0])
        return [a, a[0:1], a + a, a * 2, a.__copy__(), kind("b")]

    for kind in (ftarray.array, Sub):
        made(kind)  # warm up caches that keep a reference
        before = sys.getrefcount(kind), sys.getrefcount(ftarray.array)
        for _ in range(200):
            made(kind)
        assert (sys.getrefcount(kind), sys.getrefcount(ftarray.array)) == before
    called = []
    a = Sub("i", [1, 2])
    a.note = "kept in the instance dict"
    r = weakref.ref(a, called.append)
    assert r() is a and a.note == "kept in the instance dict"
    del a
    assert r() is None and called == [r]
    with pytest.raises(TypeError, match="no keyword arguments"):
        ftarray.array("d", initializer=[1.0])


def test_array_is_a_sequence_for_pattern_matching():
    match ftarray.array("i", [1, 2]):
        case [x, y]:
            assert (x, y) == (1, 2)
        case _:
            pytest.fail("an array must match a sequence pattern, as the standard type does")


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


def test_the_package_ships_typing_that_covers_the_public_api():
    # maturin installs python/ftarray.pyi as the package's __init__.pyi, with a py.typed marker
    # (PEP 561); the stub names every public name of the module and every public method of the
    # array type.
    import ast
    import pathlib

    package = pathlib.Path(ftarray.__file__).parent
    assert (package / "py.typed").is_file()
    stub = ast.parse((package / "__init__.pyi").read_text())
    top = {n.name for n in stub.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    top |= {t.id for n in stub.body if isinstance(n, ast.Assign) for t in n.targets}
    top |= {n.target.id for n in stub.body if isinstance(n, ast.AnnAssign)}
    assert set(ftarray.__all__) <= top, set(ftarray.__all__) - top
    classes = {n.name: n for n in stub.body if isinstance(n, ast.ClassDef)}
    for name, cls in classes.items():
        typed = {f.name for f in cls.body if isinstance(f, ast.FunctionDef)}
        public = {m for m in vars(getattr(ftarray, name)) if not m.startswith("_")}
        assert public <= typed, (name, public - typed)
