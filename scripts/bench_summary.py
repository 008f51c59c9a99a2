#!/usr/bin/env python3
"""Prints a markdown table of ftarray's key benchmark ratios from criterion's results.

Usage: python3 scripts/bench_summary.py [CRITERION_DIR] [--stat slope|mean|median]

CRITERION_DIR defaults to $CRITERION_HOME, else $CARGO_TARGET_DIR/criterion, else
target/criterion. It reads every `**/new/benchmark.json` (for the id) and the `estimates.json`
beside it (time per iteration, in ns), plus `memory/result.json` written by benches/memory.rs.
The statistic is criterion's own headline figure by default: the slope of the linear fit where
there is one, else the mean. Standard library only.
"""

import argparse
import json
import os
import sys
from pathlib import Path


def default_dir():
    if os.environ.get("CRITERION_HOME"):
        return Path(os.environ["CRITERION_HOME"])
    if os.environ.get("CARGO_TARGET_DIR"):
        return Path(os.environ["CARGO_TARGET_DIR"]) / "criterion"
    return Path("target/criterion")


def load(root, stat):
    """full_id -> ns per iteration."""
    times = {}
    for bench in root.glob("**/new/benchmark.json"):
        try:
            meta = json.loads(bench.read_text())
            est = json.loads((bench.parent / "estimates.json").read_text())
        except (OSError, ValueError):
            continue
        order = [stat] if stat != "slope" else ["slope", "mean"]
        for key in order:
            if est.get(key):
                times[meta["full_id"]] = est[key]["point_estimate"]
                break
    return times


def fmt_time(ns):
    if ns < 1e3:
        return f"{ns:.2f} ns"
    if ns < 1e6:
        return f"{ns / 1e3:.2f} µs"
    return f"{ns / 1e6:.2f} ms"


def fmt_rate(per_s, unit):
    for scale, prefix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if per_s >= scale:
            return f"{per_s / scale:.2f} {prefix}{unit}/s"
    return f"{per_s:.2f} {unit}/s"


def fmt_bw(bytes_per_s):
    return f"{bytes_per_s / 2**30:.2f} GiB/s"


