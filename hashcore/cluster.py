"""The same benchmark on every host of a Dask cluster, gathered into one table and one JSON.

``cluster_bench("tcp://scheduler:8786", ...)`` connects to a running Dask scheduler;
``cluster_bench("local:N", ...)`` starts a ``distributed.LocalCluster`` of N single-threaded
worker processes on this machine to try it out.

One result per host: workers are grouped by the host part of their address, and one worker
per host runs :func:`hashcore.bench.run_bench` with as many threads as the cluster gives that
host (the sum of its workers' threads), while the host's other workers stay idle so they do
not steal its cores. In a LocalCluster every worker counts as a host of its own (they are
separate processes sharing this machine's cores, so their rates are each one's share).

A host whose worker dies (leaves the cluster), raises, or does not answer within the
timeout is reported as failed with the reason; the results of the others are kept. The fleet
total is the sum of the hosts' best rates (they run at the same time), and the spread says
how far apart the hosts are.

``distributed`` is the optional extra ``hashcore[cluster]``.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import socket
import statistics
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from hashcore.errors import BackendUnavailable, HashcoreError, InputError

INSTALL_HINT = "pip install 'hashcore[cluster]'  (or: pip install distributed)"
LOCAL_MAX_WORKERS = 64
POLL_S = 0.2
CONNECT_TIMEOUT_S = 10.0
WARMUP_TIMEOUT_S = 300.0  # a fresh host may compile Numba's kernels first
SCHEMA = "hashcore.cluster-bench/1"

HostTask = Callable[[dict], Any]


def require_distributed():
    """Import distributed or say, in one line, how to install it."""
    try:
        import distributed
    except ImportError as exc:
        raise BackendUnavailable(
            f"--cluster needs Dask's distributed, which is not installed ({exc}): "
            f"{INSTALL_HINT}") from None
    return distributed


# --------------------------------------------------------------------------- address

@dataclass(frozen=True)
class Address:
    """A parsed ``--cluster`` value: a LocalCluster size, or a scheduler address."""

    local_workers: int | None = None
    scheduler: str | None = None

    @property
    def is_local(self) -> bool:
        return self.local_workers is not None


def parse_address(text: str) -> Address:
    """``local:N`` or ``tcp://host:port`` (``host:port`` means tcp; tls:// is kept)."""
    if not isinstance(text, str) or not text.strip():
        raise InputError("cluster address is empty (use local:N or tcp://host:8786)")
    text = text.strip()
    if text.lower().startswith("local:"):
        raw = text.split(":", 1)[1]
        try:
            n = int(raw)
        except ValueError:
            raise InputError(f"cluster address {text!r}: N in local:N must be an integer, "
                             f"got {raw!r}") from None
        if not 1 <= n <= LOCAL_MAX_WORKERS:
            raise InputError(f"cluster address {text!r}: local:N needs 1 <= N <= "
                             f"{LOCAL_MAX_WORKERS}")
        return Address(local_workers=n)
    if "://" not in text:
        text = f"tcp://{text}"
    parts = urlsplit(text)
    if parts.scheme not in ("tcp", "tls", "ws", "wss", "inproc"):
        raise InputError(f"cluster address {text!r}: scheme {parts.scheme!r} is not one Dask "
                         f"speaks (tcp://, tls://)")
    try:
        port = parts.port
    except ValueError:
        raise InputError(f"cluster address {text!r}: the port is not a number") from None
    if not parts.hostname or port is None:
        raise InputError(f"cluster address {text!r}: expected scheme://host:port, e.g. "
                         f"tcp://10.0.0.1:8786")
    return Address(scheduler=text)


def _host_of(worker_address: str) -> str:
    parts = urlsplit(worker_address)
    return parts.hostname or worker_address


# --------------------------------------------------------------------------- on the worker

def host_bench(options: dict) -> dict:
    """Run on a worker: the benchmark with the given options, and who ran it.

    A plain module-level function over plain data, so Dask pickles it by reference; the
    worker needs hashcore installed (the same version, for comparable numbers).
    """
    from hashcore.bench import run_bench

    run = run_bench(**options)
    return {"bench": run, "worker": _worker_facts()}


