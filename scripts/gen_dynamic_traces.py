#!/usr/bin/env python3
"""Records CPython's `array.array` behaviour as golden traces for ftarray's DynArray.

Runs random operation sequences on `array.array` for every type code and writes each
operation's arguments, its result or the exception class it raised, and the array's contents
afterwards to tests/data/python_traces.json. `tests/dynamic_python.rs` replays the same
sequences against `DynArray` and requires the same results, the same error kinds and the same
contents: CPython is the oracle for indices, slices, clamping, conversions and comparisons.

Usage: python3 scripts/gen_dynamic_traces.py [--seed N] [--sequences N] [--out PATH]
"""
import argparse
import array
import json
import math
import random
import sys
import warnings

warnings.simplefilter("ignore", DeprecationWarning)

CODES = "bBhHiIlLqQfduw" if sys.version_info >= (3, 13) else "bBhHiIlLqQfdu"


def int_range(code):
    size = array.array(code).itemsize * 8
    if code in "bhilq":
        return -(1 << (size - 1)), (1 << (size - 1)) - 1
    return 0, (1 << size) - 1


def enc(v):
    """A value as JSON: ints as numbers, floats as {"f": repr}, characters as {"c": ord}."""
    if isinstance(v, bool):
        raise TypeError(v)
    if isinstance(v, int):
        return v
    if isinstance(v, float):
        return {"f": repr(v)}
    if isinstance(v, str):
        return {"c": ord(v)}
    raise TypeError(type(v))


def rand_value(rng, code, in_range=True):
    if code in "fd":
        r = rng.random()
        if r < 0.05:
            return float("nan")
        if r < 0.1:
            return rng.choice([float("inf"), -float("inf"), -0.0, 0.0])
        if r < 0.3:
            return float(rng.randint(-5, 5))
        if r < 0.4:
            return rng.randint(-5, 5)  # ints are accepted by float arrays
        return rng.choice([0.5, -1.25, 3.0, 1e10, 2.0**60, 0.1])
    if code in "uw":
        return chr(rng.choice([0x41, 0x42, 0x43, 0xE9, 0x1F600, 0x61]))
    lo, hi = int_range(code)
    r = rng.random()
    if in_range or r < 0.85:
        if r < 0.5:
            return rng.randint(max(lo, -3), min(hi, 3))
        return rng.choice([lo, hi, rng.randint(lo, hi)])
    # Out of range, but still inside i64..u64 (what a Value can carry).
    cands = [v for v in (lo - 1, hi + 1) if -(1 << 63) <= v <= (1 << 64) - 1]
    return rng.choice(cands) if cands else rng.randint(lo, hi)


def rand_probe(rng, code):
    """A value to search for: usually of the array's kind, sometimes a number of the other kind
    (Python finds 1.0 in array('i', [1]) and 3 in array('d', [3.0]))."""
    v = rand_value(rng, code)
    r = rng.random()
    if code not in "uwfd" and r < 0.3:
        return float(v) if r < 0.2 else v + 0.5
    if code in "fd" and r < 0.2 and isinstance(v, float) and math.isfinite(v) and v == int(v):
        return int(v)
    return v


def rand_index(rng, n):
    r = rng.random()
    if r < 0.7:
        return rng.randint(-n - 1, n + 1) if n else rng.randint(-2, 2)
    return rng.choice([0, -1, n, -n, n + 5, -n - 5, 2**62, -(2**62)])


def rand_bound(rng, n):
    if rng.random() < 0.25:
        return None
    return rand_index(rng, n)


def rand_slice(rng, n):
    step = None
    r = rng.random()
    if r < 0.4:
        step = rng.choice([1, 2, 3, -1, -2, -3, 0 if rng.random() < 0.1 else 1])
    return [rand_bound(rng, n), rand_bound(rng, n), step]


