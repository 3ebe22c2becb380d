"""The farm economics model: what a power allocation earns, month by month.

``plan`` turns a validated ``Scenario`` (and optionally a ``Calibration``) into everything that
does not depend on the market: the calendar, the block reward schedule, the fleet, its hash
rate, energy, opex and capex per month. ``evaluate`` then prices one or many market paths
(BTC price and the hash rate of everyone else) in one vectorized pass; the deterministic run
and every Monte Carlo path go through the same arithmetic.

Model, stated once:
* the farm's share of blocks is ``mine / (others + mine)``: its own hash rate joins the
  network (2 GW of modern machines is a tenth of it), never ``mine / others``;
* 144 blocks a day; the subsidy of each block follows the halving schedule by height
  (``hashcore.halving``) and a month's blocks are counted from the start height;
* a fixed fleet is bought at the start; each month the power available (``power.mw`` times
  the month's factor) runs the most efficient machines first, the rest idle;
* degradation lowers hash rate per machine, failures remove machines (not replaced); both
  compound from the start, evaluated at mid-month;
* availability = uptime x (1 - curtailment hours / hours in the month) scales hash rate and
  energy alike; energy is billed at the meter (miner power x PUE);
* with ``fleet.switch_off_when_unprofitable`` a model whose month's revenue does not cover
  its energy bill is switched off for that month (per path): it then earns and pays nothing
  but opex. The share is still computed with the whole fleet on (slightly conservative when
  only some models switch off);
* cash flows: capex now, then each month's profit at its end; no salvage value, no tax.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hashcore import finance, halving
from hashcore.errors import ScenarioError
from hashcore.scenario import ModelSpec, Scenario, resolve_model

HASHES_PER_TH = 1e12
HASHES_PER_PH = 1e15
HASHES_PER_EH = 1e18
DAYS_PER_MONTH_AVG = 365.25 / 12


@dataclass(frozen=True)
class FleetLine:
    """One model in the fleet, with the numbers the model uses (after any derating)."""

    model: str
    count: int
    hashrate_ths: float
    power_w: float
    capex_usd_per_machine: float
    derated: bool = False

    @property
    def j_per_th(self) -> float:
        """Joules per TH; infinite for a model whose machines all measured 0 TH/s."""
        return self.power_w / self.hashrate_ths if self.hashrate_ths > 0 else math.inf

    @property
    def facility_mw(self) -> float:
        return self.count * self.power_w / 1e6


@dataclass
class FarmPlan:
    """Everything the market does not change, per month (arrays of length ``months``)."""

    scenario: Scenario
    fleet: list[FleetLine]
    month_start: list[dt.date]
    days: np.ndarray
    heights: np.ndarray  # months + 1 boundaries
    calendar_month: np.ndarray  # 0 = January
    power_available_mw: np.ndarray
    machines_running: np.ndarray
    hashrate_hs: np.ndarray  # the farm's mean hash rate in the month
    model_hashrate_hs: np.ndarray  # (models, months), in merit order
    model_energy_kwh: np.ndarray  # (models, months)
    energy_kwh: np.ndarray
    energy_cost_usd: np.ndarray
    opex_usd: np.ndarray
    network_reward_btc: np.ndarray  # subsidy + fees of all blocks in the month
    subsidy_btc: np.ndarray
    farm_reward_factor: np.ndarray  # network reward after pool fee
    capex_usd: float
    installed_mw: float
    price_usd_per_kwh: float
    network_start_hs: float
    network_note: str
    btc_price_usd: float
    notes: list[str] = field(default_factory=list)

    @property
    def months(self) -> int:
        return len(self.days)

    def deterministic_paths(self) -> tuple[np.ndarray, np.ndarray]:
        """The median market: price and others' hash rate growing at their stated rates."""
        v = self.scenario.values
        m = np.arange(self.months, dtype=float)
        growth = 0.0 if v["market.price_model"] == "constant" else v["market.price_growth_per_year"]
        price = self.btc_price_usd * (1.0 + growth) ** (m / 12.0)
        network = self.network_start_hs * (1.0 + v["network.growth_per_month"]) ** m
        return price, network


def _add_months(day: dt.date, months: int) -> dt.date:
    y, mo = divmod(day.month - 1 + months, 12)
    year, month = day.year + y, mo + 1
    last = (dt.date(year + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1)).day
    return dt.date(year, month, min(day.day, last))


