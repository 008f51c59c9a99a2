"""ftarray's .npy files against numpy's, in both directions.

Usage: python tests/npy_interop.py PATH/TO/npy_tool   (run by scripts/npy_interop.sh)

For every element type, both byte orders, shapes (), (0,), (1,) and (1000,), and format
versions 1.0, 2.0 and 3.0, numpy writes a file, ftarray loads it (picking the type from the
header) and saves it again, and then:

* numpy loads ftarray's file: same values bit for bit (NaN payloads included), native byte
  order, shape (n,);
* ftarray's file is byte for byte the file numpy.save writes for the same 1-D native array.

Files numpy writes that ftarray refuses by design (2-D, Fortran order, other dtypes) are
checked to be refused with a message. Prints a matrix and ends with "N passed, M failed".
"""

import io
import os
import subprocess
import sys
import tempfile

import numpy as np

TYPES = ["i1", "u1", "i2", "u2", "i4", "u4", "i8", "u8", "f4", "f8"]
SHAPES = [(), (0,), (1,), (1000,)]
VERSIONS = [(1, 0), (2, 0), (3, 0)]
NATIVE = "<" if sys.byteorder == "little" else ">"


def values(code, shape, rng):
    """Values of dtype `code` (native order) from random bit patterns, extremes first."""
    dt = np.dtype(NATIVE + code)
    n = int(np.prod(shape)) if shape else 1
    raw = rng.integers(0, 256, size=n * dt.itemsize, dtype=np.uint8)
    if n >= 3:
        raw[: dt.itemsize] = 0
        raw[dt.itemsize : 2 * dt.itemsize] = 0xFF
    return raw.view(dt).reshape(shape)


def bits(a):
    """The elements' bytes in native order, for bitwise comparison."""
    native = a.astype(a.dtype.newbyteorder("="), copy=False)
    return np.ascontiguousarray(native).tobytes()


def numpy_save_bytes(a):
    buf = io.BytesIO()
    np.save(buf, a)
    return buf.getvalue()


def run_tool(tool, *args):
    p = subprocess.run([tool, *args], capture_output=True, text=True)
    return p.returncode, p.stdout.strip()


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    tool = sys.argv[1]
    rng = np.random.default_rng(20240611)
    passed = failed = 0
    matrix = {}
    with tempfile.TemporaryDirectory() as d:
        src = os.path.join(d, "numpy.npy")
        out = os.path.join(d, "ftarray.npy")
        for code in TYPES:
            orders = ["|"] if code[1] == "1" else ["<", ">"]
            for order in orders:
                cell = []
                for shape in SHAPES:
                    for version in VERSIONS:
                        if version != (1, 0) and shape != (1000,):
                            continue
                        a = values(code, shape, rng)
                        ordered = a.astype(np.dtype(order + code))
                        with open(src, "wb") as f:
                            np.lib.format.write_array(f, ordered, version=version)
                        what = f"{order}{code} shape={shape} v{version[0]}.{version[1]}"
                        problems = []
                        rc, said = run_tool(tool, "roundtrip", src, out)
                        if rc != 0:
                            problems.append(f"ftarray refused numpy's file: {said}")
                        else:
                            n = a.size
                            native_descr = np.dtype(NATIVE + code).str
                            if said != f"{native_descr} {n}":
                                problems.append(f"tool said {said!r}")
                            b = np.load(out)
                            if b.dtype.str != native_descr:
                                problems.append(f"numpy loaded dtype {b.dtype.str}")
                            if b.shape != (n,):
                                problems.append(f"numpy loaded shape {b.shape}")
                            if bits(b) != bits(a):
                                problems.append("values differ")
                            with open(out, "rb") as f:
                                ours = f.read()
                            theirs = numpy_save_bytes(a.reshape(-1))
                            if ours != theirs:
                                problems.append(
                                    f"file differs from numpy.save's ({len(ours)} vs "
                                    f"{len(theirs)} bytes; headers {ours[:128]!r} vs "
                                    f"{theirs[:128]!r})"
                                )
                        if problems:
                            failed += 1
                            cell.append("FAIL")
                            print(f"FAIL {what}: {'; '.join(problems)}")
                        else:
                            passed += 1
                            cell.append("ok")
                matrix[(code, order)] = "ok" if all(c == "ok" for c in cell) else "FAIL"

        print(f"numpy {np.__version__}, {sys.byteorder}-endian host")
        print("numpy.save (1.0; 2.0 and 3.0 for shape (1000,)) -> ftarray load + save "
              "-> numpy.load, and ftarray's file == numpy.save's:")
        print(f"  {'dtype':<8} {'|':<6} {'<':<6} {'>':<6}")
        for code in TYPES:
            row = [matrix.get((code, o), "-") for o in ["|", "<", ">"]]
            print(f"  {np.dtype(code).name:<8} {row[0]:<6} {row[1]:<6} {row[2]:<6}")

        # Files numpy writes that ftarray refuses by design.
        refused = [
            ("2-D", np.zeros((2, 3), dtype="<f8")),
            ("Fortran order", np.asfortranarray(np.zeros((2, 3), dtype="<f8"))),
            ("complex128", np.zeros(3, dtype="<c16")),
            ("bool", np.zeros(3, dtype="?")),
            ("float16", np.zeros(3, dtype="<f2")),
            ("structured", np.zeros(3, dtype=[("x", "<f8")])),
            ("unicode", np.array(["ab"])),
        ]
        print("numpy files ftarray refuses:")
        for name, a in refused:
            np.save(src, a)
            rc, said = run_tool(tool, "describe", src)
            if rc == 1 and said.startswith("error: "):
                passed += 1
                print(f"  {name}: {said[len('error: '):]}")
            else:
                failed += 1
                print(f"FAIL {name}: exit {rc}, {said!r}")

    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
