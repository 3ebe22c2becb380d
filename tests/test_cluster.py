"""hashcore.cluster: the benchmark on every worker of a Dask LocalCluster, failures kept apart.

Tiny benchmark (sha256d on the hashlib path, 0.2 s) so a whole LocalCluster test takes seconds.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time

import pytest

from hashcore.errors import InputError

distributed = pytest.importorskip("distributed", reason="the cluster extra is not installed")
cloudpickle = pytest.importorskip("cloudpickle")

from hashcore import cluster  # noqa: E402
from hashcore.cluster import cluster_bench, host_bench, parse_address  # noqa: E402

TINY = dict(operations=["sha256d"], paths=["hashlib"], seconds=0.2, repeat=3)

# The worker processes cannot import this test module: ship its functions by value.
cloudpickle.register_pickle_by_value(sys.modules[__name__])


def die_or_hang(options: dict) -> dict:
    """Worker 0 dies mid-run (SIGKILL, as an OOM killer would); worker 1 never finishes;
    the others run the real benchmark."""
    from distributed import get_worker

    name = str(get_worker().name)
    if name == "0":
        time.sleep(0.3)
        os.kill(os.getpid(), signal.SIGKILL)
    if name == "1":
        time.sleep(60)
    return host_bench(options)


def test_local_two_workers_one_result_each_with_machine_info():
    done = []
    run = cluster_bench("local:2", **TINY, progress=lambda host, status: done.append(status))
    assert done == ["ok", "ok"]
    assert run.kind == "local"
    assert len(run.hosts) == 2 and len(run.ok) == 2, [h.error for h in run.hosts]
    workers = {h.worker for h in run.hosts}
    assert len(workers) == 2
    for h in run.hosts:
        # machine info recorded beside the figure, and it ran where it was pinned
        assert h.machine["hashcore"]["cpu_model"]
        assert h.machine["hashcore"]["cores_usable"] >= 1
        assert h.worker_facts["address"] == h.worker
        assert h.worker_facts["pid"] != os.getpid()
        best = h.best()["sha256d"]
        assert best["path"] == "hashlib" and best["threads"] == 1
        assert best["rate_per_s"] > 0 and best["hashes"] > 0
        assert best["joules"] is not None and best["joules"] > 0
    # the two workers are different processes
    assert len({h.worker_facts["pid"] for h in run.hosts}) == 2
    fleet = run.fleet()["sha256d"]
    rates = [h.best()["sha256d"]["rate_per_s"] for h in run.hosts]
    assert fleet["hosts"] == 2
    assert fleet["rate_per_s"] == pytest.approx(sum(rates))
    assert fleet["spread"]["min"] == min(rates) and fleet["spread"]["max"] == max(rates)
    doc = json.loads(json.dumps(run.to_dict(), allow_nan=False))
    assert doc["hosts_ok"] == 2 and doc["hosts_failed"] == 0
    assert doc["notes"] == []  # same hashcore everywhere
    for host in doc["hosts"]:
        assert host["benchmark"]["benchmarks"], "pytest-benchmark entries per host"
        assert host["machine"]["cpu"]["count"] >= 1


def test_cli_bench_cluster_local_2_json(capsys):
    from hashcore.cli import main

    rc = main(["bench", "--cluster", "local:2", "--operations", "sha256d", "--paths", "hashlib",
               "--seconds", "0.2", "--repeat", "3", "--json", "-"])
    doc = json.loads(capsys.readouterr().out)
    assert rc == 0
    assert doc["schema"] == "hashcore.cluster-bench/1" and doc["cluster"] == "local"
    assert [h["status"] for h in doc["hosts"]] == ["ok", "ok"]
    assert len({h["worker"] for h in doc["hosts"]}) == 2
    for h in doc["hosts"]:
        assert h["machine"]["hashcore"]["cpu_model"]
        assert h["best"]["sha256d"]["rate_per_s"] > 0
    assert doc["fleet"]["sha256d"]["hosts"] == 2


def test_killed_and_timed_out_workers_are_reported_and_the_other_result_kept():
    run = cluster_bench("local:3", **TINY, task=die_or_hang, timeout_s=5)
    assert len(run.hosts) == 3
    by_name = {h.worker_facts.get("name"): h for h in run.ok}
    assert list(by_name) == ["2"], [(h.worker, h.error) for h in run.hosts]
    errors = sorted(h.error for h in run.failed)
    assert all(h.wall_s > 0 for h in run.hosts)
    assert len(errors) == 2
    assert any("left the cluster" in e for e in errors), errors
    assert any("no benchmark result within the timeout of 5 s" in e for e in errors), errors
    survivor = by_name["2"]
    assert survivor.best()["sha256d"]["rate_per_s"] > 0
    fleet = run.fleet()["sha256d"]
    assert fleet["hosts"] == 1
    assert fleet["rate_per_s"] == pytest.approx(survivor.best()["sha256d"]["rate_per_s"])
    doc = run.to_dict()
    assert doc["hosts_failed"] == 2 and doc["hosts_ok"] == 1
    assert {h["status"] for h in doc["hosts"]} == {"ok", "failed"}


def test_remote_cluster_gives_one_result_per_host():
    """Two workers on one host (as `dask worker --nworkers 2` starts them): one result, run
    by one worker with both workers' threads, the other worker left idle."""
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as lc:
        run = cluster_bench(lc.scheduler_address, operations=["sha256d"], paths=["hashlib"],
                            threads=None, seconds=0.3, repeat=3)
    assert run.kind == "remote"
    assert [h.host for h in run.hosts] == ["127.0.0.1"]
    host = run.hosts[0]
    assert host.ok, host.error
    assert len(host.workers) == 2 and host.nthreads == 2
    assert host.worker_facts["address"] == host.worker == sorted(host.workers)[0]
    assert host.bench.options["threads"] == [2]


