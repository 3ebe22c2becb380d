"""Measured hashing throughput on this host: per operation, path and thread count.

The method, in the spirit of pytest-benchmark and hyperfine:

1. Warm-up: one small call per row, untimed (Numba compiles, buffers are touched, thread
   pools start). Its cost is reported, never counted.
2. Calibration: the round size grows until one round lasts the row's round target (the
   row's share of ``seconds`` divided by ``repeat``, at least ``min_round_s``).
3. ``repeat`` timed rounds; each is one sample of hashes/second. Energy is read around
   every round (see :mod:`hashcore.energy`).

``seconds`` is the budget for calibration plus timed rounds of the whole run; each row gets
the remaining budget divided by the rows still to run. The reference for "x hashlib" is
the hashlib loop (:data:`BASELINE_PATH`, the plain Python loop over ``hashlib.sha256`` in
``hashcore/backends/reference.py``), measured with one thread in the same run.

Everything here is a plain function over picklable data, so a cluster can run
:func:`run_bench` on its workers and ship the :class:`BenchRun` back.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hashcore import core
from hashcore._version import __version__
from hashcore.benchstats import Stats, summarize
from hashcore.energy import DEFAULT_POWERCAP, Meter, choose_meter
from hashcore.errors import BackendUnavailable, HashcoreError, InputError, ReadError
from hashcore.machine import commit_info, machine_info, now_utc

OPERATIONS = ("scan", "headers", "sha256d")
UNITS = {"scan": "nonces", "headers": "headers", "sha256d": "calls"}
BASELINE_PATH = "hashlib"  # the hashlib loop every speed-up is measured against
MIN_ROUND_S = 0.005
HEADERS_BATCH = 4096  # headers per hash_headers call (320 KB; bench/ varies it)
SCAN_BITS = 0x1D00FFFF  # difficulty 1: practically no hits, so no time goes to reporting them
DEFAULT_SECONDS = 10.0
DEFAULT_REPEAT = 5
# A deterministic, arbitrary 80-byte header: the content does not change the work done.
BENCH_HEADER = hashlib.sha256(b"hashcore bench header").digest() * 2 + bytes(16)
_MAX_SCAN_COUNT = 1 << 31
_CALIBRATION_ROUNDS = 3  # calibration costs about this many rounds' worth of a row's budget

Progress = Callable[[int, int, str], None]  # (rows done, rows in all, what runs now)


# --------------------------------------------------------------------------- paths

@dataclass(frozen=True)
class BenchPath:
    """A hashing path as the benchmark names it: ``c:avx512``, ``numba``, ``hashlib``."""

    name: str
    backend: str
    impl: str | None  # None: the backend's own choice
    available: bool
    why: str  # the self-test result, or why it cannot run


def list_paths() -> list[BenchPath]:
    """Every path hashcore knows, available or not (this imports numba)."""
    out = []
    for imp in core.available_implementations():
        own = imp.name == imp.backend
        out.append(BenchPath(imp.backend if own else f"{imp.backend}:{imp.name}", imp.backend,
                             None if own else imp.name, imp.available, imp.selftest))
    return out


def resolve_paths(names: Sequence[str] | None, known: list[BenchPath]) -> list[BenchPath]:
    """The paths asked for (default: all known), unknown names rejected, order kept."""
    if names is None:
        return list(known)
    by_name = {p.name: p for p in known}
    backends = {p.backend: p for p in known}
    out: list[BenchPath] = []
    for raw in names:
        name = raw.strip().lower()
        if name in by_name:
            path = by_name[name]
        elif name in backends:  # a backend alone: its dispatcher's choice
            ref = backends[name]
            loaded = any(p.backend == name and p.available for p in known)
            path = BenchPath(name, name, None, loaded, "ok" if loaded else ref.why)
        elif name.partition(":")[0] in backends and not any(
                p.available for p in known if p.backend == name.partition(":")[0]):
            ref = backends[name.partition(":")[0]]
            path = BenchPath(name, ref.backend, name.partition(":")[2], False, ref.why)
        else:
            choices = ", ".join(sorted(by_name))
            raise InputError(f"unknown path '{raw}' (known: {choices})")
        if path.name not in {p.name for p in out}:
            out.append(path)
    return out


# --------------------------------------------------------------------------- results

@dataclass
class Row:
    """One (operation, path, threads): its samples, or why it was not timed."""

    operation: str
    path: str
    threads: int
    status: str = "ok"  # "ok", "unavailable: ...", "skipped: ..."
    implementation: str = ""
    baseline: bool = False  # measured only as the hashlib reference, not asked for
    hashes_per_round: int = 0
    sample_hashes: list[int] = field(default_factory=list)
    sample_seconds: list[float] = field(default_factory=list)
    sample_joules: list[float] = field(default_factory=list)
    threads_used: int = 0
    warmup_s: float = 0.0
    calibration_s: float = 0.0
    energy_source: str = ""
    energy_suspect: str | None = None
    wraps: int = 0
    speedup_vs_1_thread: float | None = None
    speedup_vs_hashlib: float | None = None

    @property
    def timed(self) -> bool:
        return self.status == "ok" and bool(self.sample_seconds)

    @property
    def unit(self) -> str:
        return UNITS[self.operation]

    @property
    def timed_s(self) -> float:
        return math.fsum(self.sample_seconds)

    @property
    def hashes(self) -> int:
        return sum(self.sample_hashes)

    @property
    def rate_stats(self) -> Stats:
        """Hashes (nonces, headers, calls) per second, one sample per round."""
        pairs = zip(self.sample_hashes, self.sample_seconds, strict=True)
        return summarize([h / s for h, s in pairs])

    @property
    def time_stats(self) -> Stats:
        """Seconds per hash, one sample per round (pytest-benchmark's view: lower is better)."""
        pairs = zip(self.sample_hashes, self.sample_seconds, strict=True)
        return summarize([s / h for h, s in pairs])

    @property
    def median_rate(self) -> float:
        return self.rate_stats.median

    @property
    def joules(self) -> float | None:
        return math.fsum(self.sample_joules) if self.sample_joules else None

    @property
    def hashes_per_joule(self) -> float | None:
        j = self.joules
        return self.hashes / j if j else None

    @property
    def joules_per_th(self) -> float | None:
        j = self.joules
        return j / self.hashes * 1e12 if j is not None and self.hashes else None

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.operation, self.path, self.threads)


