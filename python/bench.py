"""Time ftarray.array against the standard array.array on the interpreter running this script.

Single-threaded operations (issue 22's list), each timed timeit-style: many calls per
measurement, the best of several measurements, the two modules measured alternately so that a
busy moment of the machine hits both alike. Every row prints the time ratio ftarray/standard;
the target is at most 1.05x (for bulk rows, at least 0.95x the standard type's throughput,
the same bound).

* per call: ``a[i]``, ``a[i] = v``, ``len``, ``append`` + ``pop``, the empty constructor, a copy
  of a 10-element array, slices of 10 and 100 elements, ``a + a`` and ``a * 2`` of 1k elements,
  ``pickle.dumps`` of 1k, ``in``/``count``/``index``, ``==`` and ``<`` of two 1k arrays;
* bulk: iterating over 1k elements, ``sum`` of 1k, ``extend`` by a list and by an array of 1k,
  an 800 KB slice (100k doubles), ``tobytes`` of 8 MB, ``frombytes`` of 8 MB, ``pickle.loads``
  of 8 MB.

On a free-threaded interpreter (3.13t) also: N reader threads (``a[i]``, N = 1, 2, 3) and 1
writer thread (``a[i] = v``) on one shared array, ftarray with no lock against the standard
type guarded by a ``threading.Lock`` (what a careful user must do today, since the unguarded
standard type crashes); target: at least 5x the reads/s.

``--footprint`` measures memory per object instead: 100k empty arrays and 100k arrays of three
doubles, each kind in its own child process (so that no allocator reuses another kind's freed
memory), RSS growth per object and ``sys.getsizeof``; target: an empty array at most 2x the
standard type's RSS.

Usage::

    python python/bench.py               # everything, a few minutes
    python python/bench.py --quick       # fewer repeats (a smoke run, noisy)
    python python/bench.py --only slice  # the rows whose name contains "slice"
    python python/bench.py --threads-only  # the N readers + 1 writer runs (3.13t)
    python python/bench.py --footprint
    python python/bench.py --json out.json

Ratios are only meaningful on a quiet machine: every number of one table comes from the same
run, so a slow moment affects both columns, but not always equally.
"""

from __future__ import annotations

import argparse
import array
import json
import os
import platform
import sys
import sysconfig
import threading
import time
import timeit

import ftarray

FREE_THREADED = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))


def interpreter() -> str:
    tag = "t" if FREE_THREADED else ""
    gil = getattr(sys, "_is_gil_enabled", lambda: True)()
    return f"CPython {sys.version.split()[0]}{tag} (GIL {'on' if gil else 'off'})"


# Setups: `mod` is the module under test.
A1K = "a = mod.array('d', range(1000)); b = mod.array('d', range(1000))"
BIG = "big = mod.array('d', range(1_000_000))"
DATA = "data = bytes(8_000_000)"
PICKLED = "import pickle; blob = pickle.dumps(mod.array('d', range(1_000_000)))"

# (name, kind, statement, setup, calls per measurement).
CASES = [
    ("a[i]", "call", "a[500]", A1K, 200_000),
    ("a[i] = v", "call", "a[500] = 1.5", A1K, 200_000),
    ("len", "call", "len(a)", A1K, 200_000),
    ("append", "call", "c.append(1.5)", "c = mod.array('d')", 200_000),
    ("append + pop", "call", "c.append(1.5); c.pop()", "c = mod.array('d')", 100_000),
    ("empty constructor", "call", "mod.array('d')", "", 100_000),
    ("copy of 10", "call", "copy(s)",
     "from copy import copy; s = mod.array('d', range(10))", 100_000),
    ("a[10:20]", "call", "a[10:20]", A1K, 100_000),
    ("a[100:200]", "call", "a[100:200]", A1K, 100_000),
    ("a + a (1k)", "call", "a + a", A1K, 50_000),
    ("a * 2 (1k)", "call", "a * 2", A1K, 50_000),
    ("pickle.dumps 1k", "call", "dumps(a)", A1K + "; from pickle import dumps", 20_000),
    ("x in a (absent, 1k)", "call", "-1.0 in a", A1K, 20_000),
    ("count (1k)", "call", "a.count(7.0)", A1K, 20_000),
    ("index (last of 1k)", "call", "a.index(999.0)", A1K, 20_000),
    ("a == b (1k)", "call", "a == b", A1K, 20_000),
    ("a < b (1k)", "call", "a < b", A1K, 20_000),
    ("iterate 1k", "bulk", "for x in a: pass", A1K, 2_000),
    ("sum(a) 1k", "bulk", "sum(a)", A1K, 2_000),
    ("extend(list 1k)", "bulk", "c.extend(items)",
     "c = mod.array('d'); items = [float(x) for x in range(1000)]", 1_000),
    ("extend(array 1k)", "bulk", "c.extend(a)", A1K + "; c = mod.array('d')", 200),
    ("slice 800 KB", "bulk", "big[1000:101000]", BIG, 200),
    ("tobytes 8 MB", "bulk", "big.tobytes()", BIG, 20),
    ("frombytes 8 MB", "bulk", "mod.array('d').frombytes(data)", DATA, 20),
    ("pickle.loads 8 MB", "bulk", "loads(blob)", PICKLED + "; from pickle import loads", 20),
]
TIME_TARGET = 1.05  # ftarray time / standard time, at most
BULK_TARGET = 0.95  # ftarray throughput / standard throughput, at least (time <= 1/0.95)
THREADS_TARGET = 5.0  # ftarray reads/s / locked standard reads/s, at least