def _worker_facts() -> dict:
    facts: dict[str, Any] = {"hostname": socket.gethostname(), "pid": os.getpid()}
    with contextlib.suppress(Exception):
        from distributed import get_worker

        worker = get_worker()
        facts.update(address=worker.address, name=str(worker.name), nthreads=worker.state.nthreads)
    return facts


# --------------------------------------------------------------------------- results

@dataclass
class HostResult:
    """One host: the bench it ran, or why it failed."""

    host: str
    workers: list[str]
    worker: str
    nthreads: int
    status: str = "pending"  # "ok" | "failed"
    error: str | None = None
    wall_s: float = 0.0
    bench: Any = None  # hashcore.bench.BenchRun when ok
    worker_facts: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def machine(self) -> dict:
        return dict(self.bench.machine) if self.bench is not None else {}

    def best(self) -> dict[str, dict]:
        """Per operation, the timed row with the highest median rate (asked-for rows first)."""
        out: dict[str, dict] = {}
        if self.bench is None:
            return out
        rows = [r for r in self.bench.rows if r.timed]
        for op in dict.fromkeys(r.operation for r in rows):
            candidates = [r for r in rows if r.operation == op and not r.baseline] or \
                         [r for r in rows if r.operation == op]
            row = max(candidates, key=lambda r: r.median_rate)
            out[op] = {"path": row.path, "threads": row.threads, "baseline": row.baseline,
                       "implementation": row.implementation, "unit": row.unit,
                       "rate_per_s": row.median_rate, "hashes": row.hashes,
                       "seconds": row.timed_s, "joules": row.joules,
                       "joules_per_th": row.joules_per_th,
                       "energy_source": row.energy_source}
        return out

    def not_timed(self) -> list[str]:
        """Rows the host's benchmark asked for but did not time, with the reason."""
        if self.bench is None:
            return []
        return [f"{r.operation} {r.path} x{r.threads}: {r.status}" for r in self.bench.rows
                if not r.timed]

    def to_dict(self) -> dict:
        machine = self.machine
        return {"host": self.host, "workers": self.workers, "worker": self.worker,
                "nthreads": self.nthreads, "status": self.status, "error": self.error,
                "wall_s": self.wall_s, "worker_facts": self.worker_facts,
                "machine": machine, "best": self.best(),
                "benchmark": (self.bench.to_pytest_benchmark_json()
                              if self.bench is not None else None)}


def _spread(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"min": None, "max": None, "median": None, "cv_pct": None,
                "max_over_min": None}
    mean = statistics.fmean(values)
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    low = min(values)
    return {"min": low, "max": max(values), "median": statistics.median(values),
            "cv_pct": 100.0 * sd / mean if mean else None,
            "max_over_min": max(values) / low if low > 0 else None}


@dataclass
class ClusterRun:
    """Every host's result, the fleet total per operation and the spread between hosts."""

    address: str
    kind: str  # "local" | "remote"
    started_utc: str
    options: dict
    hosts: list[HostResult]
    elapsed_s: float = 0.0
    scheduler: str | None = None

    @property
    def ok(self) -> list[HostResult]:
        return [h for h in self.hosts if h.ok]

    @property
    def failed(self) -> list[HostResult]:
        return [h for h in self.hosts if not h.ok]

    def bench_runs(self) -> list:
        """The BenchRun of each host that finished."""
        return [h.bench for h in self.ok]

    def fleet(self) -> dict[str, dict]:
        """Per operation: total rate and joules over the hosts that finished, and the spread."""
        per_op: dict[str, list[dict]] = {}
        for h in self.ok:
            for op, best in h.best().items():
                per_op.setdefault(op, []).append(best)
        out = {}
        for op, bests in per_op.items():
            rates = [b["rate_per_s"] for b in bests]
            joules = [b["joules"] for b in bests]
            have_j = all(j is not None for j in joules)
            hashes = sum(b["hashes"] for b in bests)
            total_j = math.fsum(joules) if have_j else None
            out[op] = {"hosts": len(bests), "unit": bests[0]["unit"],
                       "rate_per_s": math.fsum(rates),
                       "joules": total_j, "hashes": hashes,
                       "joules_per_th": (total_j / hashes * 1e12
                                         if total_j is not None and hashes else None),
                       "energy_sources": sorted({b["energy_source"] for b in bests}),
                       "spread": _spread(rates)}
        return out

    def notes(self) -> list[str]:
        """What makes the hosts' figures less comparable (different hashcore versions)."""
        from hashcore._version import __version__

        versions = {h.host: (h.machine.get("hashcore") or {}).get("version") for h in self.ok}
        odd = {host: v for host, v in versions.items() if v != __version__}
        if not odd:
            return []
        return [f"{host} runs hashcore {v}, this client {__version__}: its rates may not be "
                f"comparable" for host, v in sorted(odd.items())]

    def to_dict(self) -> dict:
        return {"schema": SCHEMA, "address": self.address, "cluster": self.kind,
                "scheduler": self.scheduler, "started_utc": self.started_utc,
                "elapsed_s": self.elapsed_s, "options": self.options,
                "hosts_total": len(self.hosts), "hosts_ok": len(self.ok),
                "hosts_failed": len(self.failed),
                "hosts": [h.to_dict() for h in self.hosts], "fleet": self.fleet(),
                "notes": self.notes()}