@dataclass
class BenchRun:
    """A whole benchmark run: its rows, and the machine, commit and options beside them."""

    rows: list[Row]
    machine: dict
    commit: dict
    datetime: str
    options: dict
    energy: dict
    elapsed_s: float

    def row(self, operation: str, path: str, threads: int) -> Row | None:
        return next((r for r in self.rows if r.key == (operation, path, threads)), None)

    def to_pytest_benchmark_json(self) -> dict:
        """pytest-benchmark's schema; our fields in each ``extra_info`` and under ``hashcore``."""
        benchmarks = []
        for row in self.rows:
            if row.timed:
                benchmarks.append(_benchmark_entry(row, self.energy))
        return {
            "machine_info": self.machine,
            "commit_info": self.commit,
            "benchmarks": benchmarks,
            "datetime": self.datetime,
            "version": __version__,
            "hashcore": {
                "generator": f"hashcore bench {__version__}",
                "options": self.options,
                "energy": self.energy,
                "elapsed_s": self.elapsed_s,
                "not_timed": [{"operation": r.operation, "path": r.path, "threads": r.threads,
                               "status": r.status} for r in self.rows if not r.timed],
            },
        }


def _benchmark_entry(row: Row, energy: dict) -> dict:
    stats = row.time_stats
    rates = row.rate_stats
    stats_json = {
        "min": stats.min, "max": stats.max, "mean": stats.mean, "stddev": stats.stddev,
        "rounds": stats.rounds, "median": stats.median, "iqr": stats.iqr, "q1": stats.q1,
        "q3": stats.q3, "iqr_outliers": stats.iqr_outliers,
        "stddev_outliers": stats.stddev_outliers,
        "outliers": f"{stats.stddev_outliers};{stats.iqr_outliers}",
        "ld15iqr": stats.ld15iqr, "hd15iqr": stats.hd15iqr,
        "ops": 1 / stats.mean if stats.mean else 0.0, "total": stats.total,
        "data": list(stats.data), "iterations": row.hashes_per_round,
    }
    param = f"{row.path}-t{row.threads}"
    return {
        "group": row.operation,
        "name": f"{row.operation}[{param}]",
        "fullname": f"hashcore bench::{row.operation}[{param}]",
        "params": {"path": row.path, "threads": row.threads},
        "param": param,
        "stats": stats_json,
        "extra_info": {
            "operation": row.operation, "path": row.path, "threads": row.threads,
            "threads_used": row.threads_used, "implementation": row.implementation,
            "unit": row.unit, "baseline": row.baseline,
            "hashes": row.hashes, "hashes_per_round": row.hashes_per_round,
            "seconds": row.timed_s,
            "rate_per_s": {"min": rates.min, "median": rates.median, "max": rates.max,
                           "mean": rates.mean, "stddev": rates.stddev, "iqr": rates.iqr},
            "sample_hashes": row.sample_hashes, "sample_seconds": row.sample_seconds,
            "sample_joules": row.sample_joules,
            "joules": row.joules, "hashes_per_joule": row.hashes_per_joule,
            "joules_per_th": row.joules_per_th,
            "energy_source": row.energy_source, "energy_suspect": row.energy_suspect,
            "energy_estimate": row.energy_source == "estimate",
            "energy_counter_wraps": row.wraps,
            "speedup_vs_1_thread": row.speedup_vs_1_thread,
            "speedup_vs_hashlib": row.speedup_vs_hashlib,
            "warmup_s": row.warmup_s, "calibration_s": row.calibration_s,
        },
        "options": {"timer": "perf_counter", "min_rounds": len(row.sample_seconds),
                    "warmup": True, "disable_gc": False, "energy": energy.get("source")},
    }


