"""Uncertainty: Monte Carlo market paths and a one-at-a-time sensitivity (tornado) table.

Paths: each month the log BTC price and the log hash rate of everyone else take a normal
step whose mean is the scenario's growth (``log(1 + g)``) and whose spread is its volatility;
the two shocks are correlated by ``network.price_correlation``. The median path is therefore
the deterministic case. Everything is an array of shape (paths, months): no Python loop over
paths, so 100,000 paths x 60 months take well under two seconds on one core
(``bench/bench_farm.py``). A seed makes a run reproducible bit for bit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from hashcore import farm, finance
from hashcore.errors import InputError
from hashcore.scenario import Scenario

PERCENTILES = (5.0, 50.0, 95.0)
CHUNK_PATHS = 8192  # paths per block: keeps each temporary in cache, memory bounded
MAX_CELLS = 100_000_000  # paths x months kept for percentiles: 2 x 800 MB of float64
_Z95 = 1.6448536269514722  # standard normal quantile at 0.95


@dataclass
class MonteCarloResult:
    paths: int
    seed: int
    monthly: dict[str, dict[str, np.ndarray]]  # key -> {"p5": (months,), "p50": ..., "p95": ...}
    totals: dict[str, dict[str, float | None]]  # key -> {"p5": x, "p50": y, "p95": z}
    probability_npv_positive: float
    probability_payback: float  # share of paths that pay back within the horizon
    samples: dict[str, np.ndarray] | None = None


@dataclass(frozen=True)
class _Drift:
    mu_price: float  # log step per month
    sd_price: float
    mu_net: float
    sd_net: float
    rho: float


def _drift(p: farm.FarmPlan) -> _Drift:
    v = p.scenario.values
    model = v["market.price_model"]
    g_price = 0.0 if model == "constant" else v["market.price_growth_per_year"]
    sig_price = v["market.price_volatility_per_year"] if model == "gbm" else 0.0
    return _Drift(mu_price=math.log1p(g_price) / 12.0, sd_price=sig_price / math.sqrt(12.0),
                  mu_net=math.log1p(v["network.growth_per_month"]),
                  sd_net=v["network.growth_volatility_per_month"],
                  rho=v["network.price_correlation"])


def _streams(seed: int) -> tuple[np.random.Generator, np.random.Generator]:
    """Independent price and network streams: path i is the same whatever the path count."""
    a, b = np.random.SeedSequence(seed).spawn(2)
    return np.random.default_rng(a), np.random.default_rng(b)


def _paths_block(p: farm.FarmPlan, d: _Drift, rng_p: np.random.Generator,
                 rng_n: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    months = p.months
    steps = np.arange(months, dtype=float)
    z_p = rng_p.standard_normal((n, months))
    z_n = rng_n.standard_normal((n, months))
    z_p[:, 0] = 0.0  # month 1 opens at the stated price and hash rate
    z_n[:, 0] = 0.0
    if d.rho:
        z_n *= math.sqrt(1.0 - d.rho * d.rho)
        z_n += d.rho * z_p
    z_p *= d.sd_price
    np.cumsum(z_p, axis=1, out=z_p)
    z_p += d.mu_price * steps + math.log(p.btc_price_usd)
    np.exp(z_p, out=z_p)
    z_n *= d.sd_net
    np.cumsum(z_n, axis=1, out=z_n)
    z_n += d.mu_net * steps + math.log(p.network_start_hs)
    np.exp(z_n, out=z_n)
    return z_p, z_n


def market_paths(p: farm.FarmPlan, paths: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(price_usd, others_hs), each (paths, months), exactly as ``simulate`` draws them."""
    d = _drift(p)
    rng_p, rng_n = _streams(seed)
    blocks = [_paths_block(p, d, rng_p, rng_n, min(CHUNK_PATHS, paths - i))
              for i in range(0, paths, CHUNK_PATHS)]
    return np.vstack([b[0] for b in blocks]), np.vstack([b[1] for b in blocks])


def lognormal_percentiles(p: farm.FarmPlan) -> dict[str, dict[str, np.ndarray]]:
    """Exact P5/P50/P95 of price and network hash rate per month (they are log-normal)."""
    d = _drift(p)
    steps = np.arange(p.months, dtype=float)
    out = {}
    for key, start, mu, sd, add in (
            ("btc_price_usd", p.btc_price_usd, d.mu_price, d.sd_price, 0.0),
            ("network_hashrate_ehs", p.network_start_hs, d.mu_net, d.sd_net, p.hashrate_hs)):
        centre = math.log(start) + mu * steps
        spread = sd * np.sqrt(steps)
        scale = farm.HASHES_PER_EH if key == "network_hashrate_ehs" else 1.0
        out[key] = {"p5": (np.exp(centre - _Z95 * spread) + add) / scale,
                    "p50": (np.exp(centre) + add) / scale,
                    "p95": (np.exp(centre + _Z95 * spread) + add) / scale}
    return out


