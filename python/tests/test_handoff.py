"""Hand-offs to the numeric ecosystem: snapshots, the Arrow PyCapsule interface, DLPack and
out-of-band pickles (protocol 5).

Each hand-off gives a consumer one instant of the array, without copying it, while the array
stays writable and resizable: the tests check the values, that no copy was made (the consumer
reads the snapshot's own memory: same address), and that the consumer's data does not change
while threads keep writing the array.
"""

import array as std
import collections
import gc
import os
import pickle
import subprocess
import sys
import sysconfig
import threading
import time

import numpy as np
import pytest

import ftarray

FREE_THREADED = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))
STRESS_SECONDS = float(os.environ.get("FTARRAY_STRESS_SECONDS", "1"))
NUMERIC = [c for c in "bBhHiIlLqQfd"]


def values_for(tc, n=5):
    if tc in "fd":
        return [i + 0.5 for i in range(n)]
    if tc in "uw":
        return [chr(ord("a") + i % 26) for i in range(n)]
    return [i % 100 for i in range(n)]


def consumer(name):
    """The consumer module, or a skip that says why it is missing on this interpreter."""
    try:
        return pytest.importorskip(name)
    except pytest.skip.Exception as e:  # pragma: no cover - depends on the venv
        pytest.skip(f"{name} is not installed for this interpreter (no wheel for "
                    f"{sysconfig.get_config_var('SOABI')}?): {e}")


def capsule_name(capsule):
    # `<capsule object "arrow_schema" at 0x...>`
    return repr(capsule).split('"')[1]


class Writer:
    """Two threads that keep writing `a` with changes that each take effect at one instant and
    keep every element equal: one rewrites it whole with one value after another
    (`a[:] = [k] * n`), the other doubles it (`a.extend(a)`), cuts it back and reverses it. So
    at every instant every element of `a` is the same, and a consumer that got one instant sees
    one value only."""

    def __init__(self, a, n):
        self.a, self.n, self.stop = a, n, threading.Event()
        self.threads = [threading.Thread(target=self.rewrite),
                        threading.Thread(target=self.resize)]
        self.writes = 0

    def rewrite(self):
        k = 0
        while not self.stop.is_set():
            k += 1
            self.a[:] = ftarray.array(self.a.typecode, [k % 100] * self.n)
            self.writes += 1

    def resize(self):
        while not self.stop.is_set():
            self.a.extend(self.a)
            del self.a[self.n:]
            self.a.reverse()

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join()


def one_instant(values):
    """All elements equal: the values of one instant under `Writer`."""
    return len(set(values)) <= 1


# ---------------------------------------------------------------------------------------------
# Snapshots


@pytest.mark.parametrize("tc", NUMERIC + ["u"])
def test_snapshot_is_one_instant_with_a_read_only_buffer(tc):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        a = ftarray.array(tc, values_for(tc))
    s = a.snapshot()
    assert type(s) is ftarray.Snapshot
    assert (len(s), s.typecode, s.itemsize) == (len(a), a.typecode, a.itemsize)
    assert s.tolist() == a.tolist() and s.tobytes() == a.tobytes()
    assert s == a and s == a.tolist() and s == tuple(a.tolist()) and a.tolist() == s.tolist()
    assert s != a.tolist()[:-1] and not (s == a.tolist()[:-1])
    assert [s[i] for i in range(len(s))] == a.tolist() and s[-1] == a[-1]
    with pytest.raises(IndexError, match="array index out of range"):
        s[len(s)]
    m = memoryview(s)
    assert m.readonly and m.format == memoryview(a).format and m.itemsize == a.itemsize
    assert m.tobytes() == a.tobytes()
    with pytest.raises(TypeError, match="read-only"):
        m.cast("B")[0] = 0
    # Writers and resizes go on while the snapshot and a view of it live.
    first = s.tolist()
    a.reverse()
    a.append(a[0])
    a.extend(a)
    a.clear()
    assert s.tolist() == first and m.tobytes() == s.tobytes()
    m.release()