# --------------------------------------------------------------------------- options

def parse_int_list(text: str, what: str = "threads") -> list[int]:
    """``"1,2,4"`` -> [1, 2, 4]; every entry a positive integer."""
    out = []
    for part in str(text).split(","):
        part = part.strip()
        try:
            value = int(part)
        except ValueError:
            raise InputError(f"--{what}: '{part}' is not an integer (give e.g. 1,2)") from None
        if value < 1:
            raise InputError(f"--{what}: {value} is not a positive integer")
        out.append(value)
    return list(dict.fromkeys(out))


def check_options(operations: Sequence[str], threads: Sequence[int] | None, seconds: float,
                  repeat: int, watts: float | None, batch: int) -> tuple[list[str], list[int]]:
    ops = [o.strip().lower() for o in operations]
    for op in ops:
        if op not in OPERATIONS:
            raise InputError(f"unknown operation '{op}' (choose from {', '.join(OPERATIONS)})")
    if not ops:
        raise InputError("no operation to benchmark")
    threads = list(threads) if threads is not None else list(
        range(1, core.default_threads() + 1))
    for t in threads:
        if not isinstance(t, int) or isinstance(t, bool) or t < 1:
            raise InputError(f"threads must be positive integers, got {t!r}")
    if not isinstance(seconds, (int, float)) or not math.isfinite(seconds) or seconds <= 0:
        raise InputError(f"--seconds must be a positive number, got {seconds!r}")
    if not isinstance(repeat, int) or isinstance(repeat, bool) or repeat < 1:
        raise InputError(f"--repeat must be a positive integer, got {repeat!r}")
    if watts is not None and (not isinstance(watts, (int, float)) or not math.isfinite(watts)
                              or watts <= 0):
        raise InputError(f"--watts must be a positive number, got {watts!r}")
    if not isinstance(batch, int) or batch < 1:
        raise InputError(f"--batch must be a positive integer, got {batch!r}")
    return list(dict.fromkeys(ops)), list(dict.fromkeys(threads))


