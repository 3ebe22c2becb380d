"""PNG charts for the report. matplotlib is optional (the ``plot`` extra): ``available()``
says whether it imports, and nothing here is imported by the model itself.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np

EH = 1e18


def available() -> bool:
    """True when matplotlib imports (then every function here works headless)."""
    try:
        import matplotlib

        matplotlib.use("Agg", force=True)
        import matplotlib.pyplot  # noqa: F401
    except Exception:  # ImportError, or a broken install: the report says plots were skipped
        return False
    return True


def _plt():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    _plt().close(fig)
    return path


def network_hashrate(path: Path, history: list[Any], start: dt.date, months: list[dt.date],
                     projection: dict[str, np.ndarray], stated_ehs: float | None) -> Path:
    """Measured hash rate per retarget period (with its interval) and the scenario's fan."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(9, 4.5))
    if history:
        t = [dt.datetime.fromisoformat(p.end_time_utc.replace("Z", "+00:00")) for p in history]
        mid = np.array([p.hashrate_hs for p in history]) / EH
        lo = np.array([p.hashrate_low_hs for p in history]) / EH
        hi = np.array([p.hashrate_high_hs for p in history]) / EH
        ax.fill_between(t, lo, hi, color="tab:blue", alpha=0.25, lw=0)
        ax.plot(t, mid, color="tab:blue", lw=1, label="measured from headers (95 % interval)")
    ax.fill_between(months, projection["p5"], projection["p95"], color="tab:orange", alpha=0.25,
                    lw=0, label="scenario P5-P95")
    ax.plot(months, projection["p50"], color="tab:orange", lw=1.5, label="scenario P50")
    if stated_ehs:
        ax.plot([start], [stated_ehs], "k*", ms=9, label=f"stated at start: {stated_ehs:,.0f}")
    ax.set_yscale("log")
    ax.set_ylabel("network hash rate, EH/s (log)")
    ax.set_title("Bitcoin network hash rate: measured, then projected")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="upper left", fontsize=8)
    return _save(fig, path)


def profit_fan(path: Path, months: list[dt.date], fan: dict[str, np.ndarray],
               deterministic: np.ndarray) -> Path:
    """Monthly profit P5/P50/P95 across Monte Carlo paths, and the median-market case."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(9, 4.5))
    m = 1e6
    ax.fill_between(months, fan["p5"] / m, fan["p95"] / m, color="tab:green", alpha=0.25, lw=0,
                    label="P5-P95")
    ax.plot(months, fan["p50"] / m, color="tab:green", lw=1.5, label="P50")
    ax.plot(months, deterministic / m, color="k", lw=1, ls="--", label="median market")
    ax.axhline(0, color="grey", lw=0.8)
    ax.set_ylabel("profit per month, million USD")
    ax.set_title("Monthly profit (after energy and opex, before capex)")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="upper right", fontsize=8)
    return _save(fig, path)


def tornado(path: Path, base_npv: float, rows: list[Any], swing: float) -> Path:
    """NPV when each input alone moves by -/+ swing: widest bar on top."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(9, 0.45 * max(len(rows), 3) + 1.5))
    b = 1e9
    labels = [r.label for r in rows][::-1]
    for i, r in enumerate(rows[::-1]):
        lo, hi = r.npv_low_usd / b, r.npv_high_usd / b
        ax.barh(i, lo - base_npv / b, left=base_npv / b, color="tab:red", alpha=0.7)
        ax.barh(i, hi - base_npv / b, left=base_npv / b, color="tab:blue", alpha=0.7)
    ax.axvline(base_npv / b, color="k", lw=1)
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("NPV, billion USD")
    ax.set_title(f"Sensitivity: each input -{swing:.0%} (red) / +{swing:.0%} (blue)")
    ax.grid(True, axis="x", alpha=0.3)
    return _save(fig, path)


def efficiency(path: Path, asics: list[Any], host_j_per_th: float | None, host_label: str
               ) -> Path:
    """J/TH of every catalogue ASIC and of this host, log axis (lower is better)."""
    plt = _plt()
    rows = sorted(asics, key=lambda a: a.efficiency_j_per_th)
    names = [a.model for a in rows]
    vals = [a.efficiency_j_per_th for a in rows]
    colors = ["tab:blue"] * len(rows)
    if host_j_per_th:
        names.append(f"this host ({host_label})")
        vals.append(host_j_per_th)
        colors.append("tab:red")
    fig, ax = plt.subplots(figsize=(9, 0.28 * len(names) + 1.5))
    ax.barh(range(len(names)), vals, color=colors)
    ax.set_xscale("log")
    ax.set_yticks(range(len(names)), names, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("joules per terahash (log scale, lower is better)")
    ax.set_title("Energy per hash: this host vs ASICs")
    ax.grid(True, axis="x", which="both", alpha=0.3)
    return _save(fig, path)