def _row_percentiles(a: np.ndarray) -> dict[str, np.ndarray]:
    """Linear-interpolated P5/P50/P95 along axis 1 (numpy's default method).

    Partitions ``a`` in place (no copy of a paths-sized array): ``a`` is scrambled after.
    """
    n = a.shape[1]
    pos = [pc / 100.0 * (n - 1) for pc in PERCENTILES]
    ks = sorted({k for x in pos for k in (math.floor(x), min(math.floor(x) + 1, n - 1))})
    a.partition(ks, axis=1)
    part = a
    out = {}
    for pc, x in zip(PERCENTILES, pos, strict=True):
        lo, frac = math.floor(x), x - math.floor(x)
        hi = min(lo + 1, n - 1)
        out[f"p{int(pc)}"] = part[:, lo] + frac * (part[:, hi] - part[:, lo])
    return out


def _percentiles_1d(a: np.ndarray, worst: float) -> dict[str, float | None]:
    """P5/P50/P95 of one sample; NaN (never paid back, no IRR) ranks as ``worst``."""
    finite = np.isfinite(a)
    if finite.all():
        q = np.percentile(a, PERCENTILES)
    else:  # order statistics only: interpolating towards an infinity is meaningless
        q = np.percentile(np.where(finite, a, worst), PERCENTILES, method="inverted_cdf")
    return {f"p{int(pc)}": (float(x) if math.isfinite(x) else None)
            for pc, x in zip(PERCENTILES, q, strict=True)}


def simulate(p: farm.FarmPlan, paths: int | None = None, seed: int | None = None,
             irr: bool = True, keep_samples: bool = False) -> MonteCarloResult:
    """Draw ``paths`` market paths (default: the scenario's) and summarise them.

    Works in blocks of ``CHUNK_PATHS`` paths; only the per-month profit and BTC of every
    path are kept whole (for their percentiles), plus one number per path for each total.
    """
    v = p.scenario.values
    paths = v["montecarlo.paths"] if paths is None else int(paths)
    seed = v["montecarlo.seed"] if seed is None else int(seed)
    if paths < 1:
        raise InputError(f"Monte Carlo paths must be >= 1, got {paths}")
    if paths * p.months > MAX_CELLS:
        raise InputError(f"{paths:,} paths x {p.months} months is more than {MAX_CELLS:,} "
                         "path-months; use fewer paths")
    d = _drift(p)
    rng_p, rng_n = _streams(seed)
    months = p.months
    profit_t = np.empty((months, paths))  # month-major so each month's row is contiguous
    btc_t = np.empty((months, paths))
    totals_raw = {k: np.empty(paths) for k in ("btc_mined", "revenue_usd", "profit_usd",
                                                "npv_usd", "payback_months", "irr_per_year")}
    factors = (1.0 + finance.monthly_rate(v["finance.discount_rate_per_year"])) ** \
        -np.arange(1, months + 1)
    for i in range(0, paths, CHUNK_PATHS):
        n = min(CHUNK_PATHS, paths - i)
        price, others = _paths_block(p, d, rng_p, rng_n, n)
        out = farm.evaluate(p, price, others)
        profit = out["profit_usd"]
        profit_t[:, i:i + n] = profit.T
        btc_t[:, i:i + n] = out["btc"].T
        totals_raw["btc_mined"][i:i + n] = out["btc"].sum(axis=1)
        totals_raw["revenue_usd"][i:i + n] = out["revenue_usd"].sum(axis=1)
        totals_raw["profit_usd"][i:i + n] = profit.sum(axis=1)
        totals_raw["npv_usd"][i:i + n] = profit @ factors - p.capex_usd
        flows = farm.cash_flows(p, profit)
        totals_raw["payback_months"][i:i + n] = finance.payback_months(flows)
        totals_raw["irr_per_year"][i:i + n] = finance.irr(flows) if irr else np.nan
    monthly = lognormal_percentiles(p)
    # the share falls as others' hash rate rises, so its percentiles are exact too
    others_q = {q: monthly["network_hashrate_ehs"][q] * farm.HASHES_PER_EH - p.hashrate_hs
                for q in ("p5", "p95", "p50")}
    mine = p.hashrate_hs
    monthly["share"] = {"p5": mine / (others_q["p95"] + mine),
                        "p50": mine / (others_q["p50"] + mine),
                        "p95": mine / (others_q["p5"] + mine)}
    monthly["profit_usd"] = _row_percentiles(profit_t)
    monthly["btc_mined"] = _row_percentiles(btc_t)
    totals: dict[str, dict[str, float | None]] = {}
    for key, arr in totals_raw.items():
        if key == "irr_per_year" and not irr:
            continue
        # a path that never pays back ranks as the worst payback; no IRR ranks lowest
        worst = np.inf if key == "payback_months" else -np.inf
        totals[key] = _percentiles_1d(arr, worst)
    npv = totals_raw["npv_usd"]
    return MonteCarloResult(
        paths=paths, seed=seed, monthly=monthly, totals=totals,
        probability_npv_positive=float((npv > 0).mean()),
        probability_payback=float(np.isfinite(totals_raw["payback_months"]).mean()),
        samples=totals_raw if keep_samples else None)


