"""ftarray.save / ftarray.load: atomic .npy files, checked against numpy in both directions."""
import array as std_array
import os
import pathlib
import sys
import threading

import pytest

import ftarray

np = pytest.importorskip("numpy")

NUMERIC = "bBhHiIlLqQfd"
DTYPES = {
    "b": "i1", "B": "u1", "h": "i2", "H": "u2", "i": "i4", "I": "u4",
    "q": "i8", "Q": "u8", "f": "f4", "d": "f8",
}


def dtype_of(code):
    if code in "lL":
        size = std_array.array(code).itemsize
        return ("i" if code == "l" else "u") + str(size)
    return DTYPES[code]


def sample(code):
    if code in "fd":
        return [0.0, -1.5, 2.25, float("inf"), 1e30 if code == "d" else 3.0]
    lo, hi = (0, 2 ** (8 * std_array.array(code).itemsize) - 1)
    if code.islower():
        half = 2 ** (8 * std_array.array(code).itemsize - 1)
        lo, hi = -half, half - 1
    return [lo, hi, 0, 1, 7]


@pytest.mark.parametrize("code", NUMERIC)
def test_round_trip_and_numpy_reads_it(tmp_path, code):
    a = ftarray.array(code, sample(code))
    path = tmp_path / f"{code}.npy"
    ftarray.save(path, a)
    b = ftarray.load(path)
    assert b.tolist() == a.tolist()
    assert b.itemsize == a.itemsize
    # 'l'/'L' come back as the fixed-size code of the same size.
    expected_code = {"l": "q" if a.itemsize == 8 else "i", "L": "Q" if a.itemsize == 8 else "I"}
    assert b.typecode == expected_code.get(code, code)
    n = np.load(path)
    assert n.dtype == np.dtype(dtype_of(code))
    assert n.tolist() == a.tolist()
    # Byte for byte what numpy.save writes for the same array.
    ref = tmp_path / "ref.npy"
    np.save(ref, np.array(a.tolist(), dtype=dtype_of(code)))
    assert path.read_bytes() == ref.read_bytes()


@pytest.mark.parametrize("order", "<>")
@pytest.mark.parametrize("kind", ["i1", "u1", "i2", "u2", "i4", "u4", "i8", "u8", "f4", "f8"])
def test_loads_what_numpy_saves(tmp_path, order, kind):
    dt = np.dtype(order + kind)
    values = np.arange(-3, 5).astype(dt) if kind[0] != "u" else np.arange(0, 8).astype(dt)
    path = tmp_path / "n.npy"
    np.save(path, values)
    a = ftarray.load(str(path))
    assert a.tolist() == values.tolist()
    assert a.itemsize == dt.itemsize


def test_paths_may_be_str_bytes_or_pathlike(tmp_path):
    a = ftarray.array("d", [1.0, 2.0])
    for p in (str(tmp_path / "s.npy"), os.fsencode(tmp_path / "b.npy"), tmp_path / "p.npy"):
        ftarray.save(p, a)
        assert ftarray.load(p) == a
    with pytest.raises(TypeError):
        ftarray.save(42, a)
    with pytest.raises(TypeError, match="must be ftarray.array"):
        ftarray.save(tmp_path / "x.npy", std_array.array("d", [1.0]))


def test_os_errors_are_oserror_subclasses(tmp_path):
    with pytest.raises(FileNotFoundError) as e:
        ftarray.load(tmp_path / "missing.npy")
    assert "missing.npy" in str(e.value)
    with pytest.raises(FileNotFoundError):
        ftarray.save(tmp_path / "no-such-dir" / "x.npy", ftarray.array("b", [1]))
    assert not (tmp_path / "no-such-dir").exists()


def test_bad_files_are_value_errors_with_the_loaders_message(tmp_path):
    cases = {
        "magic": (b"PK\x03\x04 a zip file", "not a .npy file"),
        "empty": (b"", "the file is empty"),
    }
    for name, (data, msg) in cases.items():
        p = tmp_path / f"{name}.npy"
        p.write_bytes(data)
        with pytest.raises(ValueError, match=msg):
            ftarray.load(p)
    p = tmp_path / "two_d.npy"
    np.save(p, np.zeros((2, 3)))
    with pytest.raises(ValueError, match="1-D"):
        ftarray.load(p)
    p = tmp_path / "complex.npy"
    np.save(p, np.zeros(3, dtype=complex))
    with pytest.raises(ValueError, match="unsupported dtype"):
        ftarray.load(p)
    p = tmp_path / "cut.npy"
    np.save(p, np.arange(10, dtype="<f8"))
    p.write_bytes(p.read_bytes()[:-5])
    with pytest.raises(ValueError, match="truncated data: the header claims 80 bytes of data but the file has 75"):
        ftarray.load(p)


@pytest.mark.parametrize("code", ["u", "w"] if sys.version_info >= (3, 13) else ["u"])
def test_character_arrays_are_refused_and_the_target_kept(tmp_path, code):
    import warnings

    path = tmp_path / "keep.npy"
    ftarray.save(path, ftarray.array("b", [1, 2]))
    before = path.read_bytes()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        chars = ftarray.array(code, "ab")
    with pytest.raises(ValueError, match="cannot be saved"):
        ftarray.save(path, chars)
    assert path.read_bytes() == before


def test_each_save_is_one_snapshot_while_other_threads_write(tmp_path):
    """Writers replace the whole array with n copies of k (one slice assignment each); every
    saved file must hold one such state, never a mix of two."""
    a = ftarray.array("q", [0] * 4096)
    stop = threading.Event()

    def writer(base):
        k = base
        while not stop.is_set():
            a[:] = ftarray.array("q", [k] * (4096 + k % 7))
            k += 2

    threads = [threading.Thread(target=writer, args=(b,)) for b in (1, 2)]
    for t in threads:
        t.start()
    try:
        path = tmp_path / "snap.npy"
        for _ in range(40):
            ftarray.save(path, a)
            values = np.load(path)
            assert len(set(values.tolist())) == 1, "a file mixed two states"
            k = int(values[0])
            assert len(values) == (4096 if k == 0 else 4096 + k % 7)
    finally:
        stop.set()
        for t in threads:
            t.join()
