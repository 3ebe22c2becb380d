"""hashcore.bench: statistics by hand, the time budget, unavailable paths, pytest-benchmark JSON."""

from __future__ import annotations

import json
import math
import pickle
import random
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hashcore import bench, core
from hashcore.bench import BenchPath, run_bench
from hashcore.benchstats import quartiles, summarize
from hashcore.energy import EstimateMeter, StatedMeter
from hashcore.errors import InputError, ReadError
from hashcore.machine import commit_info, machine_info

HASHLIB_ONLY = [BenchPath("hashlib", "hashlib", None, True, "ok")]


@pytest.fixture
def hashlib_only(monkeypatch):
    """Only the hashlib path is known: fast, and independent of what else is built."""
    monkeypatch.setattr(bench, "list_paths", lambda: list(HASHLIB_ONLY))


# --------------------------------------------------------------------------- statistics

def test_summarize_odd_count_by_hand():
    s = summarize([3, 1, 4, 1, 5])
    assert (s.min, s.max, s.median, s.rounds, s.total) == (1, 5, 3, 5, 14)
    assert s.mean == pytest.approx(2.8)
    # deviations 0.2 -1.8 1.2 -1.8 2.2 -> squares sum 12.8 -> /4 = 3.2
    assert s.stddev == pytest.approx(math.sqrt(3.2))
    # n = 4*1 + 1: Q1 = 0.25*x[0] + 0.75*x[1] = 1, Q3 = 0.75*x[3] + 0.25*x[4] = 4.25
    assert (s.q1, s.q3, s.iqr) == (1.0, 4.25, 3.25)
    assert s.iqr_outliers == 0  # fences at -3.875 and 9.125
    assert s.stddev_outliers == 3  # 1, 1 and 5 lie outside 2.8 +- 1.789
    assert (s.ld15iqr, s.hd15iqr) == (1, 5)
    assert s.data == (3, 1, 4, 1, 5)  # raw samples kept in measured order


def test_summarize_even_count_with_an_outlier_by_hand():
    s = summarize([10, 2, 100, 4, 8, 6])
    assert s.median == 7.0  # (6 + 8) / 2
    assert (s.q1, s.q3, s.iqr) == (4.0, 10.0, 6.0)  # medians of (2,4,6) and (8,10,100)
    assert s.iqr_outliers == 1  # 100 > 10 + 1.5*6 = 19
    assert s.hd15iqr == 10 and s.ld15iqr == 2


def test_quartiles_4k_plus_3_and_single_sample():
    # n = 7 = 4*1 + 3: Q1 = 0.75*x[1] + 0.25*x[2], Q3 = 0.25*x[4] + 0.75*x[5]
    assert quartiles([1, 2, 3, 4, 5, 6, 7]) == (2.25, 5.75)
    one = summarize([2.5])
    assert (one.min, one.max, one.median, one.q1, one.q3, one.stddev) == (2.5,) * 5 + (0.0,)


def test_summarize_agrees_with_pytest_benchmark():
    from pytest_benchmark.stats import Stats as PBStats

    rng = random.Random(4)
    for n in (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 13, 20):
        data = [rng.uniform(0.5, 2.0) for _ in range(n)]
        ours, theirs = summarize(data), PBStats()
        for x in data:
            theirs.update(x)
        for name in ("min", "max", "mean", "stddev", "median", "q1", "q3", "iqr",
                     "ld15iqr", "hd15iqr", "iqr_outliers", "stddev_outliers", "total"):
            assert getattr(ours, name) == pytest.approx(getattr(theirs, name)), (n, name)


def test_summarize_rejects_no_samples():
    with pytest.raises(ValueError):
        summarize([])


# --------------------------------------------------------------------------- the run

def test_rounds_honour_the_time_budget(hashlib_only):
    seconds = 0.6
    t0 = time.perf_counter()
    run = run_bench(["sha256d", "headers"], threads=[1], seconds=seconds, repeat=4,
                    meter=StatedMeter(10))
    wall = time.perf_counter() - t0
    spent = sum(r.calibration_s + r.timed_s for r in run.rows)
    assert spent == pytest.approx(run.options["spent_s"])
    assert 0.4 * seconds <= spent <= 1.35 * seconds, spent  # used, and not overrun
    warmups = sum(r.warmup_s for r in run.rows)
    assert wall < seconds * 1.35 + warmups + 1.0
    for row in run.rows:
        assert row.timed and len(row.sample_seconds) == 4
        assert all(s > 0 for s in row.sample_seconds)
        assert row.hashes == sum(row.sample_hashes) == 4 * row.hashes_per_round