def run(rng, code):
    n0 = rng.randint(0, 6)
    init = [rand_value(rng, code) for _ in range(n0)]
    a = array.array(code, init)
    ops = []
    for _ in range(rng.randint(5, 25)):
        n = len(a)
        kind = rng.choice(
            [
                "get", "set", "pop", "insert", "remove", "index", "count", "contains",
                "getslice", "setslice", "delslice", "extend", "imul", "mul", "reverse",
                "compare", "byteswap", "append",
            ]
        )
        args = []
        result = None
        error = None
        try:
            if kind == "get":
                i = rand_index(rng, n)
                args = [i]
                result = enc(a[i])
            elif kind == "set":
                i, v = rand_index(rng, n), rand_value(rng, code, in_range=False)
                args = [i, enc(v)]
                a[i] = v
            elif kind == "append":
                v = rand_value(rng, code, in_range=False)
                args = [enc(v)]
                a.append(v)
            elif kind == "pop":
                i = rand_index(rng, n)
                args = [i]
                result = enc(a.pop(i))
            elif kind == "insert":
                i, v = rand_index(rng, n), rand_value(rng, code, in_range=False)
                args = [i, enc(v)]
                a.insert(i, v)
            elif kind == "remove":
                v = rand_probe(rng, code)
                args = [enc(v)]
                a.remove(v)
            elif kind == "index":
                v = rand_probe(rng, code)
                start = rand_index(rng, n) if rng.random() < 0.5 else 0
                stop = rand_index(rng, n) if rng.random() < 0.5 else sys.maxsize
                args = [enc(v), start, stop]
                result = a.index(v, start, stop)
            elif kind == "count":
                v = rand_probe(rng, code)
                args = [enc(v)]
                result = a.count(v)
            elif kind == "contains":
                v = rand_probe(rng, code)
                args = [enc(v)]
                result = v in a
            elif kind == "getslice":
                s = rand_slice(rng, n)
                args = [s]
                result = [enc(x) for x in a[slice(*s)]]
            elif kind == "setslice":
                s = rand_slice(rng, n)
                vals = [rand_value(rng, code) for _ in range(rng.randint(0, 4))]
                if rng.random() < 0.5:
                    # Often the exact size of the selection, so extended slices succeed.
                    k = len(range(n)[slice(*s)]) if s[2] != 0 else 0
                    vals = [rand_value(rng, code) for _ in range(k)]
                args = [s, [enc(v) for v in vals]]
                a[slice(*s)] = array.array(code, vals)
            elif kind == "delslice":
                s = rand_slice(rng, n)
                args = [s]
                del a[slice(*s)]
            elif kind == "extend":
                vals = [rand_value(rng, code, in_range=False) for _ in range(rng.randint(0, 3))]
                args = [[enc(v) for v in vals]]
                a.fromlist(vals)
            elif kind == "imul":
                k = rng.randint(-1, 3)
                args = [k]
                a *= k
            elif kind == "mul":
                k = rng.randint(-1, 3)
                args = [k]
                result = [enc(x) for x in a * k]
            elif kind == "reverse":
                a.reverse()
            elif kind == "byteswap":
                if code in "fduw":
                    # Swapped floats may be NaNs with payloads and swapped characters invalid
                    # code points; the Rust tests cover byteswap on raw bits.
                    continue
                a.byteswap()
            elif kind == "compare":
                other_code = rng.choice(CODES) if rng.random() < 0.5 else code
                if (other_code in "uw") != (code in "uw") and rng.random() < 0.7:
                    other_code = code
                if rng.random() < 0.5:
                    vals = list(a)
                    if vals and rng.random() < 0.5:
                        vals[rng.randrange(len(vals))] = rand_value(rng, code)
                    if rng.random() < 0.3:
                        vals = vals[: rng.randint(0, len(vals))]
                else:
                    vals = [rand_value(rng, code) for _ in range(rng.randint(0, 4))]
                try:
                    b = array.array(other_code, vals)
                except (OverflowError, TypeError, ValueError):
                    b = array.array(code, vals)
                    other_code = code
                op = rng.choice(["lt", "le", "eq", "ne", "gt", "ge"])
                args = [other_code, [enc(x) for x in b], op]
                import operator
                result = getattr(operator, op)(a, b)
        except (IndexError, ValueError, OverflowError, TypeError) as e:
            error = type(e).__name__
        ops.append(
            {"op": kind, "args": args, "result": result, "error": error,
             "state": [enc(x) for x in a]}
        )
    return {"code": code, "init": [enc(v) for v in init], "ops": ops}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--seed", type=int, default=146007)
    p.add_argument("--sequences", type=int, default=60, help="per type code")
    p.add_argument("--out", default="tests/data/python_traces.json")
    args = p.parse_args()
    rng = random.Random(args.seed)
    traces = [run(rng, code) for code in CODES for _ in range(args.sequences)]
    doc = {
        "python": sys.version.split()[0],
        "seed": args.seed,
        "long_size": array.array("l").itemsize,
        "traces": traces,
    }
    with open(args.out, "w") as f:
        json.dump(doc, f, separators=(",", ":"))
        f.write("\n")
    print(f"{len(traces)} traces, {sum(len(t['ops']) for t in traces)} operations -> {args.out}")


if __name__ == "__main__":
    main()