def time_case(stmt: str, setup: str, number: int, repeat: int) -> tuple[float, float]:
    """Best time per call of `stmt`, for the standard module and for ftarray, alternating."""
    best = {array: float("inf"), ftarray: float("inf")}
    timers = {mod: timeit.Timer(stmt, setup, globals={"mod": mod}) for mod in best}
    for _ in range(repeat):
        for mod, timer in timers.items():
            best[mod] = min(best[mod], timer.timeit(number) / number)
    return best[array], best[ftarray]


def single_threaded(repeat: int, scale: float, only: str | None) -> list[dict]:
    rows = []
    for name, kind, stmt, setup, number in CASES:
        if only and only not in name:
            continue
        std_t, ft_t = time_case(stmt, setup, max(1, int(number * scale)), repeat)
        ratio = ft_t / std_t
        limit = TIME_TARGET if kind == "call" else 1 / BULK_TARGET
        rows.append({"op": name, "kind": kind, "std_s": std_t, "ftarray_s": ft_t,
                     "ratio": ratio, "met": ratio <= limit})
    return rows


def fmt_time(seconds: float) -> str:
    for unit, scale in (("s", 1), ("ms", 1e-3), ("us", 1e-6), ("ns", 1e-9)):
        if seconds >= scale:
            return f"{seconds / scale:.1f} {unit}"
    return f"{seconds / 1e-9:.2f} ns"


def print_table(headers: list[str], rows: list[list[str]]) -> None:
    if not rows:
        print("(no rows: nothing matched --only)")
        return
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths)))
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)))


def threaded(seconds: float, readers: int, writers: int = 1) -> dict:
    """Reads/s and writes/s of `readers` + `writers` threads on one shared array of 1k doubles:
    ftarray with no lock, the standard type under one threading.Lock."""
    results = {}
    for label, mod, locked in (("array + Lock", array, True), ("ftarray", ftarray, False)):
        a = mod.array("d", range(1000))
        lock = threading.Lock()
        stop = threading.Event()
        start = threading.Barrier(readers + writers + 1)
        counts = {"reads": 0, "writes": 0}
        tally = threading.Lock()

        def reader():
            n = 0
            start.wait()
            while not stop.is_set():
                if locked:
                    for i in range(0, 1000, 10):
                        with lock:
                            a[i]
                else:
                    for i in range(0, 1000, 10):
                        a[i]
                n += 100
            with tally:
                counts["reads"] += n

        def writer():
            n = 0
            start.wait()
            while not stop.is_set():
                if locked:
                    for i in range(0, 1000, 10):
                        with lock:
                            a[i] = 2.5
                else:
                    for i in range(0, 1000, 10):
                        a[i] = 2.5
                n += 100
            with tally:
                counts["writes"] += n

        threads = [threading.Thread(target=reader) for _ in range(readers)]
        threads += [threading.Thread(target=writer) for _ in range(writers)]
        elapsed = run_threads(threads, start, stop, seconds)
        results[label] = {"reads_per_s": counts["reads"] / elapsed,
                          "writes_per_s": counts["writes"] / elapsed}
    ratio = results["ftarray"]["reads_per_s"] / results["array + Lock"]["reads_per_s"]
    return {"results": results, "ratio": ratio, "target": THREADS_TARGET,
            "met": ratio >= THREADS_TARGET, "readers": readers, "writers": writers}


def interpreter_ceiling(seconds: float) -> dict:
    """ftarray reads/s of one reader thread alone, and beside a second thread that only loads
    the array's reference (no write, no lock): what the interpreter's own reference counting
    leaves before any writer. On 3.13t a reference taken by a thread that did not make the
    object is an atomic add to one shared field, so two threads using one array contend on the
    line holding its header (and its type pointer, which every call reads)."""
    out = {}
    for mode in ("alone", "touching"):
        a = ftarray.array("d", range(1000))
        stop = threading.Event()
        start = threading.Barrier(3 if mode == "touching" else 2)
        count = [0]

        def reader():
            n = 0
            start.wait()
            while not stop.is_set():
                for i in range(0, 1000, 10):
                    a[i]
                n += 100
            count[0] = n

        def toucher():
            start.wait()
            while not stop.is_set():
                for i in range(0, 1000, 10):
                    a  # noqa: B018 (the reference is the point)

        threads = [threading.Thread(target=reader)]
        if mode == "touching":
            threads.append(threading.Thread(target=toucher))
        elapsed = run_threads(threads, start, stop, seconds)
        out[mode] = count[0] / elapsed  # read after the threads are joined
    return out


