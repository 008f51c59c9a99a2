"""The CPython #146007 race, run against any ``array``-compatible module.

The workload of the bug report: writer threads loop ``arr.clear(); arr.extend(range(10))``
while reader threads loop ``arr[0]``, all on one shared array. On a free-threaded CPython 3.13
the standard ``array`` module frees the item buffer in ``clear()`` while a reader may still be
reading it, and the process dies (segmentation fault). This script runs the workload in a fresh
subprocess per run, so a crash is observed, not suffered: the table shows the signal that
killed each crashed run, and for runs that finish, reads/s, writes/s and whether the invariants
held:

* every value a reader gets is one that was stored at that index (every writer stores
  ``range(10)``, so ``arr[i]`` is ``i % 10``, or ``IndexError`` while the array is empty);
* no operation raises anything else;
* afterwards the array is whole copies of ``range(10)``: no extend torn or lost.

Usage (on the interpreter to test; free-threaded 3.13 shows the crash)::

    python python/examples/race.py                       # array and ftarray (if installed)
    python python/examples/race.py --modules array --runs 5 --seconds 1
    python python/examples/race.py --require-safe ftarray  # exit 1 if ftarray crashes

``run_workload(module)`` runs one round in-process against any module object with an
``array(typecode, iterable)`` constructor, for use from tests.
"""

from __future__ import annotations

import argparse
import importlib
import json
import signal
import subprocess
import sys
import sysconfig
import threading
import time

CHUNK = 64  # operations between two looks at the stop flag
NOT_INSTALLED = 3  # exit status of a child whose module does not import


def gil_enabled() -> bool:
    """Whether the GIL is on right now (always True before 3.13)."""
    return getattr(sys, "_is_gil_enabled", lambda: True)()


def interpreter() -> str:
    tag = "t" if sysconfig.get_config_var("Py_GIL_DISABLED") else ""
    return f"CPython {sys.version.split()[0]}{tag}"