def test_plan_groups_workers_by_host_unless_local():
    workers = {"tcp://127.0.0.42:4001": {"host": "127.0.0.42", "nthreads": 4},
               "tcp://127.0.0.41:4002": {"host": "127.0.0.41", "nthreads": 8},
               "tcp://127.0.0.42:4000": {"host": "127.0.0.42", "nthreads": 4}}
    remote = cluster._plan(workers, local=False)
    assert [(h.host, h.worker, h.nthreads, len(h.workers)) for h in remote] == [
        ("127.0.0.41", "tcp://127.0.0.41:4002", 8, 1),
        ("127.0.0.42", "tcp://127.0.0.42:4000", 8, 2)]
    local = cluster._plan(workers, local=True)
    assert len(local) == 3 and all(len(h.workers) == 1 for h in local)


@pytest.mark.parametrize("text,expect", [
    ("local:2", (2, None)), ("tcp://127.0.0.41:8786", (None, "tcp://127.0.0.41:8786")),
    ("scheduler:8786", (None, "tcp://scheduler:8786")),
    ("tls://127.0.0.41:8786", (None, "tls://127.0.0.41:8786")),
])
def test_parse_address(text, expect):
    a = parse_address(text)
    assert (a.local_workers, a.scheduler) == expect


@pytest.mark.parametrize("text", ["", "local:0", "local:x", "local:1000", "http://h:1",
                                  "tcp://host", "tcp://host:port"])
def test_parse_address_rejects(text):
    with pytest.raises(InputError):
        parse_address(text)


def test_unreachable_scheduler_is_one_clear_error():
    from hashcore.errors import HashcoreError

    cluster.CONNECT_TIMEOUT_S, old = 1.0, cluster.CONNECT_TIMEOUT_S
    try:
        with pytest.raises(HashcoreError, match="cannot reach the Dask scheduler"):
            cluster_bench("tcp://127.0.0.1:9", **TINY)  # port 9 (discard): nothing listens
    finally:
        cluster.CONNECT_TIMEOUT_S = old


def test_without_distributed_says_how_to_install(monkeypatch):
    from hashcore.errors import BackendUnavailable

    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(BackendUnavailable, match=r"hashcore\[cluster\]"):
        cluster_bench("local:1", **TINY)