def test_snapshot_has_no_array_dunder_and_compares_with_sequences():
    assert not hasattr(ftarray.Snapshot, "__array__")
    a = ftarray.array("d", [1.0, 2.0])
    s = a.snapshot()
    assert s == std.array("d", [1.0, 2.0]) and s == a.snapshot() and s == [1, 2]
    assert s != [1, 2, 3] and (s == "ab") is False and s != {1: 2}
    assert repr(s) == "ftarray.Snapshot('d', [1.0, 2.0])"
    x = np.asarray(s)  # through the buffer protocol: zero-copy and read-only
    assert not x.flags.writeable and x.tolist() == [1.0, 2.0]
    assert x.ctypes.data == s.buffer_info()[0]
    with pytest.raises(TypeError):
        pickle.dumps(s)


def test_snapshots_share_the_block_until_a_write():
    a = ftarray.array("i", range(1000))
    s, t = a.snapshot(), a.snapshot()
    assert s.buffer_info() == t.buffer_info() == (s.buffer_info()[0], 1000)
    a[0] = -1  # copy on write: the array moves, the snapshots stay
    u = a.snapshot()
    assert u.buffer_info()[0] != s.buffer_info()[0]
    assert s[0] == 0 and u[0] == -1


def test_snapshots_are_one_instant_while_threads_write():
    a = ftarray.array("q", [0] * 4096)
    deadline = time.monotonic() + STRESS_SECONDS
    kept = collections.deque(maxlen=256)  # the last ones: each may hold a block of its own
    with Writer(a, 4096) as w:
        while time.monotonic() < deadline:
            s = a.snapshot()
            values = s.tolist()
            assert one_instant(values), values[:8]
            kept.append((s, values))
    assert w.writes > 0
    for s, values in kept:
        assert s.tolist() == values


# ---------------------------------------------------------------------------------------------
# Arrow


ARROW_TYPES = {"b": "int8", "B": "uint8", "h": "int16", "H": "uint16", "i": "int32",
               "I": "uint32", "l": "int64", "L": "uint64", "q": "int64", "Q": "uint64",
               "f": "float", "d": "double"}


@pytest.mark.parametrize("tc", NUMERIC)
def test_pyarrow_reads_the_array_without_a_copy(tc):
    pa = consumer("pyarrow")
    a = ftarray.array(tc, values_for(tc, 100))
    s = a.snapshot()
    arr = pa.array(a)
    assert str(arr.type) == ARROW_TYPES[tc] and arr.null_count == 0
    assert arr.to_pylist() == a.tolist()
    # Zero copy: the Arrow data buffer is the snapshot's memory (the array's block, shared).
    assert arr.buffers()[1].address == s.buffer_info()[0]
    from_snapshot = pa.array(s)
    assert from_snapshot.buffers()[1].address == s.buffer_info()[0]
    # The array stays writable and resizable; Arrow's data does not change.
    a[0] = a[1]
    a.append(a[0])
    a.clear()
    assert arr.to_pylist() == s.tolist() == from_snapshot.to_pylist()


def test_arrow_capsules_are_named_and_freed_unconsumed():
    a = ftarray.array("H", [1, 2, 3])
    schema = a.__arrow_c_schema__()
    pair = a.__arrow_c_array__()
    assert capsule_name(schema) == "arrow_schema"
    assert [capsule_name(c) for c in pair] == ["arrow_schema", "arrow_array"]
    assert capsule_name(a.__arrow_c_array__(requested_schema=schema)[1]) == "arrow_array"
    del schema, pair  # destructors release the structs nobody moved out
    gc.collect()
    a.append(4)
    assert a.tolist() == [1, 2, 3, 4]


def test_pyarrow_data_stays_one_instant_while_threads_write():
    pa = consumer("pyarrow")
    a = ftarray.array("q", [0] * 4096)
    deadline = time.monotonic() + STRESS_SECONDS
    kept = collections.deque(maxlen=256)  # the last ones: each may hold a block of its own
    with Writer(a, 4096) as w:
        while time.monotonic() < deadline:
            arr = pa.array(a)
            values = arr.to_pylist()
            assert one_instant(values), values[:8]
            kept.append((arr, values))
    assert w.writes > 0
    for arr, values in kept:
        assert arr.to_pylist() == values