def run_threads(threads, start, stop, seconds: float) -> float:
    """Starts `threads`, releases them together (`start`, a barrier they and this thread wait
    on), lets them run `seconds`, sets `stop`, joins them; returns the seconds they ran."""
    for t in threads:
        t.start()
    start.wait()
    t0 = time.perf_counter()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join()
    return time.perf_counter() - t0


FOOTPRINT_CHILD = """
import array, gc, sys, ftarray
mod = {"array": array, "ftarray": ftarray}[sys.argv[1]]
init = [1.0, 2.0, 3.0] if sys.argv[2] == "3" else None
def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096
make = (lambda: mod.array("d")) if init is None else (lambda: mod.array("d", init))
keep = [None] * 100_000  # the list itself is allocated before the first reading
gc.disable()
before = rss()
for i in range(100_000):
    keep[i] = make()
after = rss()
print((after - before) / 100_000, sys.getsizeof(keep[0]))
"""


def footprint() -> list[dict]:
    """RSS growth per object and sys.getsizeof, each kind in a fresh child process."""
    import subprocess
    rows = []
    for label, arg in (("empty", "0"), ("three doubles", "3")):
        row = {"case": label}
        for name in ("array", "ftarray"):
            out = subprocess.run([sys.executable, "-c", FOOTPRINT_CHILD, name, arg],
                                 check=True, capture_output=True, text=True).stdout.split()
            row[name] = {"rss": float(out[0]), "getsizeof": int(out[1])}
        rows.append(row)
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer, shorter measurements")
    parser.add_argument("--repeat", type=int, default=None, help="measurements per case")
    parser.add_argument("--seconds", type=float, default=None, help="threaded run length")
    parser.add_argument("--only", metavar="TEXT", help="only the rows whose name has TEXT")
    parser.add_argument("--no-threads", action="store_true", help="skip the threaded runs")
    parser.add_argument("--threads-only", action="store_true",
                        help="only the threaded runs (free-threaded interpreters)")
    parser.add_argument("--footprint", action="store_true", help="memory per object only")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    args = parser.parse_args(argv)
    repeat = args.repeat or (3 if args.quick else 7)
    scale = 0.2 if args.quick else 1.0
    seconds = args.seconds or (1.0 if args.quick else 3.0)

    if args.footprint:
        rows = footprint()
        print(f"memory per object on {interpreter()} (100k objects, one child process each)")
        print_table(
            ["array('d', ...)", "array RSS", "ftarray RSS", "ratio", "array getsizeof",
             "ftarray getsizeof"],
            [[r["case"], f"{r['array']['rss']:.0f} B", f"{r['ftarray']['rss']:.0f} B",
              f"{r['ftarray']['rss'] / r['array']['rss']:.2f}x",
              str(r["array"]["getsizeof"]), str(r["ftarray"]["getsizeof"])] for r in rows],
        )
        if args.json:
            with open(args.json, "w", encoding="utf-8") as f:
                json.dump({"interpreter": interpreter(), "footprint": rows}, f, indent=2)
        return 0

    print(f"ftarray {ftarray.__version__} vs array on {interpreter()}, "
          f"{platform.machine()}, {os.cpu_count()} CPUs; best of {repeat}")
    rows = [] if args.threads_only else single_threaded(repeat, scale, args.only)
    if not args.threads_only:
        print()
        print_table(
            ["operation", "array.array", "ftarray.array", "ftarray/array time", "met"],
            [[r["op"], fmt_time(r["std_s"]), fmt_time(r["ftarray_s"]), f"{r['ratio']:.2f}x",
              "yes" if r["met"] else "NO"] for r in rows],
        )
        print(f"target: time <= {TIME_TARGET}x (bulk rows: throughput >= {BULK_TARGET}x)")
    report = {"interpreter": interpreter(), "repeat": repeat, "single": rows}
    if args.threads_only and not FREE_THREADED:
        print("the threaded runs need a free-threaded interpreter (3.13t or later)")
    if FREE_THREADED and not args.no_threads and not args.only:
        report["threads"] = []
        table = []
        for readers in (1, 2, 3):
            t = threaded(seconds, readers)
            report["threads"].append(t)
            std = t["results"]["array + Lock"]
            ft = t["results"]["ftarray"]
            table.append([f"{readers} + 1", f"{std['reads_per_s'] / 1e6:.2f} M",
                          f"{ft['reads_per_s'] / 1e6:.2f} M", f"{t['ratio']:.1f}x",
                          "yes" if t["met"] else "NO"])
        print()
        print(f"N reader threads (a[i]) + 1 writer thread (a[i] = v) on one array of 1k "
              f"doubles, {seconds:.0f} s each")
        print_table(["readers + writer", "array + Lock reads/s", "ftarray reads/s", "ratio",
                     "met"], table)
        print(f"target: ftarray reads/s >= {THREADS_TARGET}x the locked standard type's")
        ceiling = interpreter_ceiling(seconds)
        report["interpreter_ceiling"] = ceiling
        print(f"one ftarray reader alone: {ceiling['alone'] / 1e6:.2f} M reads/s; beside a "
              f"thread that only loads the array's reference, as fast as it can (no write, "
              f"no lock): {ceiling['touching'] / 1e6:.2f} M reads/s (the interpreter's "
              f"reference counting)")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(report, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