def test_a_bigger_budget_gives_longer_rounds(hashlib_only):
    short = run_bench(["sha256d"], threads=[1], seconds=0.1, repeat=3, meter=StatedMeter(1))
    long = run_bench(["sha256d"], threads=[1], seconds=0.6, repeat=3, meter=StatedMeter(1))
    assert long.rows[0].hashes_per_round > 2 * short.rows[0].hashes_per_round


def test_unavailable_path_is_reported_not_timed(monkeypatch):
    known = HASHLIB_ONLY + [BenchPath("c:avx512", "c", "avx512", False, "cpu lacks avx512f")]
    monkeypatch.setattr(bench, "list_paths", lambda: known)
    used = []
    real_use = core.use
    monkeypatch.setattr(core, "use", lambda b, i=None: used.append((b, i)) or real_use(b, i))
    run = run_bench(["sha256d"], paths=["c:avx512", "hashlib"], threads=[1, 2], seconds=0.2,
                    repeat=2, meter=StatedMeter(1))
    rows = [r for r in run.rows if r.path == "c:avx512"]
    assert [r.threads for r in rows] == [1, 2]
    for r in rows:
        assert r.status == "unavailable: cpu lacks avx512f"
        assert not r.timed and r.sample_seconds == [] and r.joules is None
    assert all(b != "c" for b, _ in used[:-1])  # never switched to it (last: restore)
    doc = run.to_pytest_benchmark_json()
    assert {b["extra_info"]["path"] for b in doc["benchmarks"]} == {"hashlib"}
    assert {(d["path"], d["threads"]) for d in doc["hashcore"]["not_timed"]} == {
        ("c:avx512", 1), ("c:avx512", 2)}


def test_a_backend_that_is_not_loaded_makes_its_paths_unavailable(monkeypatch):
    known = HASHLIB_ONLY + [BenchPath("c", "c", None, False, "not loaded: no extension")]
    chosen = bench.resolve_paths(["c:avx2", "c", "hashlib"], known)
    assert [(p.name, p.available, p.why) for p in chosen] == [
        ("c:avx2", False, "not loaded: no extension"), ("c", False, "not loaded: no extension"),
        ("hashlib", True, "ok")]


def test_unknown_path_and_operation_are_input_errors(hashlib_only):
    with pytest.raises(InputError, match="unknown path 'nosuch'"):
        run_bench(["sha256d"], paths=["nosuch"], seconds=0.1)
    with pytest.raises(InputError, match="unknown operation 'mine'"):
        run_bench(["mine"], seconds=0.1)
    for bad in (dict(threads=[0]), dict(seconds=-1.0), dict(seconds=0.0), dict(repeat=0),
                dict(watts=-3.0), dict(seconds=float("nan"))):
        with pytest.raises(InputError):
            run_bench(["sha256d"], **{"seconds": 0.1, **bad})


def test_parse_int_list():
    assert bench.parse_int_list("1, 2,2,4") == [1, 2, 4]
    for bad in ("0", "1,-2", "x", "1,,2"):
        with pytest.raises(InputError, match="--threads"):
            bench.parse_int_list(bad)


def test_speedups_are_ratios_of_medians_in_the_same_run(hashlib_only):
    run = run_bench(["sha256d"], threads=[1, 2], seconds=0.3, repeat=3, meter=StatedMeter(1))
    one, two = run.row("sha256d", "hashlib", 1), run.row("sha256d", "hashlib", 2)
    assert one.speedup_vs_1_thread == 1.0 and one.speedup_vs_hashlib == 1.0
    assert two.speedup_vs_1_thread == two.median_rate / one.median_rate
    assert two.speedup_vs_hashlib == two.median_rate / one.median_rate