def build_fleet(scenario: Scenario, calibration: Any = None) -> tuple[list[FleetLine], list[str]]:
    """The fleet bought at the start: given counts, or as many of one model as the power runs."""
    v = scenario.values
    notes: list[str] = []
    if v["fleet.fill_model"] is not None:
        specs = [(resolve_model(v["fleet.fill_model"]), None)]
    else:
        specs = [(resolve_model(m.model, f"fleet.machines[{i}].model"), m.count)
                 for i, m in enumerate(scenario.machines)]
    derates = getattr(calibration, "fleet", None) or {}
    lines = []
    for spec, count in specs:
        th, w, derated = spec.hashrate_ths, spec.power_w, False
        d = derates.get(spec.name) or derates.get(spec.name.split(" ", 1)[-1])
        if d is not None:
            th *= d.hashrate_factor
            w *= d.power_factor if d.power_factor else 1.0
            derated = True
            notes.append(f"{spec.name}: derated by the calibration to {th:.1f} TH/s, {w:.0f} W")
        if count is None:
            factors = scenario.monthly_factor()
            level = max(factors) if v["fleet.size_to"] == "peak" else sum(factors) / 12
            count = int(math.floor(v["power.mw"] * level * 1e6 / (w * v["power.pue"]) + 1e-9))
        lines.append(FleetLine(spec.name, count, th, w, _capex(scenario, spec), derated))
    return lines, notes


def _capex(scenario: Scenario, spec: ModelSpec) -> float:
    given = scenario.values["fleet.capex_usd_per_machine"]
    if given is not None:
        return given
    if spec.price_usd is None:
        raise ScenarioError("fleet.capex_usd_per_machine",
                            f"missing: the catalogue has no price for {spec.name}")
    return spec.price_usd


def network_start(scenario: Scenario, calibration: Any = None) -> tuple[float, str]:
    """Others' hash rate at the start date (H/s) and a sentence saying where it came from."""
    v = scenario.values
    if v["network.hashrate_source"] == "given":
        hs = v["network.hashrate_ehs"] * HASHES_PER_EH
        return hs, f"given in the scenario: {v['network.hashrate_ehs']:,.0f} EH/s"
    net = getattr(calibration, "network", None)
    if net is None:
        raise ScenarioError("network.hashrate_source",
                            "is 'calibration' but no calibration with a network estimate "
                            "was given")
    tip = dt.datetime.fromisoformat(net.tip_time_utc.replace("Z", "+00:00")).date()
    gap_months = (v["scenario.start_date"] - tip).days / DAYS_PER_MONTH_AVG
    hs = net.hashrate_hs * (1.0 + v["network.growth_per_month"]) ** gap_months
    note = (f"calibrated from headers: {net.hashrate_hs / HASHES_PER_EH:,.0f} EH/s "
            f"at height {net.tip_height} ({tip}), grown {gap_months:+.1f} months at "
            f"{v['network.growth_per_month']:.2%}/month to {hs / HASHES_PER_EH:,.0f} EH/s")
    return hs, note


def plan(scenario: Scenario, calibration: Any = None) -> FarmPlan:
    """Resolve the scenario into per-month physical and cost arrays."""
    v = scenario.values
    months = v["scenario.months"]
    start = v["scenario.start_date"]
    starts = [_add_months(start, i) for i in range(months + 1)]
    days = np.array([(b - a).days for a, b in zip(starts[:-1], starts[1:], strict=True)],
                    dtype=float)
    hours = days * 24.0
    cal = np.array([d.month - 1 for d in starts[:-1]])
    factors = np.array(scenario.monthly_factor())[cal]
    power_mw = v["power.mw"] * factors
    pue = v["power.pue"]

    fleet, notes = build_fleet(scenario, calibration)
    t_years = (np.arange(months) + 0.5) / 12.0
    alive = (1.0 - v["fleet.failure_rate_per_year"]) ** t_years
    health = (1.0 - v["fleet.degradation_per_year"]) ** t_years
    avail = v["power.uptime"] * np.clip(1.0 - v["power.curtailment_hours_per_month"] / hours,
                                        0.0, 1.0)
    budget_w = power_mw * 1e6 / pue
    fleet = sorted(fleet, key=lambda f: f.j_per_th)  # merit order: best J/TH runs first
    running = np.zeros(months)
    model_hs = np.zeros((len(fleet), months))
    model_kwh = np.zeros((len(fleet), months))
    for k, line in enumerate(fleet):
        n = np.minimum(line.count * alive, budget_w / line.power_w)
        budget_w = budget_w - n * line.power_w
        running += n
        model_hs[k] = n * line.hashrate_ths * HASHES_PER_TH * health * avail
        model_kwh[k] = n * line.power_w * avail * pue * hours / 1000.0
    hashrate = model_hs.sum(axis=0)
    energy_kwh = model_kwh.sum(axis=0)
    price_kwh = scenario.price_usd_per_kwh
    installed_mw = sum(f.facility_mw for f in fleet) * pue
    opex = np.full(months, v["fleet.opex_usd_per_mw_month"] * installed_mw)
    capex = (sum(f.count * f.capex_usd_per_machine for f in fleet)
             + v["fleet.site_capex_usd_per_mw"] * installed_mw)

    blocks = days * halving.BLOCKS_PER_DAY
    heights = v["scenario.start_height"] + np.concatenate([[0], np.cumsum(blocks)]).astype(np.int64)
    subsidy = halving.subsidy_sums_btc(heights)
    reward = subsidy + v["market.fees_btc_per_block"] * blocks
    net_hs, net_note = network_start(scenario, calibration)
    return FarmPlan(
        scenario=scenario, fleet=fleet, month_start=starts[:-1], days=days, heights=heights,
        calendar_month=cal, power_available_mw=power_mw, machines_running=running,
        hashrate_hs=hashrate, model_hashrate_hs=model_hs, model_energy_kwh=model_kwh,
        energy_kwh=energy_kwh, energy_cost_usd=energy_kwh * price_kwh,
        opex_usd=opex, network_reward_btc=reward, subsidy_btc=subsidy,
        farm_reward_factor=reward * (1.0 - v["market.pool_fee"]), capex_usd=capex,
        installed_mw=installed_mw, price_usd_per_kwh=price_kwh, network_start_hs=net_hs,
        network_note=net_note, btc_price_usd=v["market.btc_price_usd"], notes=notes)