class Table:
    def __init__(self, times):
        self.t = times
        self.rows = []

    def get(self, full_id):
        return self.t.get(full_id)

    def row(self, figure, target, measured, baseline, met):
        self.rows.append((figure, target, measured, baseline, met))

    def missing(self, figure, target, *ids):
        absent = [i for i in ids if i not in self.t]
        self.row(figure, target, "no data", "missing: " + ", ".join(absent), "n/a")

    def time_ratio(self, figure, ft_id, base_id, base_name, limit=None):
        """ft time / baseline time; lower is better; `limit` is the target's maximum."""
        target = f"≤ {limit:g}×" if limit is not None else "—"
        ft, base = self.get(ft_id), self.get(base_id)
        if ft is None or base is None:
            return self.missing(figure, target, ft_id, base_id)
        ratio = ft / base
        met = "—" if limit is None else ("met" if ratio <= limit else "missed")
        self.row(figure, target, f"{ratio:.2f}× ({fmt_time(ft)})", f"{base_name}: {fmt_time(base)}", met)

    def time_ratio_best(self, figure, ft_id, bases, limit=None):
        """ft time / the fastest of `bases` ({name: id}); lower is better."""
        target = f"≤ {limit:g}×" if limit is not None else "—"
        ft = self.get(ft_id)
        if ft is None or any(i not in self.t for i in bases.values()):
            return self.missing(figure, target, ft_id, *bases.values())
        name, base = min(((n, self.t[i]) for n, i in bases.items()), key=lambda nb: nb[1])
        ratio = ft / base
        met = "—" if limit is None else ("met" if ratio <= limit else "missed")
        self.row(figure, target, f"{ratio:.2f}× ({fmt_time(ft)})", f"{name}: {fmt_time(base)}", met)

    def rate_ratio(self, figure, ft_id, base_id, base_name, unit, per_iter=1.0, minimum=None):
        """ft rate / baseline rate (= baseline time / ft time); higher is better."""
        target = f"≥ {minimum:g}×" if minimum is not None else "—"
        ft, base = self.get(ft_id), self.get(base_id)
        if ft is None or base is None:
            return self.missing(figure, target, ft_id, base_id)
        ratio = base / ft
        met = "—" if minimum is None else ("met" if ratio >= minimum else "missed")
        rate = lambda ns: per_iter * 1e9 / ns  # noqa: E731
        show = fmt_bw if unit == "B" else (lambda r: fmt_rate(r, unit))
        self.row(figure, target, f"{ratio:.2f}× ({show(rate(ft))})", f"{base_name}: {show(rate(base))}", met)

    def scaling(self, figure, group, impl, ty, base_impl, base_name, minimum=None):
        """Aggregate throughput with 2 threads / with 1 thread (each iteration = 1 read/thread)."""
        target = f"≥ {minimum:g}×" if minimum is not None else "—"
        ids = [f"{group}/{i}/{ty}_{n}t" for i in (impl, base_impl) for n in (1, 2)]
        if any(i not in self.t for i in ids):
            return self.missing(figure, target, *ids)
        agg = lambda i, n: n * 1e9 / self.t[f"{group}/{i}/{ty}_{n}t"]  # noqa: E731
        ratio = agg(impl, 2) / agg(impl, 1)
        base = agg(base_impl, 2) / agg(base_impl, 1)
        self.row(
            figure,
            target,
            f"{ratio:.2f}× ({fmt_rate(agg(impl, 1), 'reads')} → {fmt_rate(agg(impl, 2), 'reads')})",
            f"{base_name}: {base:.2f}× ({fmt_rate(agg(base_impl, 1), 'reads')} → "
            f"{fmt_rate(agg(base_impl, 2), 'reads')})",
            "—" if minimum is None else ("met" if ratio >= minimum else "missed"),
        )

    def memory(self, root):
        figure, target = "memory: peak live bytes, 1M u32 clear/shrink/refill ×300, 2 pinning readers", "≤ 3× live + 16 MiB"
        path = root / "memory" / "result.json"
        try:
            m = json.loads(path.read_text())
        except (OSError, ValueError):
            return self.row(figure, target, "no data", f"missing: {path}", "n/a")
        mib = lambda b: f"{b / 2**20:.1f} MiB"  # noqa: E731
        self.row(
            figure,
            target,
            f"{mib(m['peak_bytes'])} = {m['ratio']:.2f}× live (bound {mib(m['bound_bytes'])})",
            f"live: {mib(m['live_bytes'])}",
            "met" if m["met"] else "missed",
        )

    def print(self):
        head = ("figure", "target", "measured", "baseline's own figure", "met?")
        print("| " + " | ".join(head) + " |")
        print("|" + "|".join("---" for _ in head) + "|")
        for r in self.rows:
            print("| " + " | ".join(r) + " |")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dir", nargs="?", type=Path, default=None, help="criterion output dir")
    ap.add_argument("--stat", choices=("slope", "mean", "median"), default="slope")
    args = ap.parse_args()
    root = args.dir or default_dir()
    if not root.is_dir():
        sys.exit(f"no criterion results at {root}")
    t = Table(load(root, args.stat))

    for ty in ("u32", "f64"):
        atomic = "AtomicU32" if ty == "u32" else "AtomicU64"
        t.time_ratio(
            f"Reader::get vs relaxed {atomic} load, time ({ty})",
            f"get_reader/ftarray_reader/{ty}",
            f"get_reader/atomic_relaxed/{ty}",
            f"{atomic} load",
            limit=1.3,
        )
    for ty in ("u32", "f64"):
        t.time_ratio(
            f"get (pinned per call) vs parking_lot RwLock read, time ({ty})",
            f"get_pinned/ftarray_get/{ty}",
            f"get_pinned/pl_rwlock/{ty}",
            "pl RwLock read",
            limit=1.0,
        )
    # 1,024 reads per iteration (read_1k): the read path's own ratios; times are per 1,024 reads.
    locks = {"pl Mutex": "pl_mutex", "std RwLock": "std_rwlock", "pl RwLock": "pl_rwlock"}
    for ty in ("u8", "u32", "f64"):
        ids = lambda names: {n: f"read_1k/{i}/{ty}" for n, i in names.items()}  # noqa: E731
        t.time_ratio(
            f"read_1k: Reader::get vs relaxed atomic load, time ({ty})",
            f"read_1k/ftarray_reader/{ty}",
            f"read_1k/atomic_relaxed/{ty}",
            "atomic load",
            limit=2.5,
        )
        t.time_ratio_best(
            f"read_1k: Reader::get vs best peer (locks, ArcSwap), time ({ty})",
            f"read_1k/ftarray_reader/{ty}",
            ids({**locks, "ArcSwap": "arcswap"}),
            limit=0.3,
        )
        t.time_ratio_best(
            f"read_1k: get (pinned per call) vs fastest lock, time ({ty})",
            f"read_1k/ftarray_get/{ty}",
            ids(locks),
            limit=0.85,
        )
        t.time_ratio_best(
            f"read_1k: epoch pin + Vec read (the floor under get) vs fastest lock ({ty})",
            f"read_1k/epoch_pin_vec/{ty}",
            ids(locks),
        )
    for impl, label in (("ftarray_reader", "Reader::get"), ("ftarray_get", "get")):
        t.scaling(
            f"2 vs 1 reader threads, aggregate reads/s, FtArray {label} (u32)",
            "readers_scaling",
            impl,
            "u32",
            "pl_rwlock",
            "pl RwLock",
            minimum=1.8,
        )
    # What the machine itself allows: unsynchronised reads of a Vec (2 cores, often shared).
    t.scaling(
        "2 vs 1 reader threads, plain Vec (the machine's ceiling; no target)",
        "readers_scaling",
        "vec",
        "u32",
        "atomic_relaxed",
        "relaxed atomics",
    )
    for impl, label in (("ftarray_get", "get"), ("ftarray_reader", "Reader::get")):
        for base, name, minimum in (("pl_rwlock", "pl RwLock", 10), ("arcswap", "ArcSwap", 1.5)):
            t.rate_ratio(
                f"reads/s under churn, FtArray {label} vs {name} (u32)",
                f"read_under_churn/{impl}/reads/u32",
                f"read_under_churn/{base}/reads/u32",
                name,
                "reads",
                minimum=minimum,
            )
    # Writer throughput (the writer-throughput issue): ≥ 1.0× ArcSwap and ≥ 0.6× RwLock.
    for ty in ("u32", "f64"):
        for base, name, minimum in (("pl_rwlock", "pl RwLock", 0.6), ("arcswap", "ArcSwap", 1.0)):
            t.rate_ratio(
                f"writer ops/s under churn (clear+extend 1k), FtArray vs {name} ({ty})",
                f"read_under_churn/ftarray_get/writes/{ty}",
                f"read_under_churn/{base}/writes/{ty}",
                name,
                "ops",
                minimum=minimum,
            )
    for ty in ("u32", "f64"):
        t.time_ratio(
            f"push ×1024 into empty vs Mutex<Vec>::push, time ({ty})",
            f"push/ftarray/{ty}",
            f"push/pl_mutex/{ty}",
            "Mutex<Vec> push ×1024",
            limit=1.3,
        )
        t.time_ratio(
            f"push ×1024, pre-reserved, vs Mutex<Vec>::push, time ({ty})",
            f"push/ftarray_reserved/{ty}",
            f"push/pl_mutex_reserved/{ty}",
            "Mutex<Vec> push ×1024",
            limit=1.3,
        )
    for ty, size in (("u32", 4), ("f64", 8)):
        nbytes = (1 << 20) * size
        for op, label in (("extend", "extend_from_slice"), ("to_vec", "to_vec")):
            t.rate_ratio(
                f"{label} 1M bandwidth vs Vec ({ty})",
                f"bulk_1m/{op}/ftarray/{ty}",
                f"bulk_1m/{op}/vec/{ty}",
                f"Vec::{label}",
                "B",
                per_iter=nbytes,
                minimum=0.8,
            )
    for ty in ("u32", "f64"):
        t.time_ratio(
            f"insert(0) + remove(0) on 1k vs Mutex<Vec>, time ({ty})",
            f"insert_front_1k/ftarray/{ty}",
            f"insert_front_1k/pl_mutex/{ty}",
            "Mutex<Vec>",
            limit=2.0,
        )
        t.time_ratio(
            f"update (+1 each) on 1k vs Mutex<Vec> lock + loop, time ({ty})",
            f"update_1k/ftarray/{ty}",
            f"update_1k/pl_mutex/{ty}",
            "Mutex<Vec>",
            limit=2.0,
        )
    t.memory(root)

    print(f"ftarray benchmark summary ({root}, statistic: {args.stat})\n")
    t.print()
    scored = [r[4] for r in t.rows if r[4] in ("met", "missed")]
    print(f"\n{scored.count('met')} of {len(scored)} targets met")


if __name__ == "__main__":
    main()