def test_hashlib_reference_is_measured_even_when_not_asked_for(monkeypatch):
    known = HASHLIB_ONLY + [BenchPath("numba", "numba", None, False, "failed: test")]
    monkeypatch.setattr(bench, "list_paths", lambda: known)
    run = run_bench(["sha256d"], paths=["numba"], threads=[2], seconds=0.2, repeat=2,
                    meter=StatedMeter(1))
    ref = run.row("sha256d", "hashlib", 1)
    assert ref is not None and ref.baseline and ref.timed


@pytest.mark.parametrize("op", ["scan", "headers"])
def test_scan_and_headers_rows_are_timed(hashlib_only, op):
    run = run_bench([op], threads=[1], seconds=0.15, repeat=2, batch=64, meter=StatedMeter(1))
    row = run.rows[0]
    assert row.timed and row.threads_used == 1
    assert row.implementation == "hashlib:hashlib"
    if op == "headers":
        assert row.hashes_per_round % 64 == 0


def test_multithread_scan_that_cannot_share_chunks_is_skipped_not_mislabelled(hashlib_only):
    # hashlib's scan chunk is 2**20 nonces: two threads need 2**21 per round (seconds here)
    run = run_bench(["scan"], threads=[1, 2], seconds=0.2, repeat=2, meter=StatedMeter(1))
    two = run.row("scan", "hashlib", 2)
    assert two.status.startswith("skipped: 2 threads need 2,097,152 nonces") and not two.timed


def test_bench_restores_the_previous_backend(hashlib_only):
    before = core.backend().NAME
    run_bench(["sha256d"], threads=[1], seconds=0.05, repeat=1, meter=StatedMeter(1))
    assert core.backend().NAME == before


def test_run_is_picklable_for_cluster_workers(hashlib_only):
    run = run_bench(["sha256d"], threads=[1], seconds=0.05, repeat=2, meter=StatedMeter(1))
    back = pickle.loads(pickle.dumps(run))
    assert back.rows == run.rows and back.machine == run.machine
    assert back.to_pytest_benchmark_json() == run.to_pytest_benchmark_json()


def test_estimate_is_labelled_in_every_json_row(hashlib_only):
    meter = EstimateMeter(100.0, "test TDP", 2)
    run = run_bench(["sha256d", "scan"], threads=[1], seconds=0.1, repeat=2, meter=meter)
    doc = run.to_pytest_benchmark_json()
    assert doc["hashcore"]["energy"]["source"] == "estimate"
    assert doc["benchmarks"]
    for b in doc["benchmarks"]:
        assert b["extra_info"]["energy_source"] == "estimate"
        assert b["extra_info"]["energy_estimate"] is True
        assert b["extra_info"]["joules"] > 0


def test_stated_watts_give_joules_equal_to_watts_times_seconds(hashlib_only):
    run = run_bench(["sha256d"], threads=[1], seconds=0.1, repeat=3, watts=95.0)
    row = run.rows[0]
    assert row.energy_source == "stated" and run.energy["watts"] == 95.0
    for j, s in zip(row.sample_joules, row.sample_seconds, strict=True):
        assert j == 95.0 * s  # exactly, round by round
    assert row.joules == pytest.approx(95.0 * row.timed_s, rel=1e-12)
    assert row.hashes_per_joule == pytest.approx(row.hashes / row.joules)
    assert row.joules_per_th == pytest.approx(row.joules / row.hashes * 1e12)


# --------------------------------------------------------------------------- JSON

@pytest.fixture
def json_file(hashlib_only, tmp_path) -> Path:
    run = run_bench(["sha256d", "headers"], threads=[1, 2], seconds=0.2, repeat=3, batch=32,
                    meter=StatedMeter(50))
    path = tmp_path / "run.json"
    path.write_text(json.dumps(run.to_pytest_benchmark_json(), allow_nan=False))
    return path


def test_json_loads_with_pytest_benchmark_own_loader(json_file):
    from pytest_benchmark.logger import Logger
    from pytest_benchmark.plugin import pytest_benchmark_group_stats
    from pytest_benchmark.storage.file import FileStorage

    storage = FileStorage(json_file.parent, logger=Logger(Logger.QUIET))
    loaded = list(storage.load_benchmarks(str(json_file)))
    assert len(loaded) == 4  # loader skips (with a warning) files it cannot read
    groups = dict(pytest_benchmark_group_stats(config=None, benchmarks=loaded,
                                               group_by="group"))
    assert set(groups) == {"sha256d", "headers"}
    for b in loaded:
        assert b["ops"] == pytest.approx(1 / b["mean"])
        assert b["rounds"] == 3 and len(b["data"]) == 3
        assert b["extra_info"]["joules"] == pytest.approx(50 * b["extra_info"]["seconds"])