# --------------------------------------------------------------------------- the work

class _Runner:
    """One row's workload: ``run(size)`` does a round and returns (hashes, seconds, threads)."""

    def __init__(self, operation: str, threads: int, batch: int, clock: Callable[[], float]):
        self.operation = operation
        self.threads = threads
        self.batch = batch
        self.clock = clock
        self.pool = (ThreadPoolExecutor(max_workers=threads, thread_name_prefix="hashcore-bench")
                     if threads > 1 and operation != "scan" else None)
        if operation == "headers":
            rng = np.random.default_rng(80)
            self.buffers = [rng.integers(0, 256, 80 * batch, dtype=np.uint8)
                            for _ in range(threads)]
        self.initial_size = {"scan": 4096, "headers": 1, "sha256d": 256}[operation]
        self.warmup_size = {"scan": 256, "headers": 1, "sha256d": 4}[operation]

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True)

    def run(self, size: int) -> tuple[int, float, int]:
        if self.operation == "scan":
            t0 = self.clock()
            result = core.scan(BENCH_HEADER[:76], bits=SCAN_BITS, nonce_start=0,
                               count=size, threads=self.threads)
            return result.hashes, self.clock() - t0, result.threads
        if self.operation == "headers":
            def work(i: int) -> None:
                buf = self.buffers[i]
                for _ in range(size):
                    core.hash_headers(buf)
            per_call = self.batch
        else:
            def work(i: int) -> None:
                data, fn = BENCH_HEADER, core.sha256d
                for _ in range(size):
                    fn(data)
            per_call = 1
        t0 = self.clock()
        if self.pool is None:
            work(0)
        else:
            for f in [self.pool.submit(work, i) for i in range(self.threads)]:
                f.result()
        return size * per_call * self.threads, self.clock() - t0, self.threads


def _grow(size: int, seconds: float, target_s: float) -> int:
    factor = 16.0 if seconds <= 0 else min(16.0, max(2.0, 1.2 * target_s / seconds))
    return max(size + 1, int(size * factor))


def _measure(row: Row, runner: _Runner, target_s: float, repeat: int, meter: Meter,
             remaining_s: float, clock: Callable[[], float]) -> None:
    t0 = clock()
    runner.run(runner.warmup_size)  # compile, first touch, thread start: never counted
    row.warmup_s = clock() - t0

    size, spent = runner.initial_size, 0.0
    for _ in range(40):
        hashes, secs, _ = runner.run(size)
        spent += secs
        if secs >= target_s or spent >= target_s * 4:
            break
        size = _grow(size, secs, target_s)
    rate = hashes / secs if secs > 0 else float(hashes)
    size = max(1, int(size * target_s / secs)) if secs > 0 else size
    if runner.operation == "scan":
        size = min(size, _MAX_SCAN_COUNT)
        if runner.threads > 1:
            chunk = int(getattr(core.backend(), "SCAN_CHUNK", 1 << 20))
            share = runner.threads * chunk  # one chunk per thread, or some threads sit idle
            if size < share or size % share:
                needed = max(share, round(size / share) * share)
                est_round = needed / rate if rate > 0 else math.inf
                if size < share and est_round * repeat > remaining_s / 2:
                    row.calibration_s = spent
                    row.status = (f"skipped: {runner.threads} threads need {needed:,} nonces "
                                  f"a round (~{est_round:.1f} s at the one-thread rate); "
                                  f"raise --seconds")
                    return
                size = min(needed, _MAX_SCAN_COUNT)
    row.calibration_s = spent
    used = runner.threads
    for _ in range(repeat):
        token = meter.begin()
        hashes, secs, threads_used = runner.run(size)
        reading = meter.end(token, secs)
        row.sample_hashes.append(hashes)
        row.sample_seconds.append(secs)
        row.sample_joules.append(reading.joules)
        row.wraps += reading.wraps
        if reading.suspect:
            row.energy_suspect = reading.suspect
        used = min(used, threads_used)
    row.hashes_per_round = row.sample_hashes[0]
    row.threads_used = used
    row.energy_source = meter.source