@pytest.mark.parametrize("tc", ["b", "H", "i", "Q", "f", "d"])
def test_polars_reads_a_snapshot_without_a_copy(tc):
    pl = consumer("polars")
    a = ftarray.array(tc, values_for(tc, 100))
    s = a.snapshot()
    series = pl.Series(s)  # the Arrow PyCapsule interface
    assert series.to_list() == a.tolist()
    address, offset, length = series._get_buffer_info()
    assert (address + offset * a.itemsize, length) == s.buffer_info()
    a.append(a[0])
    a.clear()
    assert series.to_list() == s.tolist()


def test_polars_series_of_the_array_itself_takes_its_sequence_path():
    # polars checks `isinstance(values, Sequence)` before the Arrow interface, and an
    # ftarray.array is a registered MutableSequence (as the standard array is): it reads it
    # element by element, a copy (and, while threads write, not one instant). The README says
    # to hand it `a.snapshot()`.
    pl = consumer("polars")
    a = ftarray.array("i", range(10))
    series = pl.Series(a)
    assert series.to_list() == a.tolist()
    assert series._get_buffer_info()[0] != a.snapshot().buffer_info()[0]


def test_polars_data_stays_one_instant_while_threads_write():
    pl = consumer("polars")
    a = ftarray.array("d", [0.0] * 4096)
    deadline = time.monotonic() + STRESS_SECONDS
    kept = collections.deque(maxlen=256)  # the last ones: each may hold a block of its own
    with Writer(a, 4096) as w:
        while time.monotonic() < deadline:
            series = pl.Series(a.snapshot())
            values = series.to_list()
            assert one_instant(values), values[:8]
            kept.append((series, values))
    assert w.writes > 0
    for series, values in kept:
        assert series.to_list() == values


# ---------------------------------------------------------------------------------------------
# DLPack


@pytest.mark.parametrize("tc", NUMERIC)
def test_numpy_from_dlpack_is_a_read_only_view_of_a_snapshot(tc):
    a = ftarray.array(tc, values_for(tc, 50))
    s = a.snapshot()
    x = np.from_dlpack(a)
    assert x.dtype == np.dtype(tc) and x.shape == (50,)
    assert x.tolist() == a.tolist()
    assert not x.flags.writeable  # DLPack 1.x, flagged read-only
    assert x.ctypes.data == s.buffer_info()[0]  # zero copy
    with pytest.raises(ValueError):
        x[0] = x[1]
    # The array stays writable and resizable while the ndarray lives; the ndarray never changes.
    a[0] = a[1]
    a.append(a[0])
    a.clear()
    a.extend(ftarray.array(tc, values_for(tc, 3)))
    assert x.tolist() == s.tolist()
    y = np.from_dlpack(s)
    assert y.ctypes.data == s.buffer_info()[0] and not y.flags.writeable


def test_dlpack_copy_device_and_stream():
    a = ftarray.array("d", [1.5, 2.5])
    assert a.__dlpack_device__() == (1, 0) and a.snapshot().__dlpack_device__() == (1, 0)
    c = np.from_dlpack(a, copy=True)
    assert c.flags.writeable and c.tolist() == [1.5, 2.5]
    assert c.ctypes.data != a.snapshot().buffer_info()[0]
    c[0] = 9.0
    assert a[0] == 1.5
    assert capsule_name(a.__dlpack__(max_version=(1, 0))) == "dltensor_versioned"
    assert capsule_name(a.__dlpack__()) == "dltensor"
    with pytest.raises(BufferError):
        a.__dlpack__(stream=1)
    with pytest.raises(BufferError):
        a.__dlpack__(max_version=(1, 0), dl_device=(2, 0))
    assert capsule_name(a.__dlpack__(max_version=(1, 0), dl_device=(1, 0))) == "dltensor_versioned"
    # A consumer older than DLPack 1.0 has no read-only flag: it gets a copy, never our memory.
    with pytest.raises(BufferError, match="copy"):
        a.__dlpack__(copy=False)
    unconsumed = [a.__dlpack__(), a.__dlpack__(max_version=(1, 0)),
                  a.__dlpack__(max_version=(1, 0), copy=True)]
    del unconsumed  # the capsule destructors call the deleters
    gc.collect()