def test_pytest_benchmark_compare_command_reads_it(json_file, tmp_path):
    out = subprocess.run([sys.executable, "-m", "pytest_benchmark", "compare", str(json_file),
                          "--group-by", "group"], cwd=tmp_path, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "Failed to load" not in out.stdout + out.stderr
    assert re.search(r"sha256d\[hashlib-t2\]", out.stdout)
    assert "benchmark 'headers'" in out.stdout


def test_json_has_machine_and_commit_info(json_file):
    doc = json.loads(json_file.read_text())
    assert {"machine_info", "commit_info", "benchmarks", "datetime", "version"} <= set(doc)
    m = doc["machine_info"]["hashcore"]
    assert m["cores_usable"] >= 1 and m["python"] and m["numpy"]
    assert doc["commit_info"]["id"]
    entry = doc["benchmarks"][0]
    assert entry["stats"]["iterations"] == entry["extra_info"]["hashes_per_round"]
    assert entry["extra_info"]["rate_per_s"]["median"] == pytest.approx(
        1 / entry["stats"]["median"])


def test_commit_info_outside_a_checkout(tmp_path):
    assert commit_info(tmp_path / "x.py")["id"] == "unversioned"


def test_commit_info_in_this_checkout():
    root = Path(__file__).resolve().parent.parent
    if not (root / ".git").exists():
        pytest.skip("not run from a git checkout")
    assert re.fullmatch(r"[0-9a-f]{40}", commit_info()["id"])


def test_machine_info_has_pytest_benchmark_keys():
    m = machine_info()
    for key in ("node", "processor", "machine", "python_compiler", "python_implementation",
                "python_implementation_version", "python_version", "python_build", "release",
                "system", "cpu"):
        assert key in m
    assert m["cpu"]["count"] >= 1


# --------------------------------------------------------------------------- compare

def test_compare_flags_rows_slower_than_the_threshold(json_file):
    new = json.loads(json_file.read_text())
    old = json.loads(json_file.read_text())
    for b in old["benchmarks"]:
        if b["extra_info"]["threads"] == 2:
            b["extra_info"]["rate_per_s"]["median"] *= 2  # new is half as fast as "old"
    changes = bench.compare(old, new)
    assert len(changes) == 4
    slow = bench.regressions(changes, 10.0)
    assert {(c.operation, c.threads) for c in slow} == {("sha256d", 2), ("headers", 2)}
    assert all(c.change_pct == pytest.approx(-50.0) for c in slow)
    assert bench.regressions(changes, 60.0) == []


def test_load_json_errors_name_the_file(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{\n  nope")
    with pytest.raises(ReadError, match=r"bad.json: line 2 column 3: not JSON"):
        bench.load_json(bad)
    other = tmp_path / "other.json"
    other.write_text("[1, 2]")
    with pytest.raises(ReadError, match="no 'benchmarks' list"):
        bench.load_json(other)
    with pytest.raises(ReadError, match="missing.json: open"):
        bench.load_json(tmp_path / "missing.json")


def test_every_real_path_is_timed_or_reported():
    """Whatever is built here (C paths, numba, hashlib): each is timed or says why not."""
    known = bench.list_paths()
    run = run_bench(["sha256d", "headers"], threads=[1], seconds=0.4, repeat=2, batch=64,
                    meter=StatedMeter(1))
    for p in known:
        for op in ("sha256d", "headers"):
            row = run.row(op, p.name, 1)
            if p.available:
                assert row.timed and row.implementation.startswith(p.backend), row
            else:
                assert row.status == f"unavailable: {p.why}" and not row.timed


def test_progress_reports_each_row_then_done(hashlib_only):
    calls = []
    run_bench(["sha256d", "headers"], threads=[1], seconds=0.1, repeat=1, batch=16,
              meter=StatedMeter(1), progress=lambda *a: calls.append(a))
    assert [c[0] for c in calls] == [0, 1, 2] and all(c[1] == 2 for c in calls)
    assert calls[0][2] == "sha256d hashlib x1" and calls[-1][2] == "done"
