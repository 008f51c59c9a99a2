"""The race script and the conformance harness detect what they claim to detect.

Both are tools whose verdicts later tests rely on ("ftarray held the invariants", "test_array.py
passes"), so each verdict is shown here to come out the other way on a module built to fail.
"""

import importlib.util
import os
import signal
import sys
import threading
import types
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def load(name: str, path: Path) -> types.ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


race = load("ftarray_race", HERE.parent / "examples" / "race.py")
conformance = load("ftarray_conformance", HERE.parent / "conformance" / "run_test_array.py")


def fake_module(array_class) -> types.ModuleType:
    mod = types.ModuleType("fake_array")
    mod.array = array_class
    return mod


class ListArray(list):
    """A list posing as an array, every operation under one lock: sound on any build."""

    def __init__(self, typecode, items=()):
        super().__init__(items)
        self._lock = threading.Lock()

    def __getitem__(self, i):
        with self._lock:
            return super().__getitem__(i)

    def clear(self):
        with self._lock:
            super().clear()

    def extend(self, items):
        items = list(items)  # converted before taking the lock, as ftarray must
        with self._lock:
            super().extend(items)

    def tolist(self):
        with self._lock:
            return list(self)


def test_race_workload_passes_a_sound_module():
    result = race.run_workload(fake_module(ListArray), seconds=0.2)
    assert result["ok"], result
    assert result["reads"] > 0 and result["writes"] > 0
    assert result["final_len"] % 10 == 0 and result["final_len"] >= 10


def test_race_workload_catches_an_invented_value():
    class Lying(ListArray):
        def __getitem__(self, i):
            v = super().__getitem__(i)
            return v + 1 if v == 0 and len(self) > 5 else v

    result = race.run_workload(fake_module(Lying), seconds=0.2)
    assert not result["ok"]
    assert result["bad_reads"] > 0 and result["bad_values"][0] == "1"


def test_race_workload_catches_a_lost_extend():
    class Lossy(ListArray):
        def extend(self, items):
            super().extend(list(items)[:-1])  # drops the last item of every extend

    result = race.run_workload(fake_module(Lossy), seconds=0.2)
    assert not result["ok"]


def test_race_workload_catches_an_unexpected_exception():
    class Raising(ListArray):
        def clear(self):
            raise RuntimeError("boom")

    result = race.run_workload(fake_module(Raising), seconds=0.2)
    assert not result["ok"]
    assert any("boom" in e for e in result["exceptions"])


def test_race_child_reports_the_signal_of_a_crash(tmp_path, monkeypatch):
    # A module whose import kills the process the way the standard module dies on 3.13t.
    (tmp_path / "segv_array.py").write_text(
        "import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)\n")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    args = race.main.__globals__["argparse"].Namespace(
        seconds=0.1, writers=1, readers=1, index=0, typecode="i", timeout=60.0)
    result = race.run_child("segv_array", args)
    assert result["status"] == "crashed"
    assert result["signal"] == signal.Signals.SIGSEGV.name


def test_race_child_reports_a_missing_module():
    args = race.main.__globals__["argparse"].Namespace(
        seconds=0.1, writers=1, readers=1, index=0, typecode="i", timeout=60.0)
    assert race.run_child("no_such_module_here", args)["status"] == "not installed"


def test_race_table_end_to_end_on_the_standard_module(capsys):
    # The standard module may crash or hang on 3.13t: only the table's presence is checked.
    assert race.main(["--modules", "array", "--runs", "1", "--seconds", "0.2",
                      "--timeout", "10"]) in (0, 1)
    out = capsys.readouterr().out
    assert "#146007 workload" in out and "\narray " in out


def test_conformance_swap_points_both_imports_at_the_module():
    source = "import unittest\nimport array\nfrom array import _array_reconstructor as r\n"
    swapped, n = conformance.swap_import(source, "ftarray")
    assert n == 2
    assert swapped == ("import unittest\nimport ftarray as array\n"
                       "from ftarray import _array_reconstructor as r\n")
    assert conformance.swap_import(source, "array") == (source, 0)


def test_conformance_swap_refuses_an_import_it_cannot_rewrite():
    with pytest.raises(ValueError, match="still imports"):
        conformance.swap_import("import array\nimport os, array\n", "ftarray")
    with pytest.raises(ValueError, match="still imports"):
        conformance.swap_import("import array\nx = __import__('array')\n", "ftarray")
    with pytest.raises(ValueError, match="no `import array`"):
        conformance.swap_import("import os\n", "ftarray")


def test_conformance_swap_covers_this_interpreters_test_array():
    with open(conformance.stdlib_test_file(), encoding="utf-8") as f:
        _, n = conformance.swap_import(f.read(), "ftarray")
    assert n == 2


def test_conformance_harness_reports_failures_of_a_broken_module(tmp_path, monkeypatch):
    # The standard module with one method broken: the harness must say so and exit 1.
    (tmp_path / "broken_array.py").write_text(
        "import array as _a\n"
        "from array import *\n"
        "from array import _array_reconstructor\n"
        "class array(_a.array):\n"
        "    def reverse(self):\n"
        "        pass\n"
        "ArrayType = array\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    out_json = tmp_path / "counts.json"
    status = conformance.main(["--module", "broken_array", "-k", "reverse",
                               "--json", str(out_json)])
    import json

    counts = json.loads(out_json.read_text())
    assert status == 1
    assert counts["failed"] + counts["errors"] > 0
    assert any("reverse" in t for t in counts["failing"])


def test_conformance_skips_only_the_listed_tests_and_counts_them_as_skipped(tmp_path, monkeypatch):
    # A stand-in module that is the standard one under another name: only the documented
    # known differences are skipped (never counted as passed), everything else runs.
    (tmp_path / "same_array.py").write_text(
        "from array import *\nfrom array import _array_reconstructor\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    out_json = tmp_path / "counts.json"
    status = conformance.main(["--module", "same_array", "-k", "sizeof", "-k", "test_len",
                               "--json", str(out_json)])
    import json

    counts = json.loads(out_json.read_text())
    assert status == 0
    assert counts["skipped"] > 0 and counts["passed"] > 0
    assert all(reason.startswith("ftarray: ") for reason in counts["skip_reasons"])
    assert counts["skipped"] == counts["run"] - counts["passed"]
    # Against the standard module itself nothing is skipped.
    status = conformance.main(["--module", "array", "-k", "sizeof", "--json", str(out_json)])
    assert status == 0 and json.loads(out_json.read_text())["skipped"] == 0