class LegacyConsumerView:
    """An object whose `__dlpack__` speaks DLPack 0.x only (no keyword arguments), as an old
    producer wrapping an ftarray would: numpy retries without them and gets a legacy capsule."""

    def __init__(self, a):
        self.a = a

    def __dlpack__(self, stream=None):
        return self.a.__dlpack__(stream=stream)

    def __dlpack_device__(self):
        return self.a.__dlpack_device__()


def test_a_legacy_dlpack_consumer_gets_a_copy_it_may_write():
    a = ftarray.array("i", [1, 2, 3])
    x = np.from_dlpack(LegacyConsumerView(a))
    assert x.tolist() == [1, 2, 3]
    assert x.ctypes.data != a.snapshot().buffer_info()[0]
    if x.flags.writeable:
        x[0] = 100
    assert a.tolist() == [1, 2, 3] and a.snapshot().tolist() == [1, 2, 3]


def test_dlpack_data_stays_one_instant_while_threads_write():
    a = ftarray.array("q", [0] * 4096)
    deadline = time.monotonic() + STRESS_SECONDS
    kept = collections.deque(maxlen=256)  # the last ones: each may hold a block of its own
    with Writer(a, 4096) as w:
        while time.monotonic() < deadline:
            x = np.from_dlpack(a)
            values = x.tolist()
            assert one_instant(values), values[:8]
            kept.append((x, values))
    assert w.writes > 0
    for x, values in kept:
        assert x.tolist() == values


# ---------------------------------------------------------------------------------------------
# Pickle protocol 5


class Sub(ftarray.array):
    pass


@pytest.mark.parametrize("tc", NUMERIC + ["w"] if sys.version_info >= (3, 13) else NUMERIC)
def test_out_of_band_pickle_copies_nothing_and_loads_back(tc):
    a = ftarray.array(tc, values_for(tc, 1000))
    address = a.snapshot().buffer_info()[0]
    buffers = []
    data = pickle.dumps(a, protocol=5, buffer_callback=buffers.append)
    assert len(buffers) == 1 and len(data) < 200
    raw = buffers[0].raw()
    assert raw.readonly and raw.nbytes == len(a) * a.itemsize
    assert np.frombuffer(raw, dtype=np.uint8).ctypes.data == address  # the array's own block
    a.append(a[0])  # the array stays writable and resizable
    b = pickle.loads(data, buffers=buffers)
    assert type(b) is ftarray.array and b.tolist() == a.tolist()[:-1]
    b.append(b[0])
    # Any buffer object loads back: a memoryview, a bytearray.
    assert pickle.loads(data, buffers=[memoryview(bytearray(raw))]).tolist() == b.tolist()[:-1]
    raw.release()


def test_pickle_protocol_5_keeps_subclasses_state_and_in_band_bytes():
    a = Sub("d", [1.5, 2.5])
    a.tag = "x"
    buffers = []
    b = pickle.loads(pickle.dumps(a, 5, buffer_callback=buffers.append), buffers=buffers)
    assert type(b) is Sub and b.tag == "x" and b == a
    # In band (no callback): the buffer is written as bytes, and loads needs no buffers.
    c = pickle.loads(pickle.dumps(a, 5))
    assert type(c) is Sub and c == a
    # Protocols 0-4 are as they were: a list below 3, bytes from 3 on.
    for proto in range(5):
        args = a.__reduce_ex__(proto)[1]
        assert type(args[1] if proto < 3 else args[3]) is (list if proto < 3 else bytes)
    assert type(a.__reduce_ex__(5)[1][3]) is pickle.PickleBuffer