# ---------------------------------------------------------------- tornado

# (label, field, how it is moved): "rel" = x (1 +/- swing); "clip" keeps it in range
TORNADO_INPUTS = (
    ("BTC price", "market.btc_price_usd"),
    ("Electricity price", "electricity.price"),
    ("Network hash rate at start", "network.hashrate_ehs"),
    ("Network growth per month", "network.growth_per_month"),
    ("Capex per machine", "fleet.capex_usd_per_machine"),
    ("Site capex per MW", "fleet.site_capex_usd_per_mw"),
    ("Opex per MW-month", "fleet.opex_usd_per_mw_month"),
    ("Power allocated", "power.mw"),
    ("Uptime", "power.uptime"),
    ("PUE", "power.pue"),
    ("Fees per block", "market.fees_btc_per_block"),
)


@dataclass
class TornadoRow:
    label: str
    field: str
    low_value: float
    high_value: float
    npv_low_usd: float  # NPV with the input at its low value
    npv_high_usd: float

    @property
    def swing_usd(self) -> float:
        return abs(self.npv_high_usd - self.npv_low_usd)


def _current(s: Scenario, p: farm.FarmPlan, key: str) -> tuple[str, float] | None:
    v = s.values
    if key == "electricity.price":
        path = ("electricity.price_usd_per_kwh" if v["electricity.price_usd_per_kwh"] is not None
                else "electricity.price_local_per_kwh")
        return path, v[path]
    if key == "network.hashrate_ehs":
        return key, p.network_start_hs / farm.HASHES_PER_EH
    if key == "fleet.capex_usd_per_machine":
        if len(p.fleet) != 1:
            return None
        return key, p.fleet[0].capex_usd_per_machine
    value = v[key]
    return (key, value) if value is not None else None


def tornado(scenario: Scenario, calibration: Any = None, swing: float | None = None
            ) -> tuple[float, list[TornadoRow]]:
    """Base NPV and, per input moved alone by +/- ``swing``, the NPV; widest first."""
    swing = scenario.values["sensitivity.swing"] if swing is None else swing
    base_plan = farm.plan(scenario, calibration)
    base = farm.run(base_plan).totals["npv_usd"]
    rows = []
    for label, key in TORNADO_INPUTS:
        cur = _current(scenario, base_plan, key)
        if cur is None or cur[1] == 0:
            continue
        path, value = cur
        if key == "electricity.price":
            unit = ("USD" if path == "electricity.price_usd_per_kwh"
                    else scenario.values["electricity.currency"])
            label = f"{label} ({unit}/kWh)"
        lo, hi = value * (1 - swing), value * (1 + swing)
        if path == "power.uptime":
            hi = min(hi, 1.0)
        if path == "power.pue":
            lo = max(lo, 1.0)
        npvs = []
        for x in (lo, hi):
            extra = {path: x}
            if path == "network.hashrate_ehs":
                extra["network.hashrate_source"] = "given"
            s2 = scenario.with_overrides(extra)
            npvs.append(farm.run(farm.plan(s2, calibration)).totals["npv_usd"])
        rows.append(TornadoRow(label, path, lo, hi, npvs[0], npvs[1]))
    rows.sort(key=lambda r: r.swing_usd, reverse=True)
    return base, rows
