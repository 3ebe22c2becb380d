"""`hashcore bench` from the command line: output modes, compare, plot, cluster, bad arguments."""

from __future__ import annotations

import json
import sys
import types

import pytest

from hashcore import bench
from hashcore.bench import BenchPath
from hashcore.cli import main

QUICK = ["bench", "--operations", "sha256d", "--paths", "hashlib", "--threads", "1",
         "--seconds", "0.1", "--repeat", "2"]


@pytest.fixture(autouse=True)
def hashlib_only(monkeypatch):
    monkeypatch.setattr(bench, "list_paths",
                        lambda: [BenchPath("hashlib", "hashlib", None, True, "ok")])


@pytest.fixture
def no_rapl(tmp_path) -> list[str]:
    return ["--powercap", str(tmp_path / "no-powercap")]


@pytest.mark.parametrize("args, needle", [
    (["--threads", "0"], "--threads: 0 is not a positive integer"),
    (["--threads", "two"], "--threads: 'two' is not an integer"),
    (["--paths", "c:nosuch"], "unknown path 'c:nosuch'"),
    (["--seconds", "-1"], "--seconds must be a positive number"),
    (["--seconds", "0"], "--seconds must be a positive number"),
    (["--repeat", "0"], "--repeat must be a positive integer"),
    (["--watts", "-5"], "--watts must be a positive number"),
    (["--operations", "mine"], "unknown operation 'mine'"),
    (["--json", "/nonexistent-dir/sub/out.json"], "folder /nonexistent-dir/sub does not exist"),
    (["--fail-over", "5"], "--fail-over needs --compare"),
    (["--compare", "/nonexistent-dir/old.json"], "old.json: open"),
])
def test_bad_arguments_give_one_line_and_exit_2(capsys, args, needle):
    rc = main(["bench", "--seconds", "0.05", *args])
    out, err = capsys.readouterr()
    assert rc == 2
    assert needle in err
    assert err.count("\n") == 1 and err.startswith("hashcore bench: error:")
    assert "Traceback" not in err and out == ""


def test_json_path_that_is_a_folder_is_rejected(capsys, tmp_path):
    assert main([*QUICK, "--json", str(tmp_path)]) == 2
    assert "is a folder" in capsys.readouterr().err


def test_unparseable_number_is_an_argparse_error_exit_2(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["bench", "--seconds", "soon"])
    assert exc.value.code == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_table_on_stdout_with_estimate_labels(capsys, no_rapl):
    assert main([*QUICK, "--operations", "sha256d,headers", "--batch", "16", *no_rapl]) == 0
    out, err = capsys.readouterr()
    assert "sha256d: calls per second" in out and "headers: headers per second" in out
    assert "ESTIMATE" in out and "no RAPL counters" in out
    rows = [line for line in out.splitlines() if line.strip().startswith("hashlib")]
    assert len(rows) == 2 and all(line.rstrip().endswith("estimate") for line in rows)
    assert "Intel" in out or "cores" in out  # the machine line


def test_json_dash_prints_nothing_but_json(capsys, no_rapl):
    assert main([*QUICK, "--json", "-", *no_rapl]) == 0
    out, _ = capsys.readouterr()
    doc = json.loads(out)  # the whole of stdout parses
    assert [b["name"] for b in doc["benchmarks"]] == ["sha256d[hashlib-t1]"]
    assert doc["benchmarks"][0]["extra_info"]["energy_source"] == "estimate"


def test_watts_on_the_command_line(capsys, tmp_path):
    path = tmp_path / "w.json"
    assert main([*QUICK, "--watts", "95", "--json", str(path)]) == 0
    assert "stated 95 W" in capsys.readouterr().out
    extra = json.loads(path.read_text())["benchmarks"][0]["extra_info"]
    assert extra["energy_source"] == "stated" and extra["energy_estimate"] is False
    for j, s in zip(extra["sample_joules"], extra["sample_seconds"], strict=True):
        assert j == 95.0 * s


def test_compare_exits_1_past_fail_over(capsys, tmp_path, no_rapl):
    old = tmp_path / "old.json"
    assert main([*QUICK, "--json", str(old), *no_rapl]) == 0
    doc = json.loads(old.read_text())
    doc["benchmarks"][0]["extra_info"]["rate_per_s"]["median"] *= 10  # "old" was 10x faster
    old.write_text(json.dumps(doc))
    capsys.readouterr()
    rc = main([*QUICK, "--compare", str(old), "--fail-over", "20", *no_rapl])
    out, _ = capsys.readouterr()
    assert rc == 1
    assert "change against" in out and "(over 20%)" in out
    doc["benchmarks"][0]["extra_info"]["rate_per_s"]["median"] /= 1000  # "old" was slow
    old.write_text(json.dumps(doc))
    assert main([*QUICK, "--compare", str(old), "--fail-over", "20", *no_rapl]) == 0


