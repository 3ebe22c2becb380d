"""The main job: verify, bench, calibrate and model, written up as one report folder.

``build_report`` runs every layer on embedded defaults (the genesis headers in
``hashcore.params``, the shared real headers where present, a short bench of this host, the
default Pakistan scenario) and writes ``report.html`` (self-contained, plots referenced by
relative path), ``report.json`` and PNG plots. Each stage degrades to a stated skip rather
than failing the whole report: a missing optional module, no shared data, no matplotlib.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hashcore import farm, montecarlo, scenario
from hashcore._version import __version__
from hashcore.errors import HashcoreError

DEFAULT_OUT = "hashcore-report"
DEFAULT_BENCH_SECONDS = 5.0
EH = 1e18
Log = Callable[[str], None]


@dataclass
class Report:
    """Where the report went and what it holds (``data`` is what report.json contains)."""

    out_dir: Path
    files: list[Path]
    data: dict[str, Any]
    skipped: list[str] = field(default_factory=list)

    @property
    def html(self) -> Path:
        return self.out_dir / "report.html"


# ------------------------------------------------------------------ stage 1: verification


def _contiguous_first_height(meta: dict[str, Any]) -> int | None:
    first = meta.get("first_height")
    if not isinstance(first, int) or isinstance(first, bool):
        return None
    heights = meta.get("heights")
    if heights is not None and heights != list(range(first, first + len(heights))):
        return None
    return first


def verify_stage(shared: Path | None, log: Log) -> dict[str, Any]:
    """Verify the genesis headers hashcore ships, then every contiguous shared header file."""
    from hashcore import chain, io, params

    out: dict[str, Any] = {"shipped": [], "shared": [], "shared_dir": str(shared) if shared
                           else None, "skipped_files": []}
    for name, p in params.NETWORKS.items():
        t0 = time.perf_counter()
        rep = chain.verify(p.genesis_header, p, start_height=0)
        out["shipped"].append({"network": name, "headers": rep.count, "ok": rep.ok,
                               "tip_hash": rep.tip_hash,
                               "matches_params": rep.tip_hash == p.genesis_hash,
                               "failure": str(rep.failure) if rep.failure else None,
                               "seconds": time.perf_counter() - t0})
    ok = sum(1 for r in out["shipped"] if r["ok"] and r["matches_params"])
    log(f"verify: {ok}/{len(out['shipped'])} shipped genesis headers valid")
    if shared is None:
        log("verify: no shared header data found (set HASHCORE_SHARED_DATA or pass --data)")
        return out
    for binfile in sorted((shared / "headers").glob("*/*.bin")):
        twin = binfile.with_suffix(".json")
        try:
            meta = json.loads(twin.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            out["skipped_files"].append({"file": binfile.name, "why": "no readable JSON twin"})
            continue
        network = meta.get("network")
        first = _contiguous_first_height(meta)
        if network not in params.NETWORKS or first is None:
            why = ("not a contiguous run (scattered heights or a tree): read by calibration "
                   "and tests, not verified as a chain" if network in params.NETWORKS else
                   f"network {network!r} is not one hashcore verifies")
            out["skipped_files"].append({"file": binfile.name, "why": why})
            continue
        t0 = time.perf_counter()
        data = io.read_headers(binfile).data
        rep = chain.verify(data, network, start_height=first)
        secs = time.perf_counter() - t0
        out["shared"].append({
            "file": str(binfile.relative_to(shared)), "network": network, "first_height": first,
            "headers": rep.count, "valid": rep.valid, "ok": rep.ok, "tip_height": rep.tip_height,
            "tip_hash": rep.tip_hash, "failure": str(rep.failure) if rep.failure else None,
            "not_checked": [str(n) for n in rep.not_checked], "seconds": secs})
        state = "valid" if rep.ok else f"FAILED: {rep.failure}"
        log(f"verify: {binfile.name}: {rep.valid:,}/{rep.count:,} headers {state} "
            f"({secs:.2f} s)")
    return out


# ------------------------------------------------------------------ stage 2-3: bench, calibrate


def bench_stage(seconds: float, log: Log) -> tuple[dict[str, Any], Any, dict | None]:
    """A short scan benchmark of this host -> (summary, HostCalibration or None, bench JSON).

    Only the backend hashcore uses here (its dispatcher picks the path) and the hashlib
    baseline are timed: `hashcore bench` is the tool for comparing every path.
    """
    import warnings

    from hashcore import bench, calibrate, core

    with warnings.catch_warnings():  # "using numba because C is not built": the table says it
        warnings.simplefilter("ignore", RuntimeWarning)
        chosen = core.backend().NAME  # the path hashcore runs here; hashlib is the baseline
    run = bench.run_bench(operations=("scan",), paths=[chosen], seconds=seconds, repeat=3)
    data = run.to_pytest_benchmark_json()
    rows = [r for r in run.rows if r.timed]
    best = max(rows, key=lambda r: r.median_rate) if rows else None
    summary: dict[str, Any] = {
        "seconds": seconds, "elapsed_s": run.elapsed_s, "energy": run.energy,
        "rows": [{"path": r.path, "threads": r.threads, "implementation": r.implementation,
                  "median_rate_hs": r.median_rate, "joules_per_th": r.joules_per_th}
                 for r in rows],
        "not_timed": [{"path": r.path, "threads": r.threads, "status": r.status}
                      for r in run.rows if not r.timed],
        "cpu": run.machine.get("cpu", {}).get("brand_raw") if isinstance(
            run.machine.get("cpu"), dict) else None,
    }
    host = None
    try:
        host = calibrate.host_from_bench(data)
        summary["host"] = {"j_per_th": host.j_per_th, "rate_hs": host.rate_hs,
                           "path": host.path, "threads": host.threads,
                           "energy_source": host.energy_source, "power_w": host.power_w}
    except HashcoreError as exc:
        summary["host"] = None
        summary["host_why"] = str(exc)
    if best is not None:
        jth = f", {host.j_per_th:,.0f} J/TH ({host.energy_source})" if host else ""
        log(f"bench: best {best.median_rate / 1e6:,.2f} MH/s on {best.implementation or best.path}"
            f" x{best.threads}{jth}")
    return summary, host, data


def network_stage(shared: Path | None, log: Log) -> Any:
    """Network hash rate history from the shared checkpoint headers, or None."""
    from hashcore import calibrate

    if shared is None or not (shared / "headers/mainnet/mainnet_checkpoints.bin").exists():
        log("calibrate: no checkpoint headers; the scenario's stated hash rate is used")
        return None
    cal = calibrate.calibrate(checkpoints=True, shared_data=shared)
    n = cal.network
    log(f"calibrate: network {n.hashrate_hs / EH:,.0f} EH/s "
        f"[{n.hashrate_low_hs / EH:,.0f}, {n.hashrate_high_hs / EH:,.0f}] at height "
        f"{n.tip_height} ({n.tip_time_utc}), {len(n.history)} periods from headers")
    return n


def trailing_growth_per_month(history: list[Any], months: int = 12) -> float | None:
    """Mean monthly growth of the measured hash rate over the last ``months`` of history."""
    if len(history) < 2:
        return None
    end = history[-1]
    t_end = dt.datetime.fromisoformat(end.end_time_utc.replace("Z", "+00:00"))
    for p in history:
        t = dt.datetime.fromisoformat(p.end_time_utc.replace("Z", "+00:00"))
        gap = (t_end - t).days / farm.DAYS_PER_MONTH_AVG
        if gap <= months:
            return (end.hashrate_hs / p.hashrate_hs) ** (1 / gap) - 1 if gap > 0 else None
    return None


# ------------------------------------------------------------------ stage 4: the model


def _jsonable(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return [_jsonable(v) for v in x.tolist()]
    if isinstance(x, (np.floating, float)):
        return float(x) if math.isfinite(x) else None
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, (dt.date, dt.datetime)):
        return x.isoformat()
    return x


def model_stage(s: scenario.Scenario, calibration: Any, mc_paths: int | None, log: Log
                ) -> dict[str, Any]:
    t0 = time.perf_counter()
    p = farm.plan(s, calibration)
    det = farm.run(p)
    t1 = time.perf_counter()
    mc = montecarlo.simulate(p, paths=mc_paths)
    t2 = time.perf_counter()
    base, rows = montecarlo.tornado(s, calibration)
    t3 = time.perf_counter()
    log(f"model: {s.values['scenario.months']} months, {mc.paths:,} Monte Carlo paths in "
        f"{t2 - t1:.2f} s, tornado of {len(rows)} inputs in {t3 - t2:.2f} s")
    return {"plan": p, "det": det, "mc": mc, "tornado_base": base, "tornado": rows,
            "seconds": {"deterministic": t1 - t0, "montecarlo": t2 - t1, "tornado": t3 - t2}}


def assumption_lines(s: scenario.Scenario) -> list[tuple[str, str, str]]:
    """(field, value, source or assumption note) for every field the scenario sets."""
    out = []
    for path in scenario.FIELDS:
        section, key = path.split(".", 1)
        if key not in s.raw.get(section, {}):
            continue
        value = s.values[path]
        shown = ", ".join(f"{x:g}" for x in value) if isinstance(value, tuple) else str(value)
        out.append((path, shown, s.sources.get(path, "")))
    return out


# ------------------------------------------------------------------ writing


def _fmt_usd(x: float | None, scale: float = 1e6, unit: str = "M") -> str:
    return "n/a" if x is None else f"USD {x / scale:,.1f} {unit}"


def num(x: float) -> str:
    """A readable number whatever its size (tornado inputs run from 0.01 to 1e5)."""
    if abs(x) >= 100:
        return f"{x:,.0f}"
    if abs(x) >= 1:
        return f"{x:,.2f}"
    return f"{x:.4g}"


def _fmt(x: Any, spec: str = ",.2f", none: str = "n/a") -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return none
    return format(x, spec)


def build_report(out_dir: str | Path = DEFAULT_OUT, data_dir: str | Path | None = None,
                 scenario_path: str | Path | None = None,
                 overrides: list[str] | None = None,
                 bench_seconds: float = DEFAULT_BENCH_SECONDS,
                 mc_paths: int | None = None, log: Log = print) -> Report:
    """Run every stage and write the report folder; returns what was written."""
    from hashcore import plots
    from hashcore.paths import find_shared_data

    started = time.perf_counter()
    out = Path(out_dir)
    s = scenario.load(scenario_path, overrides or [])  # fail fast on a bad scenario
    out.mkdir(parents=True, exist_ok=True)
    shared = Path(data_dir) if data_dir else find_shared_data()
    if shared is not None and not (shared / "headers").is_dir():
        raise HashcoreError(f"--data {shared}: no headers/ folder inside")
    skipped: list[str] = []
    timings: dict[str, float] = {}

    def stage(name: str, fn: Callable[[], Any], fallback: Any) -> Any:
        """Run one stage; a missing module or a user-facing error skips it, said aloud."""
        t = time.perf_counter()
        try:
            return fn()
        except (ImportError, HashcoreError) as exc:
            skipped.append(f"{name}: {type(exc).__name__}: {exc}")
            log(f"{name} skipped: {exc}")
            return fallback
        finally:
            timings[f"{name}_s"] = time.perf_counter() - t

    verification = stage("verify", lambda: verify_stage(shared, log),
                         {"shipped": [], "shared": [], "shared_dir": None, "skipped_files": []})
    bench_summary, host, bench_json = stage(
        "bench", lambda: bench_stage(bench_seconds, log),
        ({"rows": [], "not_timed": [], "host": None, "host_why": "the bench did not run"},
         None, None))
    if bench_json is not None:
        (out / "bench.json").write_text(json.dumps(bench_json, indent=1, default=str) + "\n")
    network = stage("calibrate", lambda: network_stage(shared, log), None)
    from hashcore.calibrate import Calibration, utc_now

    calibration = Calibration(created_utc=utc_now(), host=host, network=network)
    (out / "calibration.json").write_text(calibration.to_json() + "\n")

    if s.values["network.hashrate_source"] == "calibration" and network is None:
        s = s.with_overrides({"network.hashrate_source": "given"})
        skipped.append("network.hashrate_source=calibration but no headers: used the stated "
                       "hash rate")
    log(f"scenario: {s.name} ({s.origin})")
    for path, value, note in assumption_lines(s):
        log(f"  {path} = {value}" + (f"\n      {note}" if note else ""))
    model = model_stage(s, calibration, mc_paths, log)
    timings.update({f"{k}_s": v for k, v in model["seconds"].items()})
    p, det, mc = model["plan"], model["det"], model["mc"]

    files: list[Path] = []
    plot_files: dict[str, str] = {}
    if plots.available():
        t = time.perf_counter()
        history = list(network.history) if network else []
        from hashcore import asics

        made = {
            "network_hashrate": plots.network_hashrate(
                out / "network_hashrate.png", history, p.month_start[0], p.month_start,
                mc.monthly["network_hashrate_ehs"], p.network_start_hs / EH),
            "profit_fan": plots.profit_fan(out / "profit_fan.png", p.month_start,
                                           mc.monthly["profit_usd"], det.monthly["profit_usd"]),
            "tornado": plots.tornado(out / "tornado.png", model["tornado_base"],
                                     model["tornado"], s.values["sensitivity.swing"]),
            "efficiency": plots.efficiency(
                out / "efficiency.png", asics.load_catalogue(),
                host.j_per_th if host else None,
                f"{host.path} x{host.threads}, {host.energy_source}" if host else ""),
        }
        plot_files = {k: v.name for k, v in made.items()}
        files.extend(made.values())
        timings["plots_s"] = time.perf_counter() - t
    else:
        skipped.append("plots: matplotlib is not installed (pip install 'hashcore[plot]')")
        log("plots skipped: matplotlib is not installed (pip install 'hashcore[plot]')")

    growth = trailing_growth_per_month(list(network.history)) if network else None
    timings["total_s"] = time.perf_counter() - started
    data = _report_data(s, verification, bench_summary, network, growth, model, plot_files,
                        skipped, timings)
    (out / "report.json").write_text(json.dumps(_jsonable(data), indent=1) + "\n")
    (out / "report.html").write_text(_html(data, s), encoding="utf-8")
    files = [out / "report.html", out / "report.json", out / "calibration.json",
             *([out / "bench.json"] if bench_json is not None else []), *files]
    return Report(out_dir=out, files=files, data=data, skipped=skipped)


def _report_data(s, verification, bench_summary, network, growth, model, plot_files, skipped,
                 timings) -> dict[str, Any]:
    p, det, mc = model["plan"], model["det"], model["mc"]
    months = [d.isoformat() for d in p.month_start]
    return {
        "generator": f"hashcore {__version__}",
        "created_utc": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "scenario": {"name": s.name, "origin": s.origin,
                     "values": {k: v for k, v in s.values.items()},
                     "sources": s.sources,
                     "assumptions": [{"field": f, "value": v, "note": n}
                                     for f, v, n in assumption_lines(s)]},
        "verification": verification,
        "bench": bench_summary,
        "network": None if network is None else {
            "tip_height": network.tip_height, "tip_time_utc": network.tip_time_utc,
            "hashrate_ehs": network.hashrate_hs / EH,
            "hashrate_low_ehs": network.hashrate_low_hs / EH,
            "hashrate_high_ehs": network.hashrate_high_hs / EH,
            "confidence": network.confidence, "periods": len(network.history),
            "trailing_12m_growth_per_month": growth, "source": network.source},
        "network_start": {"hashrate_ehs": p.network_start_hs / EH, "how": p.network_note},
        "fleet": [{"model": f.model, "count": f.count, "hashrate_ths": f.hashrate_ths,
                   "power_w": f.power_w, "j_per_th": f.j_per_th,
                   "capex_usd_per_machine": f.capex_usd_per_machine, "derated": f.derated}
                  for f in p.fleet],
        "electricity_usd_per_kwh": p.price_usd_per_kwh,
        "months": months,
        "monthly": det.monthly,
        "totals": det.totals,
        "montecarlo": {"paths": mc.paths, "seed": mc.seed, "monthly": mc.monthly,
                       "totals": mc.totals,
                       "probability_npv_positive": mc.probability_npv_positive,
                       "probability_payback": mc.probability_payback},
        "tornado": {"base_npv_usd": model["tornado_base"],
                    "swing": s.values["sensitivity.swing"],
                    "rows": [{"label": r.label, "field": r.field, "low_value": r.low_value,
                              "high_value": r.high_value, "npv_low_usd": r.npv_low_usd,
                              "npv_high_usd": r.npv_high_usd, "swing_usd": r.swing_usd}
                             for r in model["tornado"]]},
        "plots": plot_files,
        "skipped": skipped,
        "timings": timings,
    }


_CSS = """body{font-family:system-ui,sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;
color:#222}table{border-collapse:collapse;margin:1em 0;font-size:.9em}td,th{border:1px solid
#ccc;padding:.25em .5em;text-align:right;vertical-align:top}th{background:#f3f3f3}
td.l,th.l{text-align:left}img{max-width:100%}.note{color:#555;font-size:.85em}
.bad{color:#b00}.ok{color:#070}"""


def _table(head: list[str], rows: list[list[str]], left: int = 1) -> str:
    h = "".join(f'<th class="{"l" if i < left else ""}">{html.escape(c)}</th>'
                for i, c in enumerate(head))
    body = "".join("<tr>" + "".join(
        f'<td class="{"l" if i < left else ""}">{c}</td>' for i, c in enumerate(r)) + "</tr>"
        for r in rows)
    return f"<table><tr>{h}</tr>{body}</table>"


def _html(d: dict[str, Any], s: scenario.Scenario) -> str:
    e = html.escape
    t, mc = d["totals"], d["montecarlo"]
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>hashcore report: "
             f"{e(s.name)}</title><style>{_CSS}</style></head><body>",
             f"<h1>{e(s.name)}</h1><p class='note'>{e(d['generator'])}, "
             f"{e(d['created_utc'])}; scenario {e(s.origin)}</p>"]
    fleet = d["fleet"]
    parts.append("<h2>Summary (median market)</h2>")
    rows = [
        ["Fleet", ", ".join(f"{f['count']:,} x {e(f['model'])} ({f['hashrate_ths']:g} TH/s, "
                            f"{f['power_w']:,.0f} W)" for f in fleet)],
        ["Installed (at the meter)", f"{t['installed_mw']:,.2f} MW"],
        ["Capex", _fmt_usd(t["capex_usd"])],
        ["Electricity", f"USD {d['electricity_usd_per_kwh']:.4f}/kWh"],
        ["BTC mined", f"{t['btc_mined']:,.0f}"],
        ["Revenue", _fmt_usd(t["revenue_usd"])],
        ["Energy cost", _fmt_usd(t["energy_cost_usd"])],
        ["Opex", _fmt_usd(t["opex_usd"])],
        ["Profit before capex", _fmt_usd(t["profit_usd"])],
        [f"NPV at {t['discount_rate_per_year']:.0%}/yr", _fmt_usd(t["npv_usd"])],
        ["IRR", _fmt(t["irr_per_year"], ".1%", "none between -72 % and +12,800 % a year")],
        ["Payback", _fmt(t["payback_months"], ".1f", "not within the horizon")
         + (" months" if t["payback_months"] is not None else "")],
        ["Cash cost per BTC", _fmt_usd(t["cash_cost_per_btc_usd"], 1, "")],
        ["All-in cost per BTC (with capex)", _fmt_usd(t["all_in_cost_per_btc_usd"], 1, "")],
        ["Break-even BTC price (all on, with capex)",
         _fmt_usd(t["breakeven_btc_price_usd"], 1, "")],
        ["Break-even electricity (with capex)",
         _fmt(t["breakeven_electricity_usd_per_kwh"], ".4f") + " USD/kWh"],
        ["Break-even electricity (cash, no capex)",
         _fmt(t["cash_breakeven_electricity_usd_per_kwh"], ".4f") + " USD/kWh"],
        ["Mean hashprice", f"USD {t['hashprice_mean_usd_per_ph_day']:.2f}/PH/day"],
        ["Network at start", f"{d['network_start']['hashrate_ehs']:,.0f} EH/s: "
                             f"{e(d['network_start']['how'])}"],
    ]
    parts.append(_table(["", ""], rows, left=2))
    parts.append(f"<h2>Uncertainty ({mc['paths']:,} Monte Carlo paths, seed {mc['seed']})</h2>")
    mrows = []
    for key, label, spec in (("btc_mined", "BTC mined", ",.0f"),
                             ("revenue_usd", "Revenue, USD M", ",.0f"),
                             ("profit_usd", "Profit before capex, USD M", ",.0f"),
                             ("npv_usd", "NPV, USD M", ",.0f"),
                             ("irr_per_year", "IRR per year", ".1%"),
                             ("payback_months", "Payback, months", ".1f")):
        q = mc["totals"].get(key)
        if q is None:
            continue
        scale = 1e6 if key.endswith("_usd") else 1
        mrows.append([label] + [_fmt(None if q[k] is None else q[k] / scale, spec,
                                     "none" if key != "payback_months" else "never")
                                for k in ("p5", "p50", "p95")])
    parts.append(_table(["total", "P5", "P50", "P95"], mrows))
    parts.append(f"<p>Probability NPV &gt; 0: {mc['probability_npv_positive']:.1%}; "
                 f"probability of payback within the horizon: {mc['probability_payback']:.1%}."
                 "</p>")
    plots = d["plots"]
    for key, caption in (("profit_fan", "Monthly profit, P5/P50/P95"),
                         ("network_hashrate", "Network hash rate: measured and projected"),
                         ("tornado", "Sensitivity of NPV"),
                         ("efficiency", "This host vs ASICs")):
        if key in plots:
            parts.append(f"<h3>{e(caption)}</h3><img src='{e(plots[key])}' alt='{e(caption)}'>")
    if not plots:
        parts.append("<p class='note'>Plots were skipped: matplotlib is not installed "
                     "(<code>pip install 'hashcore[plot]'</code>).</p>")
    tor = d["tornado"]
    parts.append(f"<h2>Sensitivity (each input alone +/-{tor['swing']:.0%}; base NPV "
                 f"{_fmt_usd(tor['base_npv_usd'])})</h2>")
    parts.append(_table(["input", "low", "high", "NPV at low", "NPV at high"], [
        [e(r["label"]), num(r["low_value"]), num(r["high_value"]),
         _fmt_usd(r["npv_low_usd"]), _fmt_usd(r["npv_high_usd"])] for r in tor["rows"]]))
    parts.append("<h2>Month by month (median market)</h2>")
    m = d["monthly"]
    mrows = []
    for i, month in enumerate(d["months"]):
        mrows.append([month, f"{m['power_available_mw'][i]:,.0f}",
                      f"{m['fleet_hashrate_ehs'][i]:,.1f}", f"{m['share'][i]:.2%}",
                      f"{m['btc_mined'][i]:,.0f}", f"{m['hashprice_usd_per_ph_day'][i]:.2f}",
                      f"{m['revenue_usd'][i] / 1e6:,.1f}", f"{m['energy_cost_usd'][i] / 1e6:,.1f}",
                      f"{m['profit_usd'][i] / 1e6:,.1f}",
                      _fmt(m["breakeven_electricity_usd_per_kwh"][i], ".4f"),
                      _fmt(m["breakeven_btc_price_usd"][i], ",.0f")])
    parts.append(_table(["month", "MW", "farm EH/s", "share", "BTC", "hashprice USD/PH/d",
                         "revenue M", "energy M", "profit M", "b/e USD/kWh", "b/e BTC USD"],
                        mrows))
    parts.append("<h2>Assumptions and their sources</h2>")
    parts.append(_table(["field", "value", "source / assumption"],
                        [[f"<code>{e(a['field'])}</code>", e(a["value"]), e(a["note"])]
                         for a in d["scenario"]["assumptions"]], left=3))
    parts.append("<h2>Verification</h2>")
    v = d["verification"]
    vrows = [[e(r["network"]) + " genesis (shipped)", str(r["headers"]),
              "<span class='ok'>valid</span>" if r["ok"] and r["matches_params"]
              else f"<span class='bad'>{e(str(r['failure']))}</span>"] for r in v["shipped"]]
    vrows += [[e(r["file"]), f"{r['valid']:,}/{r['headers']:,}",
               "<span class='ok'>valid</span>" if r["ok"]
               else f"<span class='bad'>{e(str(r['failure']))}</span>"] for r in v["shared"]]
    parts.append(_table(["headers", "valid", "result"], vrows))
    if v["skipped_files"]:
        parts.append("<p class='note'>Not verified as chains: " + "; ".join(
            f"{e(x['file'])} ({e(x['why'])})" for x in v["skipped_files"]) + "</p>")
    b = d["bench"]
    parts.append("<h2>This host</h2>")
    parts.append(_table(["path", "threads", "MH/s", "J/TH"], [
        [e(r["implementation"] or r["path"]), str(r["threads"]),
         f"{r['median_rate_hs'] / 1e6:,.2f}", _fmt(r["joules_per_th"], ",.0f")]
        for r in b["rows"]]))
    if b.get("host"):
        h = b["host"]
        parts.append(f"<p>Best: {h['j_per_th']:,.0f} J/TH on {e(h['path'])} x{h['threads']} "
                     f"(energy: {e(h['energy_source'])}).</p>")
    elif b.get("host_why"):
        parts.append(f"<p class='note'>No J/TH for this host: {e(b['host_why'])}</p>")
    net = d["network"]
    if net:
        g = net["trailing_12m_growth_per_month"]
        parts.append(f"<h2>Network from headers</h2><p>{net['hashrate_ehs']:,.0f} EH/s "
                     f"({net['confidence']:.0%} interval {net['hashrate_low_ehs']:,.0f}-"
                     f"{net['hashrate_high_ehs']:,.0f}) at height {net['tip_height']} "
                     f"({e(net['tip_time_utc'])}), from {net['periods']} retarget periods"
                     + (f"; trailing 12-month growth {g:.2%}/month" if g is not None else "")
                     + ".</p>")
    if d["skipped"]:
        parts.append("<h2>Skipped</h2><ul>" + "".join(f"<li>{e(x)}</li>" for x in d["skipped"])
                     + "</ul>")
    tm = d["timings"]
    parts.append("<p class='note'>Timings: " + ", ".join(
        f"{k[:-2]} {v:.1f} s" for k, v in tm.items()) + ".</p></body></html>")
    return "\n".join(parts)