def run_bench(operations: Sequence[str] = OPERATIONS, paths: Sequence[str] | None = None,
              threads: Sequence[int] | None = None, seconds: float = DEFAULT_SECONDS,
              repeat: int = DEFAULT_REPEAT, watts: float | None = None,
              progress: Progress | None = None, *, batch: int = HEADERS_BATCH,
              powercap_root: str | Path = DEFAULT_POWERCAP, meter: Meter | None = None,
              min_round_s: float = MIN_ROUND_S,
              clock: Callable[[], float] = time.perf_counter) -> BenchRun:
    """Benchmark every (operation, path, threads) and return the rows with machine info.

    ``paths`` None means every path hashcore knows (unavailable ones are reported, not
    timed); ``threads`` None means 1..usable cores. The hashlib loop at one thread is always
    measured, as the reference for the speed-ups.
    """
    ops, thread_list = check_options(operations, threads, seconds, repeat, watts, batch)
    chosen = resolve_paths(paths, list_paths())
    run_started = clock()

    cells: list[Row] = []
    for op in ops:
        wanted = [(p, t) for p in chosen for t in thread_list]
        if not any(p.name == BASELINE_PATH and t == 1 for p, t in wanted):
            cells.append(Row(op, BASELINE_PATH, 1, baseline=True))
        cells.extend(Row(op, p.name, t) for p, t in wanted)
    info = {p.name: p for p in chosen}
    info.setdefault(BASELINE_PATH, BenchPath(BASELINE_PATH, "hashlib", None, True, "ok"))

    own_meter = meter is None
    meter = meter or choose_meter(watts, powercap_root)
    with warnings.catch_warnings():  # "using numba because C is not built": the table says so
        warnings.simplefilter("ignore", RuntimeWarning)
        previous = core.backend().NAME
    spent = 0.0
    try:
        timed_cells = [c for c in cells if info[c.path].available]
        for c in cells:
            if not info[c.path].available:
                c.status = f"unavailable: {info[c.path].why}"
        for done, row in enumerate(timed_cells):
            if progress:
                progress(done, len(timed_cells), f"{row.operation} {row.path} x{row.threads}")
            path = info[row.path]
            try:
                row.implementation = core.use(path.backend, path.impl)
            except BackendUnavailable as exc:
                row.status = f"unavailable: {exc}"
                continue
            left = len(timed_cells) - done
            share = max(0.0, seconds - spent) / left
            target = max(min_round_s, share / (repeat + _CALIBRATION_ROUNDS))
            runner = _Runner(row.operation, row.threads, batch, clock)
            try:
                _measure(row, runner, target, repeat, meter, max(0.0, seconds - spent), clock)
            finally:
                runner.close()
            spent += row.calibration_s + row.timed_s
        if progress:
            progress(len(timed_cells), len(timed_cells), "done")
    finally:
        if own_meter:
            meter.close()
        try:
            core.use(previous)
        except HashcoreError:
            pass

    _speedups(cells)
    options = {"operations": ops, "paths": [p.name for p in chosen], "threads": thread_list,
               "seconds": seconds, "repeat": repeat, "batch": batch, "watts": watts,
               "min_round_s": min_round_s, "spent_s": spent}
    return BenchRun(rows=cells, machine=machine_info(), commit=commit_info(), datetime=now_utc(),
                    options=options, energy=meter.describe(), elapsed_s=clock() - run_started)