def test_plot_writes_a_png(capsys, tmp_path, no_rapl):
    pytest.importorskip("matplotlib")
    png = tmp_path / "t.png"
    assert main([*QUICK, "--threads", "1,2", "--plot", str(png), *no_rapl]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_without_matplotlib_says_how_to_get_it(capsys, monkeypatch):
    monkeypatch.setattr(bench, "plot_available", lambda: False)
    assert main([*QUICK, "--plot", "x.png"]) == 2
    assert "pip install 'hashcore[plot]'" in capsys.readouterr().err


def test_cluster_without_the_cluster_module(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "hashcore.cluster", None)  # import fails
    assert main([*QUICK, "--cluster", "tcp://127.0.0.1:8786"]) == 2
    err = capsys.readouterr().err
    assert "--cluster needs hashcore.cluster" in err and err.count("\n") == 1


def test_cluster_calls_cluster_bench_with_the_options(capsys, monkeypatch):
    seen = {}

    def cluster_bench(address, **options):
        seen.update(options, address=address)
        run = bench.run_bench(**options, meter=bench.choose_meter(1.0))
        doc = {"runs": [run.to_pytest_benchmark_json()]}
        return types.SimpleNamespace(to_dict=lambda: doc, failed=[])

    monkeypatch.setitem(sys.modules, "hashcore.cluster",
                        types.SimpleNamespace(cluster_bench=cluster_bench,
                                              print_cluster=lambda result: None))
    assert main([*QUICK, "--cluster", "tcp://127.0.0.41:8786", "--json", "-"]) == 0
    assert seen["address"] == "tcp://127.0.0.41:8786"
    assert seen["operations"] == ["sha256d"] and seen["threads"] == [1]
    assert seen["seconds"] == 0.1 and seen["repeat"] == 2 and seen["paths"] == ["hashlib"]
    assert json.loads(capsys.readouterr().out)["runs"][0]["benchmarks"]
    quick_no_threads = [a for a in QUICK if a not in ("--threads", "1")]
    assert main([*quick_no_threads, "--cluster", "local:1", "--json", "-"]) == 0
    assert seen["threads"] is None  # each host picks its own thread counts


def test_cluster_run_is_rendered_by_the_cluster_module(capsys, monkeypatch, tmp_path):
    class FakeClusterRun:
        failed: list = []

        def to_dict(self):
            return {"schema": "fake", "hosts": []}

    printed = []
    fake = types.SimpleNamespace(cluster_bench=lambda address, **o: FakeClusterRun(),
                                 print_cluster=printed.append)
    monkeypatch.setitem(sys.modules, "hashcore.cluster", fake)
    out_json = tmp_path / "c.json"
    assert main([*QUICK, "--cluster", "local:2", "--json", str(out_json)]) == 0
    assert len(printed) == 1 and json.loads(out_json.read_text()) == {"schema": "fake",
                                                                       "hosts": []}
    assert main([*QUICK, "--cluster", "local:2", "--plot", "x.png"]) == 2
    assert "--compare and --plot work on one machine" in capsys.readouterr().err


def test_list_paths(capsys):
    assert main(["bench", "--list-paths"]) == 0
    assert "hashlib" in capsys.readouterr().out


def test_readable_rapl_tree_is_used_and_named(capsys, tmp_path):
    pkg = tmp_path / "pc" / "intel-rapl:0"
    pkg.mkdir(parents=True)
    (pkg / "name").write_text("package-0\n")
    (pkg / "energy_uj").write_text("1000\n")
    (pkg / "max_energy_range_uj").write_text("262143328850\n")
    out_json = tmp_path / "r.json"
    assert main([*QUICK, "--powercap", str(tmp_path / "pc"), "--json", str(out_json)]) == 0
    out = capsys.readouterr().out
    assert "energy: RAPL counters (intel-rapl:0 package-0)" in out
    doc = json.loads(out_json.read_text())
    assert doc["hashcore"]["energy"]["source"] == "rapl"
    extra = doc["benchmarks"][0]["extra_info"]
    assert extra["energy_source"] == "rapl" and extra["energy_estimate"] is False
    assert extra["joules"] == 0.0  # the fake counter never moved


def test_cluster_exit_code_is_1_when_a_host_failed(capsys, monkeypatch):
    run = types.SimpleNamespace(to_dict=lambda: {"hosts": []}, failed=["host-b"])
    monkeypatch.setitem(sys.modules, "hashcore.cluster", types.SimpleNamespace(
        cluster_bench=lambda address, **o: run, print_cluster=lambda result: None))
    assert main([*QUICK, "--cluster", "local:2", "--json", "-"]) == 1
    assert json.loads(capsys.readouterr().out) == {"hosts": []}