def test_pickle_protocol_5_in_band_loads_into_the_standard_module():
    class ToStd(pickle.Unpickler):
        def find_class(self, module, name):
            if module.startswith("ftarray"):
                return getattr(std, name)
            return super().find_class(module, name)

    import io

    data = pickle.dumps(ftarray.array("i", [1, -2, 3]), protocol=5)
    b = ToStd(io.BytesIO(data)).load()
    assert type(b) is std.array and b.tolist() == [1, -2, 3]
    # A standard array's protocol-5 pickle (bytes) loads into ftarray as before.
    class ToFt(pickle.Unpickler):
        def find_class(self, module, name):
            if module == "array":
                return getattr(ftarray, name)
            return super().find_class(module, name)

    c = ToFt(io.BytesIO(pickle.dumps(std.array("i", [4, 5]), 5))).load()
    assert type(c) is ftarray.array and c.tolist() == [4, 5]


SHARED_MEMORY_CHILD = """
import pickle, sys
from multiprocessing import shared_memory
import ftarray
name, n = sys.argv[1], int(sys.argv[2])
data = sys.stdin.buffer.read()
shm = shared_memory.SharedMemory(name=name)
# An attaching process registers the segment with its own resource tracker, which would unlink
# it at exit; the creator unlinks it.
from multiprocessing import resource_tracker
resource_tracker.unregister(shm._name, "shared_memory")
view = shm.buf[:n]
a = pickle.loads(data, buffers=[view])
view.release()
shm.close()  # fails if the loaded array still held the shared memory's buffer
print(type(a).__name__, a.typecode, sum(a), len(a), flush=True)
"""


def test_out_of_band_pickle_through_shared_memory_to_another_process():
    from multiprocessing import shared_memory

    a = ftarray.array("q", range(100_000))
    buffers = []
    data = pickle.dumps(a, protocol=5, buffer_callback=buffers.append)
    with buffers[0].raw() as raw:
        n = raw.nbytes
        shm = shared_memory.SharedMemory(create=True, size=n)
        try:
            shm.buf[:n] = raw  # the one copy: into memory the other process maps
            a.clear()  # the sender's array goes on
            out = subprocess.run([sys.executable, "-c", SHARED_MEMORY_CHILD, shm.name, str(n)],
                                 input=data, capture_output=True, timeout=120)
        finally:
            shm.close()
            shm.unlink()
    assert out.returncode == 0, out.stderr.decode()[-2000:]
    assert out.stdout.decode().split() == ["array", "q", str(sum(range(100_000))), "100000"]


def test_out_of_band_pickles_are_one_instant_while_threads_write():
    a = ftarray.array("q", [0] * 4096)
    deadline = time.monotonic() + STRESS_SECONDS
    kept = collections.deque(maxlen=256)  # the last ones: each may hold a block of its own
    with Writer(a, 4096) as w:
        while time.monotonic() < deadline:
            buffers = []
            data = pickle.dumps(a, protocol=5, buffer_callback=buffers.append)
            values = pickle.loads(data, buffers=buffers).tolist()
            assert one_instant(values), values[:8]
            kept.append((buffers[0], values))
    assert w.writes > 0
    for buffer, values in kept:
        assert np.frombuffer(buffer, dtype=np.int64).tolist() == values


def test_in_band_protocol_5_pickles_are_the_bytes_they_were():
    # Without a buffer_callback the pickler writes the PickleBuffer in band as bytes, with the
    # same opcodes and memo as the bytes object protocol 5 had before (both picklers).
    import copyreg
    import io

    a = ftarray.array("h", [1, -2, 3])
    reduced_with_bytes = a.__reduce_ex__(5)
    fn, args, state = reduced_with_bytes
    before = (fn, (*args[:3], bytes(args[3])), state)
    for pickler in (pickle.Pickler, pickle._Pickler):
        now, then = io.BytesIO(), io.BytesIO()
        pickler(now, 5).dump(a)
        p = pickler(then, 5)
        p.dispatch_table = copyreg.dispatch_table.copy()
        p.dispatch_table[ftarray.array] = lambda x: before
        p.dump(a)
        assert now.getvalue() == then.getvalue()
