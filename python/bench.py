"""Time ftarray.array against the standard array.array on the interpreter running this script.

Single-threaded operations, each timed timeit-style (many calls per measurement, the best of
several measurements, the two modules measured alternately so that a busy moment of the machine
hits both alike):

* scalar operations (time per call; target: ftarray within 1.3x of the standard type's time):
  ``a[i]``, ``a[i] = v``, ``append``, ``len``, a 100-element slice;
* bulk operations (throughput; target: ftarray at least 0.8x the standard type's): iterating
  over 1k elements, ``tobytes`` of 1M, ``extend`` by a list of 1k, a 100k-element slice.

On a free-threaded interpreter (3.13t) also: 2 reader threads (``a[i]``) and 1 writer thread
(``a[i] = v``) on one shared array for a few seconds, ftarray with no lock against the standard
type guarded by a ``threading.Lock`` (what a careful user must do today, since the unguarded
standard type crashes); target: at least 5x the reads/s.

Usage::

    python python/bench.py               # everything, about a minute
    python python/bench.py --quick       # fewer repeats (a smoke run, noisy)
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


# (name, kind, statement, setup, calls per measurement). `mod` is the module under test.
CASES = [
    ("a[i]", "scalar", "a[500]", "a = mod.array('d', range(1000))", 200_000),
    ("a[i] = v", "scalar", "a[500] = 1.5", "a = mod.array('d', range(1000))", 200_000),
    ("append", "scalar", "b.append(1.5)", "b = mod.array('d')", 200_000),
    ("len", "scalar", "len(a)", "a = mod.array('d', range(1000))", 200_000),
    ("slice 100", "scalar", "a[100:200]", "a = mod.array('d', range(1000))", 100_000),
    ("iterate 1k", "bulk", "for x in a: pass", "a = mod.array('d', range(1000))", 200),
    ("tobytes 1M", "bulk", "big.tobytes()", "big = mod.array('d', range(1_000_000))", 20),
    ("extend 1k", "bulk", "b.extend(items)",
     "b = mod.array('d'); items = [float(x) for x in range(1000)]", 200),
    ("slice 100k", "bulk", "big[1000:101000]", "big = mod.array('d', range(1_000_000))", 200),
]
SCALAR_TARGET = 1.3  # ftarray time / standard time, at most
BULK_TARGET = 0.8  # ftarray throughput / standard throughput, at least
THREADS_TARGET = 5.0  # ftarray reads/s / locked standard reads/s, at least


def time_case(stmt: str, setup: str, number: int, repeat: int) -> tuple[float, float]:
    """Best time per call of `stmt`, for the standard module and for ftarray, alternating."""
    best = {array: float("inf"), ftarray: float("inf")}
    timers = {mod: timeit.Timer(stmt, setup, globals={"mod": mod}) for mod in best}
    for _ in range(repeat):
        for mod, timer in timers.items():
            best[mod] = min(best[mod], timer.timeit(number) / number)
    return best[array], best[ftarray]


def single_threaded(repeat: int, scale: float) -> list[dict]:
    rows = []
    for name, kind, stmt, setup, number in CASES:
        std_t, ft_t = time_case(stmt, setup, max(1, int(number * scale)), repeat)
        if kind == "scalar":
            ratio, target, met = ft_t / std_t, SCALAR_TARGET, ft_t / std_t <= SCALAR_TARGET
        else:
            ratio, target, met = std_t / ft_t, BULK_TARGET, std_t / ft_t >= BULK_TARGET
        rows.append({"op": name, "kind": kind, "std_s": std_t, "ftarray_s": ft_t,
                     "ratio": ratio, "target": target, "met": met})
    return rows


def fmt_time(seconds: float) -> str:
    for unit, scale in (("s", 1), ("ms", 1e-3), ("us", 1e-6), ("ns", 1e-9)):
        if seconds >= scale:
            return f"{seconds / scale:.1f} {unit}"
    return f"{seconds / 1e-9:.2f} ns"


def print_table(headers: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths)))
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)))


def threaded(seconds: float, readers: int = 2, writers: int = 1) -> dict:
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
        for t in threads:
            t.start()
        start.wait()
        t0 = time.perf_counter()
        time.sleep(seconds)
        stop.set()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - t0
        results[label] = {"reads_per_s": counts["reads"] / elapsed,
                          "writes_per_s": counts["writes"] / elapsed}
    ratio = results["ftarray"]["reads_per_s"] / results["array + Lock"]["reads_per_s"]
    return {"results": results, "ratio": ratio, "target": THREADS_TARGET,
            "met": ratio >= THREADS_TARGET, "readers": readers, "writers": writers}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer, shorter measurements")
    parser.add_argument("--repeat", type=int, default=None, help="measurements per case")
    parser.add_argument("--seconds", type=float, default=None, help="threaded run length")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    args = parser.parse_args(argv)
    repeat = args.repeat or (3 if args.quick else 9)
    scale = 0.2 if args.quick else 1.0
    seconds = args.seconds or (1.0 if args.quick else 4.0)

    print(f"ftarray {ftarray.__version__} vs array on {interpreter()}, "
          f"{platform.machine()}, {os.cpu_count()} CPUs; best of {repeat}")
    rows = single_threaded(repeat, scale)
    print()
    print_table(
        ["operation", "array.array", "ftarray.array", "ratio", "target", "met"],
        [[r["op"], fmt_time(r["std_s"]), fmt_time(r["ftarray_s"]),
          f"{r['ratio']:.2f}x {'time' if r['kind'] == 'scalar' else 'throughput'}",
          f"{'<=' if r['kind'] == 'scalar' else '>='} {r['target']}x",
          "yes" if r["met"] else "NO"] for r in rows],
    )
    report = {"interpreter": interpreter(), "repeat": repeat, "single": rows}
    if FREE_THREADED:
        t = threaded(seconds)
        report["threads"] = t
        print()
        print(f"{t['readers']} reader threads (a[i]) + {t['writers']} writer thread (a[i] = v) "
              f"on one array of 1k doubles, {seconds:.0f} s each")
        print_table(
            ["array", "reads/s", "writes/s"],
            [[label, f"{v['reads_per_s'] / 1e6:.2f} M", f"{v['writes_per_s'] / 1e6:.2f} M"]
             for label, v in t["results"].items()],
        )
        print(f"ftarray reads/s = {t['ratio']:.1f}x the locked standard type's "
              f"(target >= {t['target']}x): {'met' if t['met'] else 'NOT met'}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(report, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
