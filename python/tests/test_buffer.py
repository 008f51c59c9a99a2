"""The buffer protocol: views of the array's own memory, and CPython's rule that a buffer
export forbids every resize (`BufferError`, nothing changed); numpy sees the same memory."""

from __future__ import annotations

import array as std
import gc
import operator
import warnings

import pytest

import ftarray

numpy = pytest.importorskip("numpy")

FORMATS = {c: c for c in "bBhHiIlLqQfd"}
with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    FORMATS["u"] = "w" if std.array("u").itemsize == 4 else "u"
if "w" in std.typecodes:
    FORMATS["w"] = "w"


def make(tc, items):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return ftarray.array(tc, items)


@pytest.mark.parametrize("tc", sorted(FORMATS))
def test_memoryview_describes_the_elements_as_the_standard_type_does(tc):
    items = "ab" if tc in "uw" else [1, 2]
    a = make(tc, items)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        s = std.array(tc, items)
    m, ms = memoryview(a), memoryview(s)
    for attr in ("format", "itemsize", "ndim", "shape", "strides", "readonly", "nbytes",
                 "c_contiguous", "contiguous"):
        assert getattr(m, attr) == getattr(ms, attr), attr
    assert m.tobytes() == a.tobytes()
    m.release()
    ms.release()


def test_a_view_is_the_array_memory_and_writes_show_both_ways():
    a = ftarray.array("i", [1, 2, 3])
    m = memoryview(a)
    m[0] = 10
    assert a[0] == 10
    a[1] = 20
    assert m[1] == 20
    a.reverse()  # same length: rewritten in place, visible through the view
    assert m.tolist() == [3, 20, 10]
    a.byteswap()
    a.byteswap()
    a[::2] = ftarray.array("i", [7, 8])
    assert m.tolist() == [7, 20, 8]
    address, length = a.buffer_info()
    assert length == 3
    m.release()


RESIZES = [
    ("append", lambda a: a.append(1)),
    ("extend", lambda a: a.extend([1])),
    ("extend_array", lambda a: a.extend(a)),
    ("insert", lambda a: a.insert(0, 1)),
    ("pop", lambda a: a.pop()),
    ("remove", lambda a: a.remove(a[0])),
    ("fromlist", lambda a: a.fromlist([1])),
    ("frombytes", lambda a: a.frombytes(b"\0" * a.itemsize)),
    ("iadd", lambda a: operator.iadd(a, a)),
    ("imul2", lambda a: operator.imul(a, 2)),
    ("imul0", lambda a: operator.imul(a, 0)),
    ("delitem", lambda a: operator.delitem(a, 0)),
    ("delslice", lambda a: operator.delitem(a, slice(0, 1))),
    ("delempty", lambda a: operator.delitem(a, slice(0, 0))),
    ("setslice_grow", lambda a: operator.setitem(a, slice(0, 1), ftarray.array("i", [1, 2]))),
    ("clear", lambda a: a.clear() if hasattr(std.array, "clear") else a.__delitem__(slice(None))),
]


@pytest.mark.parametrize("name,resize", RESIZES, ids=[n for n, _ in RESIZES])
def test_every_resize_while_exported_raises_buffererror_and_changes_nothing(name, resize):
    a = ftarray.array("i", [1, 2, 3])
    before = a.tobytes()
    with memoryview(a) as m:
        with pytest.raises(BufferError, match="cannot resize an array that is exporting buffers"):
            resize(a)
        assert a.tobytes() == before and m.tobytes() == before
    resize(a)  # released: the same call works


def test_same_length_slice_assignment_is_allowed_while_exported():
    a = ftarray.array("i", [1, 2, 3])
    with memoryview(a) as m:
        a[0:2] = ftarray.array("i", [8, 9])
        assert m.tolist() == [8, 9, 3]


def test_nested_and_sliced_views_count_as_exports_until_all_are_released():
    a = ftarray.array("d", [1.0, 2.0])
    m1 = memoryview(a)
    m2 = memoryview(a)[1:]
    m1.release()
    with pytest.raises(BufferError):
        a.append(3.0)
    m2.release()
    gc.collect()
    a.append(3.0)
    assert a.tolist() == [1.0, 2.0, 3.0]


def test_frombytes_of_its_own_view_behaves_as_the_standard_type():
    # Reading a buffer that may alias the array: the bytes are copied (with atomic loads)
    # before use, and the resize is refused because the argument's view is an export.
    for mod in (std, ftarray):
        a = mod.array("B", [1, 2])
        with pytest.raises(BufferError):
            a.frombytes(a)
        with pytest.raises(BufferError):
            a.frombytes(memoryview(a))
        b = mod.array("B", [9])
        b.frombytes(memoryview(a))
        assert b.tolist() == [9, 1, 2]


@pytest.mark.parametrize("tc", ["B", "H", "I", "Q", "d"])
def test_frombytes_of_any_slice_of_a_view_copies_exactly_those_bytes(tc):
    # A view of an ftarray.array is copied with whole 64-bit unit loads (the array's own
    # access size), taking only the bytes the view shows, at any offset in the unit.
    a = ftarray.array(tc, range(1, 12))
    raw = a.tobytes()
    with memoryview(a) as m, m.cast("B") as whole:
        for start in range(0, 17):
            for stop in range(start, min(start + 19, len(raw)) + 1):
                with whole[start:stop] as part:
                    b = ftarray.array("B")
                    b.frombytes(part)
                    assert b.tobytes() == raw[start:stop], (start, stop)
                    if start % a.itemsize == 0 and (stop - start) % a.itemsize == 0:
                        c = ftarray.array(tc)
                        c.frombytes(part)
                        assert c.tobytes() == raw[start:stop], (start, stop)
    a.append(1)  # every view was released


def test_numpy_frombuffer_is_a_zero_copy_view():
    a = ftarray.array("d", [0.5, 1.5, 2.5])
    n = numpy.frombuffer(a, dtype=numpy.float64)
    assert n.ctypes.data == a.buffer_info()[0]
    assert n.flags.writeable
    n[0] = 9.0
    assert a[0] == 9.0
    a[2] = -1.0
    assert n[2] == -1.0
    with pytest.raises(BufferError):
        a.append(1.0)
    assert a.tolist() == [9.0, 1.5, -1.0]
    del n
    gc.collect()
    a.append(1.0)
    assert len(a) == 4


@pytest.mark.parametrize("tc", "bBhHiIlLqQfd")
def test_numpy_asarray_sees_the_right_dtype_without_copying(tc):
    a = ftarray.array(tc, [1, 2, 3])
    n = numpy.asarray(a)
    assert n.dtype.itemsize == a.itemsize
    assert n.tolist() == a.tolist()
    assert n.ctypes.data == a.buffer_info()[0]
    n[1] = 7
    assert a[1] == 7
    del n
    gc.collect()