def evaluate(p: FarmPlan, price_usd: np.ndarray, others_hs: np.ndarray) -> dict[str, np.ndarray]:
    """Price market paths (shape (months,) or (paths, months)) against the plan.

    Returns share, btc, revenue_usd, energy_kwh, energy_cost_usd and profit_usd, each with the
    shape of the inputs (broadcast).
    """
    mine = p.hashrate_hs
    share = np.add(others_hs, mine)
    np.divide(mine, share, out=share)
    btc = share * p.farm_reward_factor
    revenue = btc * price_usd
    if not p.scenario.values["fleet.switch_off_when_unprofitable"]:
        kwh = np.broadcast_to(p.energy_kwh, revenue.shape)
        energy = np.broadcast_to(p.energy_cost_usd, revenue.shape)
    elif len(p.fleet) == 1:  # the common case, without per-model weights
        on = revenue > p.energy_cost_usd
        btc *= on
        revenue *= on
        kwh = on * p.energy_kwh
        energy = on * p.energy_cost_usd
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            weights = np.where(mine > 0, p.model_hashrate_hs / mine, 0.0)
        kept_btc = np.zeros(revenue.shape)
        kwh = np.zeros(revenue.shape)
        for w_k, kwh_k in zip(weights, p.model_energy_kwh, strict=True):
            on = revenue * w_k > kwh_k * p.price_usd_per_kwh
            kept_btc += np.where(on, btc * w_k, 0.0)
            kwh += np.where(on, kwh_k, 0.0)
        btc = kept_btc
        revenue = btc * price_usd
        energy = kwh * p.price_usd_per_kwh
    profit = revenue - energy
    profit -= p.opex_usd
    return {"share": share, "btc": btc, "revenue_usd": revenue, "energy_kwh": kwh,
            "energy_cost_usd": energy, "profit_usd": profit}


def cash_flows(p: FarmPlan, profit_usd: np.ndarray) -> np.ndarray:
    """``[-capex, profit_1, ..., profit_n]`` (per path when ``profit_usd`` is 2-D)."""
    profit = np.atleast_2d(profit_usd)
    out = np.empty((profit.shape[0], profit.shape[1] + 1))
    out[:, 0] = -p.capex_usd
    out[:, 1:] = profit
    return out[0] if np.ndim(profit_usd) == 1 else out


def hashprice_usd_per_ph_day(reward_btc_per_block: float | np.ndarray,
                             price_usd: float | np.ndarray,
                             network_hs: float | np.ndarray) -> float | np.ndarray:
    """Revenue of one PH/s for one day: block reward x 144 x price / network PH/s."""
    return (np.asarray(reward_btc_per_block) * halving.BLOCKS_PER_DAY * price_usd
            / (np.asarray(network_hs) / HASHES_PER_PH))


def network_hashrate_from_difficulty(difficulty: float) -> float:
    """The hash rate (H/s) that finds blocks every 600 s on average at ``difficulty``."""
    return difficulty * 2.0**32 / halving.TARGET_BLOCK_SPACING_S


