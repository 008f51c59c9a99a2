"""Concurrency: many threads on one `ftarray.array`, checked by the values they see.

These run on every interpreter; on free-threaded 3.13 ("3.13t") the threads really run at the
same time, which is what they are for (on GIL builds they interleave at bytecode boundaries and
in the detached bulk operations). Each asserts an invariant that a broken array would violate:
a value that was never stored at an index, a lost or torn update, a resize that happened while
a buffer was exported, a final state no order of the operations gives.
"""

from __future__ import annotations

import importlib.util
import io
import itertools
import os
import sys
import sysconfig
import threading
import time
from pathlib import Path

import pytest

import ftarray

FREE_THREADED = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))
HERE = Path(__file__).resolve().parent
# Enough rounds to see interleavings on 3.13t, few enough for a 2-core CI box.
SECONDS = float(os.environ.get("FTARRAY_STRESS_SECONDS", "1.0"))


def load_race():
    spec = importlib.util.spec_from_file_location("ftarray_race", HERE.parent / "examples" / "race.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def clear(a):
    a.clear() if hasattr(a, "clear") else a.__delitem__(slice(None))


def run_threads(targets, timeout=60):
    """Starts one thread per callable, all released together; re-raises the first failure."""
    barrier = threading.Barrier(len(targets))
    errors = []

    def wrap(f):
        def run():
            barrier.wait()
            try:
                f()
            except BaseException as e:  # noqa: BLE001
                errors.append(e)

        return run

    threads = [threading.Thread(target=wrap(f)) for f in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
        assert not t.is_alive(), "a thread did not finish: deadlock or livelock"
    if errors:
        raise errors[0]


def test_gh146007_four_writers_four_readers_hold_the_invariants():
    race = load_race()
    result = race.run_workload(ftarray, seconds=SECONDS, writers=4, readers=4)
    assert result["ok"], result
    assert result["reads"] > 0 and result["writes"] > 0


# --- CPython gh-128942's barrier reproducer, with the final state checked ----------------------


def sequential_outcomes(initial, ops):
    """Every final list that some order of `ops` (list -> None functions) gives."""
    outcomes = set()
    for order in itertools.permutations(ops):
        items = list(initial)
        for op in order:
            op(items)
        outcomes.add(tuple(items))
    return outcomes


def list_pop(items):
    if items:
        items.pop()


def make(op):
    """(op on an ftarray array, the same op on a list)."""
    name, arg = op
    if name == "pop":
        return (lambda a: _pop(a)), list_pop
    if name == "append":
        return (lambda a: a.append(arg)), (lambda l: l.append(arg))
    if name == "insert":
        return (lambda a: a.insert(0, arg)), (lambda l: l.insert(0, arg))
    if name == "extend":
        return (lambda a: a.extend(ftarray.array("i", [arg, arg]))), (lambda l: l.extend([arg, arg]))
    if name == "iadd":
        def iadd(a):
            a += ftarray.array("i", [arg])
        return iadd, (lambda l: l.extend([arg]))
    if name == "imul":
        def imul(a):
            a *= 2
        return imul, (lambda l: l.extend(list(l)))
    if name == "clear":
        return clear, (lambda l: l.clear())
    if name == "reverse":
        return (lambda a: a.reverse()), (lambda l: l.reverse())
    raise AssertionError(name)


def _pop(a):
    try:
        a.pop()
    except IndexError:
        pass


MIXES = [
    [("pop", None)] * 6,
    [("append", 2)] * 6,
    [("insert", 3)] * 6,
    [("extend", 4)] * 4,
    [("pop", None), ("append", 2), ("insert", 3), ("extend", 4), ("iadd", 5)],
    [("imul", None), ("append", 2), ("pop", None), ("clear", None)],
    [("imul", None), ("imul", None), ("insert", 3), ("reverse", None)],
    [("clear", None), ("extend", 4), ("iadd", 5), ("pop", None), ("insert", 3)],
]


@pytest.mark.parametrize("mix", MIXES, ids=lambda m: "+".join(n for n, _ in m))
def test_gh128942_barrier_races_end_in_a_sequential_outcome(mix):
    rounds = 60 if FREE_THREADED else 15
    funcs = [make(op) for op in mix]
    allowed = sequential_outcomes([1], [f[1] for f in funcs])
    for _ in range(rounds):
        a = ftarray.array("i", [1])
        run_threads([lambda f=f: f[0](a) for f in funcs])
        assert tuple(a.tolist()) in allowed, (mix, a.tolist())


class TornExtend(list):
    """A control: an array whose `extend` is two steps, with a hand-off between them so that
    another thread's operation lands in the middle."""

    midway = None
    resume = None

    def extend(self, items):
        items = list(items)
        super().extend(items[:1])
        self.midway.set()
        assert self.resume.wait(10)
        super().extend(items[1:])


def test_control_the_outcome_check_rejects_a_torn_extend():
    a = TornExtend([1])
    a.midway, a.resume = threading.Event(), threading.Event()

    def other():
        assert a.midway.wait(10)
        a.reverse()
        a.resume.set()

    run_threads([lambda: a.extend([4, 4]), other])
    allowed = sequential_outcomes([1], [lambda l: l.extend([4, 4]), lambda l: l.reverse()])
    assert tuple(a) == (4, 1, 4)
    assert tuple(a) not in allowed


# --- buffer exports against resizes ------------------------------------------------------------


def test_memoryview_storms_against_resizing_threads():
    a = ftarray.array("q", [7] * 64)
    stop = threading.Event()
    done = {"append": 0, "pop": 0, "refused": 0}
    lock = threading.Lock()

    def viewer():
        while not stop.is_set():
            with memoryview(a) as m:
                n = len(m)
                # While the view lives, the length cannot change and every element is a 7.
                assert m.tolist() == [7] * n
                assert len(a) == n
                assert m.nbytes == n * 8 and m.format == "q" and not m.readonly

    def resizer(kind):
        def run():
            mine = {"ok": 0, "refused": 0}
            while not stop.is_set():
                try:
                    if kind == "append":
                        a.append(7)
                    else:
                        a.pop()
                    mine["ok"] += 1
                except BufferError as e:
                    assert str(e) == "cannot resize an array that is exporting buffers"
                    mine["refused"] += 1
                except IndexError:
                    pass
            with lock:
                done[kind] += mine["ok"]
                done["refused"] += mine["refused"]
        return run

    def stopper():
        time.sleep(SECONDS)
        stop.set()

    run_threads([viewer, viewer, resizer("append"), resizer("pop"), stopper])
    # A refused resize changed nothing: the length is exactly what the successes made it.
    assert len(a) == 64 + done["append"] - done["pop"]
    assert a.tolist() == [7] * len(a)
    # Nothing left exported: a resize works now.
    a.append(7)


# --- iteration against growth and shrinking --------------------------------------------------


def test_one_iterator_shared_by_threads_gives_each_position_once():
    # Three threads take elements from one iterator while a writer appends (every state has
    # a[i] == i) and rewrites elements in place with the same values (each write invalidates
    # the run the iterator read). Together they must get positions 0..k-1, each exactly once:
    # on a free-threaded build the iterator's reading state is used by one `next` at a time
    # and the others read with a pin, and no position may be lost or given twice.
    for _ in range(3):
        a = ftarray.array("q", range(20_000))
        it = iter(a)
        taken = [[] for _ in range(3)]
        finished = []

        def writer():
            n = 0
            while len(finished) < len(taken) and len(a) < 400_000:
                n += 1
                if n % 2:
                    a.append(len(a))
                else:
                    i = n % len(a)
                    a[i] = i

        def taker(out):
            def run():
                for x in it:
                    out.append(x)
                finished.append(True)
            return run

        run_threads([writer, *(taker(out) for out in taken)])
        values = [x for out in taken for x in out]
        assert len(values) == len(set(values)), "a position was given twice"
        assert set(values) == set(range(len(values))), "a position was skipped"
        assert next(it, None) is None, "an exhausted iterator stays exhausted"


def test_iteration_racing_append_and_extend_sees_only_values_at_their_index():
    # Every state of this array has a[i] == i: one writer grows it with the next indices
    # (append, extend) and shrinks it from the end (pop, truncation). So any value an
    # iterator yields at position i must be i.
    a = ftarray.array("q", range(100))
    stop = threading.Event()
    seen = {"values": 0}

    def writer():
        n = 0
        while not stop.is_set():
            n += 1
            step = n % 4
            if step == 0:
                a.append(len(a))
            elif step == 1:
                k = len(a)
                a.extend(range(k, k + 50))
            elif step == 2 and len(a) > 10:
                a.pop()
            elif len(a) > 200:
                del a[150:]

    def reader():
        count = 0
        while not stop.is_set():
            for i, x in enumerate(a):
                assert x == i, (i, x)
                count += 1
            for i in range(0, 300, 7):
                try:
                    assert a[i] == i
                except IndexError:
                    pass
        seen["values"] += count

    def stopper():
        time.sleep(SECONDS)
        stop.set()

    run_threads([writer, reader, reader, stopper])
    assert seen["values"] > 0


def test_extend_from_an_array_another_thread_rewrites_appends_one_whole_state():
    # Every state of `b` is one value k repeated, at one of a set of lengths: one thread
    # rewrites all of it in place (same length, one step) and, every eighth time, at a new
    # length. `a.extend(b)` and `a += b` (copied straight from b's storage into a's, inside
    # one validated read of b, published only if b is still as read) must each append exactly
    # one such state, never a mix of two. With both the read's validation and the publishing
    # check planted out, 970 of 700,000 appends were mixed in 3 s on 3.13t. `a` both has room
    # (its tail deleted between rounds, which keeps the capacity) and has to grow (`fresh`).
    def length(k):
        return 1 + (k * 389) % 1000  # at most 8,000 bytes: a rewrite of this size is in place

    lengths = {length(j) for j in range(0, 8000, 8)}
    b = ftarray.array("q", [0] * length(0))
    stop = threading.Event()
    checked = {"appends": 0}

    def writer():
        k = 0
        while not stop.is_set():
            k += 1
            b[:] = ftarray.array("q", [k]) * (length(k) if k % 8 == 0 else len(b))

    def check(part):
        assert len(part) in lengths and part.count(part[0]) == len(part), (
            f"appended {len(part)} elements, {part.count(part[0])} of them {part[0]}: not one state"
        )

    def extender():
        a = ftarray.array("q", [-1])
        count = 0
        while not stop.is_set():
            for op in (ftarray.array.extend, ftarray.array.__iadd__):
                del a[1:]
                op(a, b)
                assert a[0] == -1
                check(a[1:])
                count += 1
            fresh = ftarray.array("q")
            fresh.extend(b)
            check(fresh)
            count += 1
        checked["appends"] += count

    def stopper():
        time.sleep(SECONDS)
        stop.set()

    run_threads([writer, extender, stopper])
    assert checked["appends"] > 0


def test_tofile_racing_clear_writes_a_whole_snapshot():
    length = 5000
    a = ftarray.array("i", [5] * length)
    stop = threading.Event()

    def churn():
        while not stop.is_set():
            clear(a)
            a.extend([5] * length)

    def writer_to_file():
        files = 0
        while not stop.is_set():
            f = io.BytesIO()
            a.tofile(f)
            data = f.getvalue()
            # One instant of the array: empty, or all of it; never a torn prefix.
            assert len(data) in (0, 4 * length), len(data)
            assert ftarray.array("i", data).tolist() == [5] * (len(data) // 4)
            files += 1
        assert files > 0

    def stopper():
        time.sleep(SECONDS)
        stop.set()

    run_threads([churn, writer_to_file, writer_to_file, stopper])


def test_eight_byte_elements_are_never_seen_torn():
    # Readers must never see a torn 8-byte element: each writer stores one of two patterns.
    a = ftarray.array("Q", [0] * 16)
    patterns = (0x0123456789ABCDEF, 0xFEDCBA9876543210)
    stop = threading.Event()

    def writer(p):
        def run():
            while not stop.is_set():
                for i in range(16):
                    a[i] = p
        return run

    def reader():
        while not stop.is_set():
            for x in a.tolist():
                assert x in (0,) + patterns, hex(x)
            for x in memoryview(a).tolist():
                assert x in (0,) + patterns, hex(x)

    def stopper():
        time.sleep(SECONDS)
        stop.set()

    run_threads([writer(patterns[0]), writer(patterns[1]), reader, stopper])


@pytest.mark.parametrize("code, ones", [("I", 0xFFFFFFFF), ("H", 0xFFFF)])
def test_frombytes_of_a_live_view_never_tears_an_element(code, ones):
    # Issue 20: `b.frombytes(memoryview(a))` racing `a[2] = x` loaded the bytes outside whole
    # 8-byte units one at a time, so `b` could receive half of one store and half of the next
    # (0x00ffffff). Element 2 lies in the copy's partial last unit; the view from element 1
    # starts in a partial unit too. Each element copied must be 0 or all ones.
    a = ftarray.array(code, [0, 0, 0])
    stop = threading.Event()
    torn = []
    copies = [0]

    def writer():
        while not stop.is_set():
            for _ in range(1000):
                a[2] = ones
                a[2] = 0

    def copier(view):
        def run():
            b = ftarray.array(code)
            # Tears were rare (a few per million copies on 3.13t): run longer where the
            # threads really overlap.
            deadline = time.monotonic() + SECONDS * (3 if FREE_THREADED else 1)
            try:
                while time.monotonic() < deadline:
                    for _ in range(1000):
                        b.frombytes(view)
                    torn.extend(hex(x) for x in b if x != 0 and x != ones)
                    copies[0] += 1000
                    del b[:]
            finally:
                stop.set()

        return run

    with memoryview(a) as m, m.cast("B") as whole, whole[a.itemsize :] as tail:
        run_threads([writer, copier(whole), copier(tail)])
    assert not torn, f"{len(torn)} torn elements in {copies[0]} copies: {torn[:5]}"
    a.append(1)  # every view is released


# --- re-entrant callbacks: Python code that empties the array mid-operation -------------------


class ClearsOnIndex:
    def __init__(self, a, value):
        self.a, self.value = a, value

    def __index__(self):
        clear(self.a)
        return self.value


class ClearsOnFloat:
    def __init__(self, a, value):
        self.a, self.value = a, value

    def __float__(self):
        clear(self.a)
        return self.value


class ClearsOnEq:
    def __init__(self, a):
        self.a = a

    def __eq__(self, other):
        clear(self.a)
        return other == 3

    __hash__ = None


def test_setitem_with_a_value_that_clears_the_array():
    a = ftarray.array("i", range(10))
    with pytest.raises(IndexError, match="array assignment index out of range"):
        a[5] = ClearsOnIndex(a, 42)
    assert a.tolist() == []
    a = ftarray.array("d", range(10))
    with pytest.raises(IndexError):
        a[-1] = ClearsOnFloat(a, 1.5)
    assert a.tolist() == []


def test_setitem_with_an_index_that_clears_the_array():
    a = ftarray.array("i", range(10))
    with pytest.raises(IndexError):
        a[ClearsOnIndex(a, 5)] = 1
    assert a.tolist() == []


def test_append_insert_with_values_that_clear_the_array():
    a = ftarray.array("i", range(10))
    a.append(ClearsOnIndex(a, 42))
    assert a.tolist() == [42]
    a = ftarray.array("i", range(10))
    a.insert(ClearsOnIndex(a, 3), ClearsOnIndex(a, 7))
    assert a.tolist() == [7]


def test_fromlist_and_extend_with_items_that_clear_the_array():
    a = ftarray.array("i", range(10))
    a.fromlist([1, ClearsOnIndex(a, 2), 3])
    assert a.tolist() == [1, 2, 3]

    a = ftarray.array("i", range(10))

    def items():
        yield 1
        clear(a)
        yield 2

    a.extend(items())
    assert a.tolist() == [1, 2]

    a = ftarray.array("i", range(10))
    a.extend([ClearsOnIndex(a, 5)] * 3)
    assert a.tolist() == [5, 5, 5]


def test_slice_assignment_and_deletion_with_bounds_that_clear_the_array():
    a = ftarray.array("i", range(10))
    a[ClearsOnIndex(a, 2):ClearsOnIndex(a, 8)] = ftarray.array("i", [9, 9])
    assert a.tolist() == [9, 9]
    a = ftarray.array("i", range(10))
    del a[ClearsOnIndex(a, 1)::2]
    assert a.tolist() == []
    a = ftarray.array("i", range(10))
    assert a[ClearsOnIndex(a, 0):] == ftarray.array("i")


def test_searches_with_eq_that_clears_the_array():
    a = ftarray.array("i", [1, 2, 3, 4])
    assert a.index(ClearsOnEq(a)) == 2  # found in the snapshot the search was made on
    assert a.tolist() == []
    a = ftarray.array("i", [1, 2, 3, 4])
    assert a.count(ClearsOnEq(a)) == 1
    a = ftarray.array("i", [1, 2, 3, 4])
    assert ClearsOnEq(a) in a
    a = ftarray.array("i", [1, 2, 3, 4])
    a.remove(ClearsOnEq(a))  # removes position 2 of an array that is empty by then
    assert a.tolist() == []


def test_a_callback_blocked_on_another_thread_that_writes_the_array_does_not_deadlock():
    # If ftarray converted the value while holding the array's lock, the other thread's
    # clear() would wait for the lock and the callback would wait for the clear: deadlock.
    a = ftarray.array("i", range(10))
    cleared = threading.Event()

    class WaitsForClear:
        def __index__(self):
            assert cleared.wait(30)
            return 7

    def set_it():
        with pytest.raises(IndexError):
            a[3] = WaitsForClear()
        a.append(WaitsForClear())

    def clear_it():
        time.sleep(0.05)
        clear(a)
        cleared.set()

    run_threads([set_it, clear_it], timeout=60)
    assert a.tolist() == [7]


@pytest.mark.skipif(not FREE_THREADED, reason="needs a free-threaded (3.13t) interpreter")
def test_threads_keep_the_gil_off():
    run_threads([lambda: ftarray.array("i", range(100)).tolist()] * 4)
    assert sys._is_gil_enabled() is False


def ran_during(call, tries=5):
    """For each of `tries` calls of `call()`: whether another Python thread ran in the middle
    third of it (a millisecond inside that window in which its loop ran). On a GIL build that
    can only happen if the call released the GIL; a hand-over of the GIL just before or after
    the call (a bytecode boundary) falls outside the window, except now and then on a loaded
    machine, which is why the verdicts look at several calls."""
    ticks = set()  # the milliseconds (perf_counter) in which the other thread ran
    stop = threading.Event()

    def spin():
        while not stop.is_set():
            ticks.add(int(time.perf_counter() * 1000))

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-4)  # short hand-overs around the call
    t = threading.Thread(target=spin)
    t.start()
    verdicts = []
    try:
        while not ticks:
            time.sleep(0.001)
        for _ in range(tries):
            t0 = time.perf_counter()
            call()
            t1 = time.perf_counter()
            lo, hi = t0 + (t1 - t0) / 3, t1 - (t1 - t0) / 3
            window = range(int(lo * 1000) + 1, int(hi * 1000))
            verdicts.append(any(ms in ticks for ms in window))
    finally:
        stop.set()
        t.join()
        sys.setswitchinterval(interval)
    return verdicts


@pytest.mark.skipif(FREE_THREADED, reason="on a GIL build: shows the GIL is released")
@pytest.mark.parametrize("op", ["tobytes", "reverse", "copy", "count"])
def test_long_bulk_operations_let_other_threads_run(op):
    # ftarray detaches from the interpreter for bulk work above 256 KiB. 64 MB of bytes:
    # each call lasts tens of milliseconds, long against thread wake-ups on a loaded machine.
    big = ftarray.array("B", bytes(64_000_000))
    calls = {"tobytes": big.tobytes, "reverse": big.reverse, "copy": big.__copy__,
             "count": lambda: big.count(1)}
    verdicts = ran_during(calls[op])
    assert sum(verdicts) >= 3, verdicts


@pytest.mark.skipif(FREE_THREADED, reason="on a GIL build: shows the GIL is held")
def test_control_the_standard_type_holds_the_gil_during_bulk_work():
    import array as std

    big = std.array("B", bytes(64_000_000))
    verdicts = ran_during(big.reverse)
    assert sum(verdicts) <= 2, verdicts


def test_random_mix_from_many_threads_never_invents_a_value():
    # Every value ever stored is 1, 2 or 3, so every value read anywhere must be one of them;
    # the only exceptions allowed are the ones the operation documents for its inputs.
    import random

    a = ftarray.array("h", [1, 2, 3] * 10)
    allowed = {1, 2, 3}
    stop = threading.Event()
    counts = {"ops": 0}
    tally = threading.Lock()

    def check(values):
        bad = set(values) - allowed
        assert not bad, bad

    def worker(seed):
        def run():
            rng = random.Random(seed)
            n = 0
            while not stop.is_set():
                v = rng.choice((1, 2, 3))
                op = rng.randrange(17)
                try:
                    if op == 0:
                        a.append(v)
                    elif op == 1:
                        a.extend([v] * rng.randrange(5))
                    elif op == 2:
                        a.pop(rng.randrange(-3, 3))
                    elif op == 3:
                        a.insert(rng.randrange(-5, 5), v)
                    elif op == 4:
                        a.remove(v)
                    elif op == 5:
                        a.reverse()
                    elif op == 6:
                        a[rng.randrange(-5, 5)] = v
                    elif op == 7:
                        del a[rng.randrange(-5, 5)]
                    elif op == 8:
                        a[1:3] = ftarray.array("h", [v] * rng.randrange(4))
                    elif op == 9 and len(a) > 200:
                        clear(a)
                    elif op == 10:
                        check(a.tolist())
                    elif op == 11:
                        check(ftarray.array("h", a.tobytes()).tolist())
                    elif op == 12:
                        b = a[:]  # a private copy: count and tolist see the same elements
                        assert b.count(v) == b.tolist().count(v)
                    elif op == 13:
                        check(list(a))
                    elif op == 14:
                        with memoryview(a) as m:
                            check(m.tolist())
                    elif op == 15:
                        check([a[i] for i in range(-3, 3) if -len(a) <= i < len(a)])
                    else:
                        check(a[::2].tolist() + list(reversed(a[:5])))
                except (IndexError, BufferError):
                    pass
                except ValueError as e:
                    assert "not in array" in str(e), e
                n += 1
            with tally:
                counts["ops"] += n
        return run

    def stopper():
        time.sleep(SECONDS)
        stop.set()

    run_threads([worker(s) for s in range(4)] + [stopper])
    check(a.tolist())
    assert counts["ops"] > 0