def _speedups(rows: list[Row]) -> None:
    timed = {r.key: r for r in rows if r.timed}
    for row in timed.values():
        one = timed.get((row.operation, row.path, 1))
        if one is not None:
            row.speedup_vs_1_thread = row.median_rate / one.median_rate
        ref = timed.get((row.operation, BASELINE_PATH, 1))
        if ref is not None:
            row.speedup_vs_hashlib = row.median_rate / ref.median_rate


# --------------------------------------------------------------------------- compare, plot

@dataclass(frozen=True)
class Change:
    """One row of ``--compare``: median throughput before and after."""

    operation: str
    path: str
    threads: int
    old_rate: float | None
    new_rate: float | None

    @property
    def change_pct(self) -> float | None:
        if not self.old_rate or self.new_rate is None:
            return None
        return (self.new_rate - self.old_rate) / self.old_rate * 100.0


def load_json(path: str | Path) -> dict:
    """A results file written by ``--json`` (or any pytest-benchmark JSON)."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ReadError(source, "open", exc.strerror or str(exc)) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ReadError(source, f"line {exc.lineno} column {exc.colno}",
                        f"not JSON: {exc.msg}") from None
    if not isinstance(data, dict) or not isinstance(data.get("benchmarks"), list):
        raise ReadError(source, "top level", "no 'benchmarks' list (not a benchmark JSON)")
    return data


def _rates(data: dict) -> dict[tuple[str, str, int], float]:
    out = {}
    for bench in data["benchmarks"]:
        extra = bench.get("extra_info") or {}
        stats = bench.get("stats") or {}
        if "operation" in extra:
            key = (extra["operation"], extra["path"], int(extra["threads"]))
        else:
            key = (bench.get("group") or "", bench.get("name", "?"), 1)
        rate = (extra.get("rate_per_s") or {}).get("median")
        if rate is None and stats.get("median"):
            rate = 1.0 / stats["median"]
        if rate:
            out[key] = float(rate)
    return out


def compare(old: dict, new: dict) -> list[Change]:
    """Median throughput per row of two result files (rows in either)."""
    a, b = _rates(old), _rates(new)
    keys = list(b) + [k for k in a if k not in b]
    return [Change(k[0], k[1], k[2], a.get(k), b.get(k)) for k in keys]


def regressions(changes: list[Change], fail_over_pct: float) -> list[Change]:
    """Rows slower than before by more than ``fail_over_pct`` percent."""
    return [c for c in changes if c.change_pct is not None and c.change_pct < -fail_over_pct]


def plot_available() -> bool:
    try:
        import matplotlib  # noqa: F401, PLC0415
    except ImportError:
        return False
    return True


def plot_run(run: BenchRun, png: str | Path) -> None:
    """Throughput against threads, one line per path, one panel per operation."""
    try:
        import matplotlib  # noqa: PLC0415

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt  # noqa: PLC0415
    except ImportError:
        raise HashcoreError("--plot needs matplotlib: pip install 'hashcore[plot]'") from None
    ops = list(dict.fromkeys(r.operation for r in run.rows if r.timed))
    fig, axes = plt.subplots(1, max(1, len(ops)), figsize=(5 * max(1, len(ops)), 4),
                             squeeze=False)
    for ax, op in zip(axes[0], ops, strict=True):
        for path in dict.fromkeys(r.path for r in run.rows if r.operation == op and r.timed):
            rows = sorted((r for r in run.rows if r.operation == op and r.path == path
                           and r.timed), key=lambda r: r.threads)
            ax.plot([r.threads for r in rows], [r.median_rate for r in rows], marker="o",
                    label=path)
        ax.set_title(op)
        ax.set_xlabel("threads")
        ax.set_ylabel(f"{UNITS[op]}/s (median)")
        ax.set_yscale("log")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize="small")
    fig.suptitle(f"hashcore bench on {run.machine.get('hashcore', {}).get('cpu_model', '?')}",
                 fontsize="small")
    fig.tight_layout()
    try:
        fig.savefig(png, dpi=110)
    except OSError as exc:
        raise InputError(f"--plot {png}: cannot write: {exc.strerror or exc}") from None
    finally:
        plt.close(fig)