@dataclass
class FarmResult:
    """The deterministic (median-market) run: per-month arrays and totals."""

    plan: FarmPlan
    monthly: dict[str, np.ndarray]
    totals: dict[str, float | None]


def run(p: FarmPlan) -> FarmResult:
    """The deterministic case: the market follows its stated median path.

    Break-even figures assume the whole fleet runs (as if nothing switched off): the monthly
    break-even electricity price is (revenue - opex) / kWh, the break-even BTC price is
    (energy + opex) / BTC; over the horizon capex is added (undiscounted).
    """
    price, others = p.deterministic_paths()
    out = evaluate(p, price, others)
    btc, revenue, profit = out["btc"], out["revenue_usd"], out["profit_usd"]
    btc_on = out["share"] * p.farm_reward_factor  # everything running
    revenue_on = btc_on * price
    costs_on = p.energy_cost_usd + p.opex_usd
    blocks = p.days * halving.BLOCKS_PER_DAY
    with np.errstate(divide="ignore", invalid="ignore"):
        monthly = {
            "power_available_mw": p.power_available_mw,
            "machines_running": p.machines_running,
            "fleet_hashrate_ehs": p.hashrate_hs / HASHES_PER_EH,
            "network_hashrate_ehs": (others + p.hashrate_hs) / HASHES_PER_EH,
            "share": out["share"],
            "btc_price_usd": price,
            "subsidy_btc_per_block": p.subsidy_btc / blocks,
            "btc_mined": btc,
            "revenue_usd": revenue,
            "energy_kwh": np.asarray(out["energy_kwh"], dtype=float),
            "energy_cost_usd": np.asarray(out["energy_cost_usd"], dtype=float),
            "opex_usd": p.opex_usd,
            "profit_usd": profit,
            "hashprice_usd_per_ph_day": hashprice_usd_per_ph_day(
                p.network_reward_btc / blocks, price, others + p.hashrate_hs),
            "cost_per_btc_usd": np.where(
                btc > 0, (out["energy_cost_usd"] + p.opex_usd) / btc, np.nan),
            "breakeven_electricity_usd_per_kwh": np.where(
                p.energy_kwh > 0, (revenue_on - p.opex_usd) / p.energy_kwh, np.nan),
            "breakeven_btc_price_usd": np.where(btc_on > 0, costs_on / btc_on, np.nan),
        }
    flows = cash_flows(p, profit)
    totals = _totals(p, monthly, float(btc_on.sum()), float(revenue_on.sum()), flows)
    return FarmResult(plan=p, monthly=monthly, totals=totals)


def _nan_to_none(x: float) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


def _totals(p: FarmPlan, m: dict[str, np.ndarray], btc_on: float, revenue_on: float,
            flows: np.ndarray) -> dict[str, float | None]:
    rate = p.scenario.values["finance.discount_rate_per_year"]
    btc = float(m["btc_mined"].sum())
    energy, opex = float(m["energy_cost_usd"].sum()), float(p.opex_usd.sum())
    kwh_on, energy_on = float(p.energy_kwh.sum()), float(p.energy_cost_usd.sum())
    div = (lambda a, b: a / b if b > 0 else None)  # noqa: E731
    return {
        "machines": float(sum(f.count for f in p.fleet)),
        "installed_mw": p.installed_mw,
        "capex_usd": p.capex_usd,
        "btc_mined": btc,
        "revenue_usd": float(m["revenue_usd"].sum()),
        "energy_kwh": float(m["energy_kwh"].sum()),
        "energy_cost_usd": energy,
        "opex_usd": opex,
        "profit_usd": float(m["profit_usd"].sum()),
        "net_cash_usd": float(flows.sum()),
        "cash_cost_per_btc_usd": div(energy + opex, btc),
        "all_in_cost_per_btc_usd": div(energy + opex + p.capex_usd, btc),
        "breakeven_btc_price_usd": div(energy_on + opex + p.capex_usd, btc_on),
        "breakeven_electricity_usd_per_kwh": div(revenue_on - opex - p.capex_usd, kwh_on),
        "cash_breakeven_electricity_usd_per_kwh": div(revenue_on - opex, kwh_on),
        "hashprice_mean_usd_per_ph_day": float(m["hashprice_usd_per_ph_day"].mean()),
        "npv_usd": float(finance.npv(flows, rate)),
        "irr_per_year": _nan_to_none(finance.irr(flows)),
        "payback_months": _nan_to_none(finance.payback_months(flows)),
        "discount_rate_per_year": rate,
    }