def run_workload(module, seconds: float = 2.0, writers: int = 4, readers: int = 4,
                 index: int = 0, typecode: str = "i") -> dict:
    """Run the #146007 workload against ``module.array`` for ``seconds`` and return counts.

    The result's ``ok`` is False if a reader saw a value never stored at its index, an
    operation raised something other than ``IndexError`` on an empty array, or the final
    contents are not whole copies of ``range(10)``.
    """
    arr = module.array(typecode, range(10))
    expected = index % 10
    start = threading.Barrier(writers + readers + 1)
    stop = threading.Event()
    reader_results: list[dict | None] = [None] * readers
    writer_results: list[dict | None] = [None] * writers
    exceptions: list[str] = []

    def reader(slot: int) -> None:
        reads = empty = bad = 0
        bad_values: list = []
        start.wait()
        try:
            while not stop.is_set():
                for _ in range(CHUNK):
                    try:
                        v = arr[index]
                    except IndexError:
                        empty += 1
                        continue
                    if v != expected:
                        bad += 1
                        if len(bad_values) < 5:
                            bad_values.append(v)
                reads += CHUNK
        except BaseException as exc:  # anything but IndexError breaks the contract
            exceptions.append(f"reader: {exc!r}")
        reader_results[slot] = {"reads": reads, "empty": empty, "bad": bad,
                                "bad_values": bad_values}

    # array.clear() is new in 3.13; before it, `del arr[:]` is the same operation.
    has_clear = hasattr(arr, "clear")

    def writer(slot: int) -> None:
        cycles = 0
        start.wait()
        try:
            while not stop.is_set():
                for _ in range(CHUNK):
                    if has_clear:
                        arr.clear()
                    else:
                        del arr[:]
                    arr.extend(range(10))
                cycles += CHUNK
        except BaseException as exc:
            exceptions.append(f"writer: {exc!r}")
        writer_results[slot] = {"cycles": cycles}

    threads = [threading.Thread(target=reader, args=(i,)) for i in range(readers)]
    threads += [threading.Thread(target=writer, args=(i,)) for i in range(writers)]
    for t in threads:
        t.start()
    gil_before = gil_enabled()
    start.wait()
    t0 = time.perf_counter()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0

    final = arr.tolist()
    final_ok = len(final) >= 10 and final == list(range(10)) * (len(final) // 10)
    reads = sum(r["reads"] for r in reader_results if r)
    bad = sum(r["bad"] for r in reader_results if r)
    bad_values = [v for r in reader_results if r for v in r["bad_values"]][:5]
    return {
        "module": getattr(module, "__name__", repr(module)),
        "interpreter": interpreter(),
        "gil_enabled": gil_before or gil_enabled(),
        "seconds": elapsed,
        "writers": writers,
        "clear": "clear()" if has_clear else "del a[:]",
        "readers": readers,
        "index": index,
        "reads": reads,
        "empty_reads": sum(r["empty"] for r in reader_results if r),
        "writes": sum(w["cycles"] for w in writer_results if w),
        "bad_reads": bad,
        "bad_values": [repr(v) for v in bad_values],
        "exceptions": exceptions[:5],
        "final_len": len(final),
        "final_ok": final_ok,
        "ok": bad == 0 and not exceptions and final_ok,
    }


def run_child(module_name: str, args: argparse.Namespace) -> dict:
    """One round in a fresh interpreter; records how it ended."""
    cmd = [sys.executable, __file__, "--child", module_name, "--seconds", str(args.seconds),
           "--writers", str(args.writers), "--readers", str(args.readers),
           "--index", str(args.index), "--typecode", args.typecode]
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True,
                              timeout=args.seconds + args.timeout)
    except subprocess.TimeoutExpired:
        return {"status": "hung", "detail": f"no exit within {args.seconds + args.timeout:.0f} s"}
    if proc.returncode < 0:
        try:
            name = signal.Signals(-proc.returncode).name
        except ValueError:
            name = f"signal {-proc.returncode}"
        # Wall time from spawn to death, interpreter start-up included.
        return {"status": "crashed", "signal": name, "stderr": proc.stderr[-2000:],
                "after": time.perf_counter() - t0}
    if proc.returncode == NOT_INSTALLED:
        return {"status": "not installed", "detail": last_line(proc.stderr)}
    try:
        result = json.loads(proc.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        return {"status": "failed", "detail": f"exit {proc.returncode}: {proc.stderr[-2000:]}"}
    result["status"] = "finished"
    return result


def last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else ""


def fmt_rate(x: float) -> str:
    return f"{x / 1e6:.2f} M" if x >= 1e6 else f"{x / 1e3:.0f} k"


def summarize(module_name: str, runs: list[dict]) -> dict:
    crashed = [r for r in runs if r["status"] == "crashed"]
    finished = [r for r in runs if r["status"] == "finished"]
    other = [r for r in runs if r["status"] not in ("crashed", "finished")]
    row = {"module": module_name, "runs": len(runs), "crashed": len(crashed)}
    signals: dict[str, int] = {}
    for r in crashed:
        signals[r["signal"]] = signals.get(r["signal"], 0) + 1
    row["signals"] = ", ".join(f"{s} x{n}" for s, n in sorted(signals.items()))
    if crashed:
        after = sorted(r["after"] for r in crashed)
        row["signals"] += f", median {after[len(after) // 2]:.2f} s after spawn"
    statuses = [r["status"] for r in other]
    row["other"] = [f"{s} x{statuses.count(s)}" for s in sorted(set(statuses))]
    row["details"] = sorted({last_line(r.get("detail", "")) or r["status"] for r in other})
    if finished:
        secs = sum(r["seconds"] for r in finished)
        row["reads_per_s"] = sum(r["reads"] for r in finished) / secs
        row["writes_per_s"] = sum(r["writes"] for r in finished) / secs
        row["empty_share"] = sum(r["empty_reads"] for r in finished) / max(
            1, sum(r["reads"] for r in finished))
        row["invariants"] = "held" if all(r["ok"] for r in finished) else "BROKEN"
        row["gil"] = "on" if any(r["gil_enabled"] for r in finished) else "off"
        row["clear"] = sorted({r["clear"] for r in finished})
        row["problems"] = sorted({p for r in finished for p in r["exceptions"]}
                                 | {f"read {v} at index {r['index']}"
                                    for r in finished for v in r["bad_values"]}
                                 | {f"final length {r['final_len']}, not whole range(10) copies"
                                    for r in finished if not r["final_ok"]})
    return row


def print_table(rows: list[dict], args: argparse.Namespace) -> None:
    print(f"#146007 workload on {interpreter()}: {args.writers} writers "
          f"(clear(); extend(range(10))), {args.readers} readers (arr[{args.index}]), "
          f"typecode '{args.typecode}', {args.seconds:g} s per run, one subprocess per run")
    header = ["module", "runs", "crashed", "reads/s", "writes/s", "empty reads",
              "invariants", "GIL"]
    lines = [header]
    for row in rows:
        crashed = str(row["crashed"])
        if row["signals"]:
            crashed += f" ({row['signals']})"
        if row["other"]:
            crashed += " [" + ", ".join(row["other"]) + "]"
        if "reads_per_s" in row:
            lines.append([row["module"], str(row["runs"]), crashed, fmt_rate(row["reads_per_s"]),
                          fmt_rate(row["writes_per_s"]), f"{row['empty_share']:.0%}",
                          row["invariants"], row["gil"]])
        else:
            lines.append([row["module"], str(row["runs"]), crashed, "-", "-", "-", "-", "-"])
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    for n, line in enumerate(lines):
        print("  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths))
    print("writes/s counts clear()+extend() pairs; 'empty reads' is the share of reads that "
          "found the array empty (IndexError, allowed).")
    for row in rows:
        if row.get("clear") and row["clear"] != ["clear()"]:
            print(f"{row['module']}: no clear() before 3.13; writers used {', '.join(row['clear'])}")
        for detail in row.get("details", [])[:3]:
            print(f"{row['module']}: run did not finish normally: {detail}")
        for problem in row.get("problems", [])[:5]:
            print(f"{row['module']}: invariant broken: {problem}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--modules", default="array,ftarray",
                        help="comma-separated modules to race (default: array,ftarray)")
    parser.add_argument("--runs", type=int, default=3, help="subprocess runs per module")
    parser.add_argument("--seconds", type=float, default=2.0, help="length of one run")
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--readers", type=int, default=4)
    parser.add_argument("--index", type=int, default=0, help="index the readers read")
    parser.add_argument("--typecode", default="i")
    parser.add_argument("--timeout", type=float, default=60.0,
                        help="seconds past --seconds before a run counts as hung")
    parser.add_argument("--require-safe", default="",
                        help="comma-separated modules that must finish every run with the "
                             "invariants held (else exit 1); the others only show in the table")
    parser.add_argument("--json", metavar="FILE", help="also write every run's result")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="show the stderr of crashed runs")
    parser.add_argument("--child", metavar="MODULE", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        try:
            module = importlib.import_module(args.child)
        except ImportError as exc:
            print(f"cannot import {args.child}: {exc}", file=sys.stderr)
            return NOT_INSTALLED
        print(json.dumps(run_workload(module, args.seconds, args.writers, args.readers,
                                      args.index, args.typecode)))
        return 0

    modules = [m for m in args.modules.split(",") if m]
    required = {m for m in args.require_safe.split(",") if m}
    rows, all_runs, status = [], {}, 0
    for name in modules:
        runs = []
        for _ in range(args.runs):
            runs.append(run_child(name, args))
            if runs[-1]["status"] == "not installed":
                break
        all_runs[name] = runs
        if runs[-1]["status"] == "not installed":
            print(f"({name}: not installed in this interpreter, skipped)")
            if name in required:
                status = 1
            continue
        row = summarize(name, runs)
        rows.append(row)
        broken = row.get("invariants") == "BROKEN"
        # With --require-safe only the named modules decide the exit status (the standard
        # module is raced to show its crash, not to pass); without it, any broken invariant.
        if name in required and (broken or row["crashed"] or row["other"]):
            status = 1
        elif not required and broken:
            status = 1
        if args.verbose:
            for r in runs:
                if r["status"] != "finished":
                    print(f"--- {name}: {r['status']} {r.get('signal', '')}\n"
                          f"{r.get('stderr', r.get('detail', ''))}")
                elif not r["ok"]:
                    print(f"--- {name}: invariants broken: {r}")
    print_table(rows, args)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump({"interpreter": interpreter(), "runs": all_runs, "rows": rows}, f, indent=2)
    return status


if __name__ == "__main__":
    sys.exit(main())
