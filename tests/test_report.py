"""`hashcore report` end to end in a temporary folder: every file it names exists."""

from __future__ import annotations

import json
import re

import pytest

from hashcore import plots, report
from hashcore.cli import main
from hashcore.errors import HashcoreError

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """One real run of the CLI (short bench, few paths), shared by the checks below."""
    out = tmp_path_factory.mktemp("rep") / "hashcore-report"
    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        code = main(["report", "--out", str(out), "--seconds", "0.3", "--paths", "400"])
    return code, buf.getvalue(), out


def test_report_runs_and_says_where_it_is(built):
    code, printed, out = built
    assert code == 0
    assert f"report written to {(out / 'report.html').resolve()}" in printed
    # the assumptions are printed with their sources
    assert "power.mw = 2000.0" in printed and "source: Pakistan Finance Division" in printed


def test_every_file_the_report_names_exists_and_is_not_empty(built):
    _, printed, out = built
    names = re.search(r"^files: (.*)$", printed, re.M).group(1).split(", ")
    assert {"report.html", "report.json", "calibration.json", "bench.json"} <= set(names)
    for name in names:
        assert (out / name).stat().st_size > 0, name
    data = json.loads((out / "report.json").read_text())
    assert set(data["plots"]) == {"network_hashrate", "profit_fan", "tornado", "efficiency"}
    page = (out / "report.html").read_text()
    for png in data["plots"].values():
        assert (out / png).read_bytes()[:8] == PNG_MAGIC
        assert f"src='{png}'" in page  # relative, so the folder can be moved
    for src in re.findall(r"src='([^']+)'", page):
        assert (out / src).is_file()


def test_report_json_holds_the_model_and_its_inputs(built):
    _, _, out = built
    d = json.loads((out / "report.json").read_text())
    months = d["scenario"]["values"]["scenario.months"]
    assert len(d["months"]) == months == len(d["monthly"]["profit_usd"])
    assert all(r["ok"] and r["matches_params"] for r in d["verification"]["shipped"])
    assert d["totals"]["capex_usd"] > 0 and d["fleet"][0]["count"] > 0
    mc = d["montecarlo"]
    assert mc["paths"] == 400
    for q in mc["totals"].values():
        vals = [q[k] for k in ("p5", "p50", "p95") if q[k] is not None]
        assert vals == sorted(vals)
    notes = {a["field"]: a["note"] for a in d["scenario"]["assumptions"]}
    assert "Pakistan Finance Division" in notes["power.mw"]
    assert d["bench"]["rows"], "the bench measured nothing"


def test_report_uses_shared_headers_when_present(built, shared_data):
    _, _, out = built
    d = json.loads((out / "report.json").read_text())
    assert d["network"] is not None and d["network"]["periods"] > 400
    verified = {r["file"]: r for r in d["verification"]["shared"]}
    assert verified["headers/mainnet/mainnet_0_9999.bin"]["valid"] == 10_000
    assert all(r["ok"] for r in verified.values())


def test_report_without_matplotlib_still_writes_html_and_json(tmp_path, monkeypatch):
    monkeypatch.setattr(plots, "available", lambda: False)
    rep = report.build_report(tmp_path / "r", bench_seconds=0.2, mc_paths=100,
                              overrides=["scenario.months=12"], log=lambda _m: None)
    assert rep.html.stat().st_size > 0 and (rep.out_dir / "report.json").stat().st_size > 0
    assert not list(rep.out_dir.glob("*.png"))
    assert any("matplotlib" in s for s in rep.skipped)
    assert "Plots were skipped" in rep.html.read_text()
    for f in rep.files:
        assert f.stat().st_size > 0


def test_report_rejects_a_data_folder_without_headers(tmp_path):
    with pytest.raises(HashcoreError):
        report.build_report(tmp_path / "r", data_dir=tmp_path, bench_seconds=0.2,
                            log=lambda _m: None)
    code = main(["report", "--out", str(tmp_path / "r"), "--seconds", "-1"])
    assert code == 2


def test_a_failing_stage_is_skipped_and_said(tmp_path, monkeypatch):
    def broken(seconds, log):
        raise HashcoreError("no backend can run here")

    monkeypatch.setattr(report, "bench_stage", broken)
    monkeypatch.setattr(plots, "available", lambda: False)
    rep = report.build_report(tmp_path / "r", mc_paths=50, overrides=["scenario.months=6"],
                              log=lambda _m: None)
    assert any(s.startswith("bench: HashcoreError: no backend") for s in rep.skipped)
    assert not (rep.out_dir / "bench.json").exists()
    assert all(f.stat().st_size > 0 for f in rep.files)
    assert "no backend can run here" in rep.html.read_text()


def test_report_on_a_fresh_machine_without_shared_data(tmp_path, monkeypatch):
    monkeypatch.setenv("HASHCORE_SHARED_DATA", str(tmp_path / "absent"))
    rep = report.build_report(tmp_path / "r", bench_seconds=0.2, mc_paths=100,
                              overrides=["scenario.months=12"], log=lambda _m: None)
    d = rep.data
    assert d["network"] is None and d["verification"]["shared"] == []
    assert all(r["ok"] for r in d["verification"]["shipped"])
    assert "given in the scenario" in d["network_start"]["how"]
    for f in rep.files:
        assert f.stat().st_size > 0, f
    assert (rep.out_dir / "network_hashrate.png").read_bytes()[:8] == PNG_MAGIC