# --------------------------------------------------------------------------- running

@contextlib.contextmanager
def _client(address: Address):
    distributed = require_distributed()
    quiet = logging.ERROR
    for name in ("distributed", "distributed.nanny", "distributed.scheduler",
                 "distributed.worker", "distributed.core"):
        logging.getLogger(name).setLevel(quiet)
    if address.is_local:
        cluster = distributed.LocalCluster(
            n_workers=address.local_workers, threads_per_worker=1, processes=True,
            host="127.0.0.1", dashboard_address=None, silence_logs=quiet)
        try:
            client = distributed.Client(cluster, set_as_default=False)
            try:
                yield client, cluster.scheduler_address
            finally:
                client.close()
        finally:
            cluster.close()
        return
    try:
        client = distributed.Client(address.scheduler, timeout=CONNECT_TIMEOUT_S,
                                    set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise HashcoreError(f"cannot reach the Dask scheduler at {address.scheduler}: "
                            f"{exc}") from None
    try:
        yield client, address.scheduler
    finally:
        client.close()


def _workers(client) -> dict[str, dict]:
    info = client.scheduler_info(n_workers=-1)
    return dict(info.get("workers", {}))


def _plan(workers: dict[str, dict], local: bool) -> list[HostResult]:
    """One HostResult per host; its bench runs on the first worker by address."""
    groups: dict[str, list[str]] = {}
    for addr in sorted(workers):
        # A LocalCluster's workers are each a "host" (labelled without the tcp:// scheme).
        key = addr.split("://", 1)[-1] if local else str(workers[addr].get("host")
                                                          or _host_of(addr))
        groups.setdefault(key, []).append(addr)
    plan = []
    for host, addrs in sorted(groups.items()):
        nthreads = sum(int(workers[a].get("nthreads") or 1) for a in addrs)
        plan.append(HostResult(host=host, workers=addrs, worker=addrs[0], nthreads=nthreads))
    return plan


def default_timeout_s(seconds: float) -> float:
    """Long enough for the budget, each row's untimed warm-up and a slow host: 4x + 60 s."""
    return 4.0 * float(seconds) + 60.0


def _submit(client, hosts: list[HostResult], call: Callable[[HostResult], tuple]) -> dict:
    """One task per host, pinned to its worker: never moved, never retried elsewhere."""
    futures = {}
    for host in hosts:
        fn, *args = call(host)
        futures[host.host] = client.submit(
            fn, *args, key=f"hashcore-{getattr(fn, '__name__', 'task')}-{uuid.uuid4().hex}",
            workers=[host.worker], allow_other_workers=False, pure=False, retries=0)
    return futures


def warm_up() -> dict:
    """Run on a worker before the timed benchmark: import hashcore.bench and list the paths
    (this imports Numba and runs every path's self-test), so none of it counts in the
    benchmark's timeout."""
    from hashcore.bench import list_paths

    return {"paths": [p.name for p in list_paths() if p.available], "worker": _worker_facts()}


def cluster_bench(address: str, operations=("sha256d",), paths=None, threads=None,
                  seconds: float = 10.0, repeat: int = 5, watts: float | None = None,
                  batch: int | None = None, *, timeout_s: float | None = None,
                  warmup_timeout_s: float = WARMUP_TIMEOUT_S, task: HostTask | None = None,
                  progress: Callable[[str, str], None] | None = None) -> ClusterRun:
    """Run the benchmark once per host of the cluster at ``address`` and gather the results.

    The options are :func:`hashcore.bench.run_bench`'s; ``threads=None`` means, on each host,
    the threads the cluster gives it. Each host first warms up (:func:`warm_up`, within
    ``warmup_timeout_s``); then ``timeout_s`` (default :func:`default_timeout_s`) bounds its
    benchmark. ``task`` replaces the function run on the worker (tests use it to kill a
    worker). ``progress(host, status)`` is called as each host finishes.
    """
    from hashcore.bench import check_options
    from hashcore.machine import now_utc

    where = parse_address(address)
    ops, _ = check_options(list(operations), list(threads) if threads else [1], seconds,
                           repeat, watts, batch if batch is not None else 1)
    if timeout_s is None:
        timeout_s = default_timeout_s(seconds)
    if not (isinstance(timeout_s, (int, float)) and math.isfinite(timeout_s) and timeout_s > 0):
        raise InputError(f"cluster timeout must be a positive number of seconds, got "
                         f"{timeout_s!r}")
    base = {"operations": ops, "paths": list(paths) if paths else None, "seconds": seconds,
            "repeat": repeat, "watts": watts}
    if batch is not None:
        base["batch"] = batch
    if not (isinstance(warmup_timeout_s, (int, float)) and math.isfinite(warmup_timeout_s)
            and warmup_timeout_s > 0):
        raise InputError(f"warm-up timeout must be a positive number of seconds, got "
                         f"{warmup_timeout_s!r}")
    run_task = task or host_bench
    started = now_utc()
    t0 = time.monotonic()

    with _client(where) as (client, scheduler):
        workers = _workers(client)
        if not workers:
            raise HashcoreError(f"the cluster at {address} has no workers")
        plan = _plan(workers, where.is_local)
        t_start = time.monotonic()

        def settle(host: HostResult, ok: bool, value: Any) -> None:
            host.wall_s = time.monotonic() - t_start
            if ok:
                host.status = "ok"
                if isinstance(value, dict) and "bench" in value:
                    host.bench = value["bench"]
                    host.worker_facts = dict(value.get("worker") or {})
                else:
                    host.bench = value
            else:
                host.status, host.error = "failed", value
            if progress:
                progress(host.host, "ok" if ok else f"failed: {value}")

        # Imports, Numba and the paths' self-tests first, outside the benchmark's timeout.
        warm = _wait_pinned(client, plan, _submit(client, plan, lambda h: (warm_up,)),
                            warmup_timeout_s, "warm-up",
                            on_done=lambda h, ok, why: None if ok else settle(h, False, why))
        ready = [h for h in plan if warm[h.host][0]]
        jobs = _submit(client, ready, lambda h: (
            run_task, dict(base, threads=list(threads) if threads else [h.nthreads])))
        _wait_pinned(client, ready, jobs, timeout_s, "benchmark", on_done=settle)

    options = dict(base, threads=list(threads) if threads else None, timeout_s=timeout_s)
    return ClusterRun(address=address, kind="local" if where.is_local else "remote",
                      started_utc=started, options=options, hosts=plan,
                      elapsed_s=time.monotonic() - t0, scheduler=scheduler)


def _wait_pinned(client, hosts: list[HostResult], futures: dict, timeout_s: float,
                 stage: str, on_done: Callable[[HostResult, bool, Any], None] | None = None,
                 ) -> dict[str, tuple[bool, Any]]:
    """Wait for one pinned task per host: host -> (True, result) or (False, why).

    A worker that leaves the cluster, a task that raises, or no result within ``timeout_s``
    is that host's failure; the others are waited for as usual.
    """
    start = time.monotonic()
    pending = {h.host: h for h in hosts}
    out: dict[str, tuple[bool, Any]] = {}

    def finish(host: HostResult, ok: bool, value: Any) -> None:
        out[host.host] = (ok, value)
        pending.pop(host.host, None)
        if not ok:
            with contextlib.suppress(Exception):
                futures[host.host].cancel()
        if on_done:
            on_done(host, ok, value)

    while pending:
        for name, host in list(pending.items()):
            fut = futures[name]
            if fut.status == "finished":
                try:
                    finish(host, True, fut.result(timeout=CONNECT_TIMEOUT_S))
                except Exception as exc:
                    finish(host, False, f"could not fetch the {stage} result: {exc}")
            elif fut.status == "error":
                exc = fut.exception()
                text = f"{type(exc).__name__}: {exc}"
                if isinstance(exc, ModuleNotFoundError):
                    text += " (install hashcore on that worker)"
                finish(host, False, f"the {stage} raised {text}")
            elif fut.status == "cancelled":
                finish(host, False, f"the {stage} was cancelled by the scheduler")
        if not pending:
            break
        alive = set(_workers(client))
        elapsed = time.monotonic() - start
        for host in list(pending.values()):
            if host.worker not in alive:
                finish(host, False, f"worker {host.worker} left the cluster during the {stage} "
                                    f"(it died or was killed) after {elapsed:.1f} s")
            elif elapsed > timeout_s:
                finish(host, False, f"no {stage} result within the timeout of {timeout_s:g} s")
        time.sleep(POLL_S)
    return out


# --------------------------------------------------------------------------- output

def _si(value: float | None, unit: str = "") -> str:
    if value is None:
        return "-"
    for factor, prefix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= factor:
            return f"{value / factor:.3g} {prefix}{unit}".rstrip()
    return f"{value:.3g} {unit}".rstrip()


def print_cluster(run: ClusterRun, console=None) -> None:
    """Machine lines, then per host and operation the best rate and its joules; then the
    fleet total, the spread between hosts and every failure with its reason."""
    from rich.console import Console
    from rich.table import Table

    console = console or Console()

    def say(text: str) -> None:
        console.print(text, highlight=False, markup=False)

    fleet = run.fleet()
    say(f"hashcore bench --cluster {run.address} ({run.kind}, scheduler {run.scheduler}): "
        f"{len(run.ok)} of {len(run.hosts)} hosts finished in {run.elapsed_s:.1f} s")
    for h in run.hosts:
        if h.ok:
            m = h.machine
            hc = m.get("hashcore") or {}
            say(f"  {h.host}: {m.get('node', '?')}, {hc.get('cpu_model', '?')}, "
                f"{hc.get('cores_usable', '?')} cores usable, hashcore {hc.get('version', '?')}, "
                f"worker {h.worker} ({len(h.workers)} on this host, {h.nthreads} threads)")
    table = Table(title_justify="left")
    for name, justify in (("host", "left"), ("thr", "right"), ("operation", "left"),
                          ("path", "left"), ("rate /s", "right"), ("joules", "right"),
                          ("J/TH", "right"), ("energy", "left")):
        table.add_column(name, justify=justify)
    for h in run.hosts:
        if not h.ok:
            table.add_row(h.host, str(h.nthreads), "-", "-", "FAILED", "-", "-", "-")
            continue
        name = h.host
        for op, b in h.best().items():
            table.add_row(name, str(b["threads"]), op,
                          b["path"] + (" (ref)" if b["baseline"] else ""),
                          f"{_si(b['rate_per_s'])} {b['unit']}", _si(b["joules"]),
                          _si(b["joules_per_th"]), b["energy_source"])
            name = ""
    if fleet:
        table.add_section()
    for op, f in fleet.items():
        table.add_row(f"total ({f['hosts']})", "", op, "", f"{_si(f['rate_per_s'])} {f['unit']}",
                      _si(f["joules"]), _si(f["joules_per_th"]), ",".join(f["energy_sources"]))
    console.print(table)
    for op, f in fleet.items():
        s = f["spread"]
        cv = "-" if s["cv_pct"] is None else f"{s['cv_pct']:.1f}%"
        ratio = "-" if s["max_over_min"] is None else f"{s['max_over_min']:.2f}x"
        say(f"spread {op}: min {_si(s['min'])}/s, median {_si(s['median'])}/s, "
            f"max {_si(s['max'])}/s, max/min {ratio}, CV {cv}")
    for h in run.ok:
        for line in h.not_timed():
            say(f"{h.host}: {line}")
    for h in run.failed:
        say(f"FAILED {h.host}: {h.error}")
    for note in run.notes():
        say(f"note: {note}")
    if run.kind == "local":
        say("local cluster: its workers share this machine's cores; each rate is one worker's "
            "share")
